"""Label smoothing: soft probability targets built from class indices.

Both functions return probability targets with the class dimension at dim 1,
the layout that ``torch.nn.functional.cross_entropy`` expects for
probability targets: ``(N,)`` indices give ``(N, K)`` rows and
``(N, d1, ...)`` indices give ``(N, K, d1, ...)``.
"""

from __future__ import annotations

import torch

from .._validation import (
    check_choice,
    check_float_dtype,
    check_index_dtype,
    check_scalar,
    class_indices_hold,
    run_deferred,
)

ORDINAL_KERNELS = ("triangular", "uniform")


def smooth_labels(
    target: torch.Tensor,
    num_classes: int,
    alpha: float,
    *,
    dtype: torch.dtype = torch.float32,
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Uniformly smoothed one-hot targets.

    Each one-hot row keeps :math:`1 - \alpha` of its mass and spreads
    :math:`\alpha` evenly over all :math:`K` classes, the true one included:

    .. math::

        q_k = (1 - \alpha)\,[k = y] + \frac{\alpha}{K}.

    Cross-entropy against these rows equals PyTorch's built-in smoothing,
    ``F.cross_entropy(z, smooth_labels(y, K, a)) == F.cross_entropy(z, y, label_smoothing=a)``.

    Introduced by :cite:t:`szegedy2016`; studied by :cite:t:`muller2019`.

    Parameters
    ----------
    target : torch.Tensor
        Integer class indices of shape ``(N,)`` or ``(N, d1, ...)``, values in
        ``[0, num_classes)``.
    num_classes : int
        Number of classes :math:`K \ge 1`.
    alpha : float
        Smoothing strength in ``[0, 1]``; ``0`` gives one-hot rows and ``1``
        the uniform distribution.
    dtype : torch.dtype, default torch.float32
        Floating-point dtype of the result.
    validate_args : bool, default True
        Check that ``target`` holds class indices in ``[0, num_classes)``,
        reading it back from the device once. ``False`` skips that check: the
        call then never synchronises with an accelerator and runs on the
        ``meta`` device; an index out of range then gives a wrong row, never
        an error or a device-side assert. Shapes, dtypes and the other
        arguments are always checked.

    Returns
    -------
    torch.Tensor
        Probability targets of shape ``(N, K)`` or ``(N, K, d1, ...)`` on
        ``target``'s device; they sum to one along dim 1.

    Examples
    --------
    >>> smooth_labels(torch.tensor([0, 2]), num_classes=3, alpha=0.3)
    tensor([[0.8000, 0.1000, 0.1000],
            [0.1000, 0.1000, 0.8000]])
    """
    _check_label_arguments(target, num_classes, alpha, dtype, validate_args)
    shape = (target.shape[0], num_classes, *target.shape[1:])
    classes = torch.arange(num_classes, device=target.device).view(-1, *[1] * (target.dim() - 1))
    is_target = target.unsqueeze(1) == classes  # one-hot without scatter's index checks
    smoothed = torch.full(shape, alpha / num_classes, dtype=dtype, device=target.device)
    return smoothed.masked_fill_(is_target, 1.0 - alpha + alpha / num_classes)


def ordinal_smooth_labels(
    target: torch.Tensor,
    num_classes: int,
    alpha: float,
    *,
    kernel: str = "triangular",
    width: int = 1,
    dtype: torch.dtype = torch.float32,
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Label smoothing that only moves mass to neighbouring ranks.

    For ordered classes (ratings, severity grades, age bands), confusing rank
    :math:`y` with :math:`y \pm 1` is a smaller mistake than confusing it with
    a distant rank. These targets mix the one-hot row with a kernel
    :math:`\kappa_y` centred on the true rank instead of the uniform
    distribution:

    .. math::

        q_k = (1 - \alpha)\,[k = y] + \alpha\,\kappa_y(k), \qquad
        \kappa_y(k) = \frac{w(|k - y|)}{\sum_{j=0}^{K-1} w(|j - y|)},

    with weights that vanish beyond ``width`` ranks and never increase with
    the rank distance :math:`d`:

    - ``"triangular"``: :math:`w(d) = \mathrm{width} + 1 - d` for :math:`d \le \mathrm{width}`;
    - ``"uniform"``: :math:`w(d) = 1` for :math:`d \le \mathrm{width}`.

    The normalisation runs over the ranks that exist, so near the ends of the
    scale no mass leaves it and every row still sums to one. As in
    :func:`smooth_labels`, the true rank receives its own kernel share on top
    of :math:`1 - \alpha`; this keeps the peak at the true rank for every
    :math:`\alpha \in [0, 1]`, and with ``kernel="uniform"`` and
    ``width >= num_classes - 1`` the result equals :func:`smooth_labels`.

    Parameters
    ----------
    target : torch.Tensor
        Integer ranks of shape ``(N,)`` or ``(N, d1, ...)``, values in
        ``[0, num_classes)``.
    num_classes : int
        Number of ranks :math:`K \ge 1`.
    alpha : float
        Smoothing strength in ``[0, 1]``; ``0`` gives one-hot rows.
    kernel : {"triangular", "uniform"}, default "triangular"
        Shape of the weights over rank distance.
    width : int, default 1
        Largest rank distance that receives mass (an integer >= 1).
    dtype : torch.dtype, default torch.float32
        Floating-point dtype of the result.
    validate_args : bool, default True
        Check that ``target`` holds class indices in ``[0, num_classes)``,
        reading it back from the device once. ``False`` skips that check: the
        call then never synchronises with an accelerator and runs on the
        ``meta`` device; an index out of range then gives a wrong row, never
        an error or a device-side assert. Shapes, dtypes and the other
        arguments are always checked.

    Returns
    -------
    torch.Tensor
        Probability targets of shape ``(N, K)`` or ``(N, K, d1, ...)`` on
        ``target``'s device.

    Examples
    --------
    >>> ordinal_smooth_labels(torch.tensor([0, 2]), num_classes=5, alpha=0.4)
    tensor([[0.8667, 0.1333, 0.0000, 0.0000, 0.0000],
            [0.0000, 0.1000, 0.8000, 0.1000, 0.0000]])
    """
    check_choice(kernel, "kernel", ORDINAL_KERNELS)
    check_scalar(width, "width", integer=True, min_val=1)
    _check_label_arguments(target, num_classes, alpha, dtype, validate_args)
    ranks = torch.arange(num_classes, device=target.device)
    distance = (ranks - target.long().unsqueeze(-1)).abs()
    weights = _kernel_weights(distance, kernel, width).to(dtype)
    spread = weights / weights.sum(dim=-1, keepdim=True)
    one_hot = (distance == 0).to(dtype)
    smoothed = (1.0 - alpha) * one_hot + alpha * spread
    return smoothed.movedim(-1, 1).contiguous()


def _kernel_weights(distance: torch.Tensor, kernel: str, width: int) -> torch.Tensor:
    """Unnormalised weights ``w(d)``, zero beyond ``width``."""
    inside = distance <= width
    if kernel == "uniform":
        return inside.double()
    return torch.where(inside, width + 1 - distance, 0).double()


def _check_label_arguments(
    target: torch.Tensor,
    num_classes: int,
    alpha: float,
    dtype: torch.dtype,
    validate_args: bool,
) -> None:
    check_index_dtype(target, "target")
    if target.dim() < 1:
        raise ValueError("`target` must have shape (N,) or (N, d1, ...), got a 0-dim tensor")
    check_scalar(num_classes, "num_classes", integer=True, min_val=1)
    check_scalar(alpha, "alpha", min_val=0.0, max_val=1.0)
    check_float_dtype(dtype)
    if validate_args:
        run_deferred(class_indices_hold(target, num_classes, "target"))

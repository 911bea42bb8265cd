"""Free energy of a classifier's logits, a score for out-of-distribution detection."""

from __future__ import annotations

import math

import torch

from .._validation import check_floating, check_scalar, finite_holds, run_deferred


def energy_score(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    dim: int = -1,
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Free energy of the logits, one value per example.

    .. math::

        E(x; T) = -T \log \sum_{k=1}^K e^{z_k(x) / T}.

    Reading the logits as negative energies of the pairs :math:`(x, k)`
    :cite:p:`lecun2006`, :math:`E(x)` is the free energy of :math:`x`,
    which up to a constant is :math:`-\log p(x)` for the implied density.
    **Lower energy means more in-distribution**: :cite:t:`liu2020` flag an input as
    out-of-distribution when :math:`-E(x)` falls below a threshold. As
    :math:`T \to 0` the energy tends to :math:`-\max_k z_k`. The log-sum-exp is
    computed stably, so logits of magnitude 1e4 give finite values and
    gradients.

    Parameters
    ----------
    logits : torch.Tensor
        Finite logits with the classes along ``dim``, e.g. ``(N, K)``.
    temperature : float, default 1.0
        The temperature :math:`T > 0`.
    dim : int, default -1
        The class dimension (use ``dim=1`` for ``(N, K, d1, ...)`` layouts).
    validate_args : bool, default True
        Check that the logits are finite, reading them back from the device
        once. ``False`` skips that check: the call then never synchronises
        with an accelerator and runs on the ``meta`` device. Shapes, dtypes,
        ``temperature`` and ``dim`` are always checked.

    Returns
    -------
    torch.Tensor
        The energies, with ``dim`` removed: shape ``(N,)`` for ``(N, K)`` logits.

    Examples
    --------
    >>> energy_score(torch.tensor([[10.0, 0.0, 0.0], [1.0, 1.0, 1.0]]))
    tensor([-10.0001,  -2.0986])
    """
    check_floating(logits, "logits")
    if logits.dim() < 1:
        raise ValueError("`logits` must have a class dimension, got a 0-dim tensor")
    check_scalar(dim, "dim", integer=True)
    if not -logits.dim() <= dim < logits.dim():
        raise ValueError(f"`dim` must be in [{-logits.dim()}, {logits.dim()}), got {dim}")
    if logits.shape[dim] < 1:
        raise ValueError(f"`logits` must have at least one class along dim {dim}")
    check_scalar(
        temperature,
        "temperature",
        min_val=0.0,
        max_val=math.inf,
        include_min=False,
        include_max=False,
    )
    if validate_args:
        run_deferred(finite_holds(logits, "logits"))
    return -temperature * torch.logsumexp(logits / temperature, dim=dim)

"""Mixup: blend random pairs of inputs, and their targets, with one Beta-drawn weight."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from .._validation import (
    check_floating,
    check_scalar,
    check_tensor,
    distribution_holds,
    finite_holds,
    run_deferred,
)


class MixupBatch(NamedTuple):
    """A mixed batch returned by :func:`mixup`.

    - ``inputs``: mixed inputs, same shape and dtype as the original inputs;
    - ``targets``: mixed probability targets, same shape and dtype as the original targets;
    - ``lam``: the weight given to the batch in its original order (a Python float);
    - ``index``: the permutation pairing example ``i`` with example ``index[i]``.

    Examples
    --------
    >>> batch = mixup(torch.zeros(4, 1), torch.eye(4), generator=torch.Generator().manual_seed(0))
    >>> inputs, targets, lam, index = batch
    >>> 0.0 <= lam <= 1.0, sorted(index.tolist())
    (True, [0, 1, 2, 3])
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    lam: float
    index: torch.Tensor  # type: ignore[assignment]  # a field named like tuple.index


def mixup(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: float = 1.0,
    generator: torch.Generator | None = None,
    validate_args: bool = True,
) -> MixupBatch:
    r"""Mix a batch with a shuffled copy of itself.

    One weight :math:`\lambda \sim \mathrm{Beta}(\alpha, \alpha)` is drawn per
    batch together with a random permutation :math:`\pi`, and

    .. math::

        \tilde x_i = \lambda x_i + (1 - \lambda)\, x_{\pi(i)}, \qquad
        \tilde q_i = \lambda q_i + (1 - \lambda)\, q_{\pi(i)}.

    Because cross-entropy is linear in its target, training on
    :math:`\tilde q` is the same as weighting the losses of the two original
    labels by :math:`\lambda` and :math:`1 - \lambda`.

    See :cite:t:`zhang2018`.

    Parameters
    ----------
    inputs : torch.Tensor
        Floating-point batch of shape ``(N, ...)``.
    targets : torch.Tensor
        Probability targets of shape ``(N, K)`` or ``(N, K, d1, ...)``
        summing to one along dim 1. Class indices are rejected: turn them into
        rows first with ``F.one_hot(y, K).float()`` or
        :func:`~xenthelpers.targets.smooth_labels` (which also lets mixup and
        label smoothing be combined).
    alpha : float, default 1.0
        Concentration of the Beta distribution, > 0. ``1`` draws
        :math:`\lambda` uniformly; small values give weights near 0 or 1.
    generator : torch.Generator, optional
        Source of randomness for :math:`\lambda` and :math:`\pi`, which makes
        the batch reproducible; PyTorch's global generator when omitted.
        :math:`\lambda` is drawn by a NumPy ``Generator`` seeded from this
        generator, so the global NumPy state is neither used nor changed.
    validate_args : bool, default True
        Check that ``inputs`` are finite and ``targets`` hold probability
        rows, reading them back from the device once. ``False`` skips these
        checks; shapes, dtypes and ``alpha`` are always checked. Drawing the
        batch itself needs the host once, whatever ``validate_args``:
        :math:`\lambda` is returned as a Python float, so a ``generator`` on
        an accelerator is read once for its seed, and a permutation drawn by
        a CPU generator is copied once to an accelerator holding ``inputs``.
        Nothing reads ``inputs`` or ``targets``, so with
        ``validate_args=False`` the call runs on the ``meta`` device.

    Returns
    -------
    MixupBatch
        ``(inputs, targets, lam, index)``: the mixed tensors, :math:`\lambda`
        as a Python float, and :math:`\pi` as a long tensor on ``inputs``'s
        device.

    Examples
    --------
    >>> x = torch.arange(4.0).reshape(4, 1)
    >>> q = torch.eye(4)
    >>> batch = mixup(x, q, alpha=0.4, generator=torch.Generator().manual_seed(0))
    >>> expected = batch.lam * x + (1 - batch.lam) * x[batch.index]
    >>> torch.allclose(batch.inputs, expected)
    True
    >>> batch.targets.sum(dim=1)
    tensor([1., 1., 1., 1.])
    """
    _check_mixup_arguments(inputs, targets, alpha)
    if validate_args:
        run_deferred(finite_holds(inputs, "inputs"), distribution_holds(targets, "targets", dim=1))
    device = torch.device("cpu") if generator is None else generator.device
    seed = int(torch.randint(2**62, (), generator=generator, device=device))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))
    index = torch.randperm(inputs.shape[0], generator=generator, device=device).to(inputs.device)
    mixed_targets = _mix(targets, index.to(targets.device), lam)
    return MixupBatch(_mix(inputs, index, lam), mixed_targets, lam, index)


def _mix(batch: torch.Tensor, index: torch.Tensor, lam: float) -> torch.Tensor:
    return lam * batch + (1.0 - lam) * batch[index]


def _check_mixup_arguments(inputs: torch.Tensor, targets: torch.Tensor, alpha: float) -> None:
    """The metadata part of the checks: ``alpha``, dtypes and shapes."""
    check_scalar(
        alpha, "alpha", min_val=0.0, max_val=math.inf, include_min=False, include_max=False
    )
    check_floating(inputs, "inputs")
    if inputs.dim() < 1 or inputs.shape[0] < 1:
        raise ValueError(
            f"`inputs` must have shape (N, ...) with N >= 1, got {tuple(inputs.shape)}"
        )
    check_tensor(targets, "targets")
    if not targets.is_floating_point():
        raise ValueError(
            "`targets` must hold probability rows, got integer class indices; "
            "convert them first with F.one_hot(targets, K).float() or smooth_labels"
        )
    if targets.dim() < 2:
        raise ValueError(
            f"`targets` must have shape (N, K) or (N, K, d1, ...), got {tuple(targets.shape)}"
        )
    if targets.shape[0] != inputs.shape[0]:
        raise ValueError(
            f"`targets` and `inputs` must have the same batch size, "
            f"got {targets.shape[0]} and {inputs.shape[0]}"
        )

"""``nn.Module`` wrappers of the losses, for ``nn.Sequential``-style code and configs.

Each module checks its options once, in ``__init__``, keeps them as
attributes and calls the matching function in ``forward``, as
``torch.nn.CrossEntropyLoss`` does for
``torch.nn.functional.cross_entropy``. Tensor options (class weights, a
prior) are buffers, so that ``.to(device)`` moves them with the module.
"""

from __future__ import annotations

import torch
from torch import nn

from .._reduction import DistillationReduction, Reduction
from .._validation import (
    check_non_negative,
    check_positive,
    check_prior,
    check_reduction,
    check_unit_interval,
)
from .contrastive import info_nce
from .distillation import DISTILLATION_REDUCTIONS, distillation_loss
from .logit_adjustment import logit_adjusted_cross_entropy
from .masked import masked_binary_cross_entropy
from .sigmoid_focal import sigmoid_focal_loss


def _describe(values: torch.Tensor | None) -> str:
    """A short, readable rendering of an optional vector option."""
    if values is None:
        return "None"
    if values.numel() <= 6:
        return "[" + ", ".join(f"{v:.4g}" for v in values.tolist()) + "]"
    return f"<{values.numel()} values>"


class SigmoidFocalLoss(nn.Module):
    r"""Module form of :func:`~xenthelpers.losses.sigmoid_focal_loss`.

    Parameters
    ----------
    gamma : float, default 2.0
        Focusing parameter :math:`\gamma \ge 0`.
    alpha : float or None, default 0.25
        Weight of the positives in :math:`[0, 1]`; ``None`` for no weighting.
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch
    >>> criterion = SigmoidFocalLoss()
    >>> criterion
    SigmoidFocalLoss(gamma=2.0, alpha=0.25, reduction='mean')
    >>> criterion(torch.zeros(2), torch.tensor([1.0, 0.0]))
    tensor(0.0866)
    """

    def __init__(
        self, gamma: float = 2.0, alpha: float | None = 0.25, reduction: Reduction = "mean"
    ) -> None:
        super().__init__()
        check_non_negative(gamma, "gamma")
        if alpha is not None:
            check_unit_interval(alpha, "alpha")
        check_reduction(reduction)
        self.gamma = float(gamma)
        self.alpha = None if alpha is None else float(alpha)
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return ``sigmoid_focal_loss(logits, target, ...)`` with this module's options."""
        return sigmoid_focal_loss(
            logits, target, gamma=self.gamma, alpha=self.alpha, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        """The options, as shown by ``repr(module)``."""
        return f"gamma={self.gamma}, alpha={self.alpha}, reduction={self.reduction!r}"


class DistillationLoss(nn.Module):
    r"""Module form of :func:`~xenthelpers.losses.distillation_loss`.

    Parameters
    ----------
    temperature : float, default 4.0
        Softening temperature :math:`T > 0`.
    reduction : {"batchmean", "sum", "mean", "none"}, default "batchmean"

    Examples
    --------
    >>> import torch
    >>> criterion = DistillationLoss(temperature=2.0)
    >>> criterion
    DistillationLoss(temperature=2.0, reduction='batchmean')
    >>> criterion(torch.zeros(1, 3), torch.tensor([[4.0, 1.0, 0.0]]))
    tensor(1.3865)
    """

    def __init__(
        self, temperature: float = 4.0, reduction: DistillationReduction = "batchmean"
    ) -> None:
        super().__init__()
        check_positive(temperature, "temperature")
        check_reduction(reduction, DISTILLATION_REDUCTIONS)
        self.temperature = float(temperature)
        self.reduction = reduction

    def forward(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
        """Return ``distillation_loss(student_logits, teacher_logits, ...)``."""
        return distillation_loss(
            student_logits,
            teacher_logits,
            temperature=self.temperature,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        """The options, as shown by ``repr(module)``."""
        return f"temperature={self.temperature}, reduction={self.reduction!r}"


class InfoNCELoss(nn.Module):
    r"""Module form of :func:`~xenthelpers.losses.info_nce`.

    Parameters
    ----------
    temperature : float, default 0.1
        Temperature :math:`\tau > 0` dividing the similarities.
    normalize : bool, default True
        Use cosine similarities (``False``: dot products).
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch
    >>> criterion = InfoNCELoss(temperature=1.0)
    >>> criterion
    InfoNCELoss(temperature=1.0, normalize=True, reduction='mean')
    >>> criterion(torch.eye(2), torch.eye(2))
    tensor(0.3133)
    """

    def __init__(
        self, temperature: float = 0.1, normalize: bool = True, reduction: Reduction = "mean"
    ) -> None:
        super().__init__()
        check_positive(temperature, "temperature")
        if not isinstance(normalize, bool):
            raise ValueError(f"`normalize` must be True or False, got {normalize!r}")
        check_reduction(reduction)
        self.temperature = float(temperature)
        self.normalize = normalize
        self.reduction = reduction

    def forward(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Return ``info_nce(queries, keys, ...)`` with this module's options."""
        return info_nce(
            queries,
            keys,
            temperature=self.temperature,
            normalize=self.normalize,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        """The options, as shown by ``repr(module)``."""
        return (
            f"temperature={self.temperature}, normalize={self.normalize}, "
            f"reduction={self.reduction!r}"
        )


class LogitAdjustedCrossEntropyLoss(nn.Module):
    r"""Module form of :func:`~xenthelpers.losses.logit_adjusted_cross_entropy`.

    Parameters
    ----------
    prior : Tensor
        Training class frequencies, a length-``K`` probability vector with
        strictly positive entries, kept as a buffer.
    tau : float, default 1.0
        Scale :math:`\tau \ge 0` of the adjustment.
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch
    >>> criterion = LogitAdjustedCrossEntropyLoss(torch.tensor([0.9, 0.1]))
    >>> criterion
    LogitAdjustedCrossEntropyLoss(prior=[0.9, 0.1], tau=1.0, reduction='mean')
    >>> criterion(torch.zeros(2, 2), torch.tensor([0, 1]))
    tensor(1.2040)
    """

    prior: torch.Tensor

    def __init__(
        self, prior: torch.Tensor, tau: float = 1.0, reduction: Reduction = "mean"
    ) -> None:
        super().__init__()
        check_prior(prior)
        check_non_negative(tau, "tau")
        check_reduction(reduction)
        self.tau = float(tau)
        self.reduction = reduction
        self.register_buffer("prior", prior)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return ``logit_adjusted_cross_entropy(logits, target, prior, ...)``."""
        return logit_adjusted_cross_entropy(
            logits, target, self.prior, tau=self.tau, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        """The options, as shown by ``repr(module)``."""
        return f"prior={_describe(self.prior)}, tau={self.tau}, reduction={self.reduction!r}"


class MaskedBCEWithLogitsLoss(nn.Module):
    r"""Module form of :func:`~xenthelpers.losses.masked_binary_cross_entropy`.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch
    >>> criterion = MaskedBCEWithLogitsLoss()
    >>> criterion
    MaskedBCEWithLogitsLoss(reduction='mean')
    >>> target = torch.tensor([1.0, float("nan")])
    >>> criterion(torch.zeros(2), target, torch.tensor([True, False]))
    tensor(0.6931)
    """

    def __init__(self, reduction: Reduction = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.reduction = reduction

    def forward(
        self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Return ``masked_binary_cross_entropy(logits, target, mask, ...)``."""
        return masked_binary_cross_entropy(logits, target, mask, reduction=self.reduction)

    def extra_repr(self) -> str:
        """The options, as shown by ``repr(module)``."""
        return f"reduction={self.reduction!r}"

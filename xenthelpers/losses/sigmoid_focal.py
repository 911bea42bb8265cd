"""Binary and multi-label (sigmoid) focal loss, and its module form."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._reduction import Reduction, reduce_loss
from .._validation import (
    check_floating,
    check_reduction,
    check_same_shape,
    check_scalar,
    result_finite_holds,
    run_deferred,
    unit_interval_holds,
)
from ._module import LossModule


def sigmoid_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | None = 0.25,
    reduction: Reduction = "mean",
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Sigmoid focal loss for binary and multi-label targets.

    Every element of ``logits`` is an independent binary logit :math:`x` with
    probability :math:`p = \sigma(x)`. For a target :math:`t \in [0, 1]` let
    :math:`p_t = p\,t + (1 - p)(1 - t)` and :math:`\alpha_t = \alpha\,t +
    (1 - \alpha)(1 - t)`; each element contributes

    .. math::

        \ell = \alpha_t \, (1 - p_t)^{\gamma} \,
        \bigl[-t \log p - (1 - t) \log(1 - p)\bigr],

    the binary cross-entropy scaled by the modulating factor and the class
    balance weight. These are the semantics of torchvision's
    ``sigmoid_focal_loss``, with ``alpha=None`` (instead of a negative number)
    to switch the weighting off.

    Parameters
    ----------
    logits : Tensor
        Logits of any shape.
    target : Tensor
        Floating-point targets in ``[0, 1]`` (hard 0/1 labels or soft
        probabilities), of the same shape as ``logits``.
    gamma : float, default 2.0
        Focusing parameter :math:`\gamma \ge 0`; 0 gives (weighted) binary
        cross-entropy.
    alpha : float or None, default 0.25
        Weight :math:`\alpha \in [0, 1]` of the positives; negatives get
        :math:`1 - \alpha`. ``None`` weights both by 1.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the element losses, shaped like ``logits``;
        ``"sum"`` adds them up; ``"mean"`` averages them over all elements
        (NaN for an empty input, whose sum is 0, as for
        ``torch.nn.functional.binary_cross_entropy_with_logits``).
    validate_args : bool, default True
        Check the values of the inputs (targets in ``[0, 1]``, a finite loss
        everywhere, which rules out NaN and infinite logits), reading them back
        from the device once. ``False`` skips these checks: the call then never
        synchronises with an accelerator and ``torch.compile`` traces it without
        a graph break. Shapes, dtypes and options are always checked.

    Returns
    -------
    Tensor
        A scalar, or the element losses for ``reduction="none"``.

    Notes
    -----
    The factor is evaluated in log space, :math:`(1 - p_t)^\gamma =
    \exp\bigl(\gamma \log[(1 - t)\,\sigma(x) + t\,\sigma(-x)]\bigr)`, with
    ``logsigmoid`` and ``logaddexp`` (a hard target makes one of the two
    terms :math:`\log 0 = -\infty`, which ``logaddexp`` drops with a zero
    gradient). The gradient with respect to the logits is therefore finite
    everywhere, also for confident correct predictions with
    :math:`\gamma < 1`, where the derivative of :math:`(1 - p_t)^\gamma`
    computed from probabilities is infinite, and it keeps its relative
    precision there. The target is treated as data: a gradient with respect
    to a soft target is defined only strictly inside :math:`(0, 1)`.

    kornia's ``binary_focal_loss_with_logits`` agrees for hard 0/1 targets
    but not for soft ones: it modulates the positive and the negative term
    separately, by :math:`(1 - p)^\gamma` and :math:`p^\gamma`, where this
    function (like torchvision) applies :math:`(1 - p_t)^\gamma` to the whole
    cross-entropy.

    References
    ----------
    :cite:t:`lin2017`.

    Examples
    --------
    >>> import torch
    >>> logits = torch.tensor([3.0, -3.0, 0.5])
    >>> target = torch.tensor([1.0, 1.0, 0.0])
    >>> sigmoid_focal_loss(logits, target, reduction="none")
    tensor([2.7321e-05, 6.9157e-01, 2.8306e-01])
    """
    check_floating(logits, "logits")
    check_floating(target, "target")
    check_same_shape(logits, target, "logits", "target")
    _check_options(gamma, alpha, reduction)

    log_p, log_not_p = F.logsigmoid(logits), F.logsigmoid(-logits)
    # Cross-entropy from the two log-sigmoids rather than binary_cross_entropy_with_logits,
    # whose gradient sigmoid(x) - t cancels to 0 for confident right predictions; here
    # the gradient keeps its relative precision, which matters once it is scaled down.
    loss = -(target * log_p + (1 - target) * log_not_p)
    if gamma != 0:
        log_one_minus_p_t = torch.logaddexp(
            log_p + torch.log1p(-target), log_not_p + torch.log(target)
        )
        loss = loss * torch.exp(gamma * log_one_minus_p_t)
    if alpha is not None:
        loss = loss * ((1 - alpha) + (2 * alpha - 1) * target)
    if validate_args:
        run_deferred(
            unit_interval_holds(target, "target"), result_finite_holds(loss, {"logits": logits})
        )
    return reduce_loss(loss, reduction)


def _check_options(gamma: float, alpha: float | None, reduction: str) -> None:
    """The option checks, which read no tensor data: also run once by the module form."""
    check_scalar(gamma, "gamma", min_val=0.0, max_val=float("inf"), include_max=False)
    if alpha is not None:
        check_scalar(alpha, "alpha", min_val=0.0, max_val=1.0)
    check_reduction(reduction)


class SigmoidFocalLoss(LossModule):
    r"""Module form of :func:`sigmoid_focal_loss`.

    Parameters
    ----------
    gamma : float, default 2.0
        Focusing parameter :math:`\gamma \ge 0`.
    alpha : float or None, default 0.25
        Weight of the positives in :math:`[0, 1]`; ``None`` for no weighting.
    reduction : {"mean", "sum", "none"}, default "mean"
    validate_args : bool, default True
        Passed on to :func:`sigmoid_focal_loss`.

    Examples
    --------
    >>> import torch
    >>> criterion = SigmoidFocalLoss()
    >>> criterion
    SigmoidFocalLoss(gamma=2.0, alpha=0.25, reduction='mean')
    >>> criterion(torch.zeros(2), torch.tensor([1.0, 0.0]))
    tensor(0.0866)
    """

    function = staticmethod(sigmoid_focal_loss)
    options = ("gamma", "alpha")

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | None = 0.25,
        reduction: Reduction = "mean",
        validate_args: bool = True,
    ) -> None:
        _check_options(gamma, alpha, reduction)
        super().__init__(
            gamma=float(gamma),
            alpha=None if alpha is None else float(alpha),
            reduction=reduction,
            validate_args=validate_args,
        )

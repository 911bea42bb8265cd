"""Binary and multi-label (sigmoid) focal loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._reduction import Reduction, reduce_loss
from .._validation import (
    check_binary_targets,
    check_floating,
    check_non_negative,
    check_not_empty,
    check_reduction,
    check_result_finite,
    check_same_shape,
    check_unit_interval,
)


def sigmoid_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | None = 0.25,
    reduction: Reduction = "mean",
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
        ``"mean"`` averages over all elements; ``"none"`` returns the element
        losses, shaped like ``logits``.

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
    Lin, T.-Y., Goyal, P., Girshick, R., He, K., and Dollár, P. (2017).
    Focal Loss for Dense Object Detection. *ICCV*.

    Examples
    --------
    >>> import torch
    >>> logits = torch.tensor([3.0, -3.0, 0.5])
    >>> target = torch.tensor([1.0, 1.0, 0.0])
    >>> sigmoid_focal_loss(logits, target, reduction="none")
    tensor([2.7321e-05, 6.9157e-01, 2.8306e-01])
    """
    check_floating(logits, "logits")
    check_not_empty(logits, "logits")
    check_binary_targets(target, "target")
    check_same_shape(logits, target, "logits", "target")
    check_non_negative(gamma, "gamma")
    if alpha is not None:
        check_unit_interval(alpha, "alpha")
    check_reduction(reduction)

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
    check_result_finite(loss, logits=logits)
    return reduce_loss(loss, reduction)

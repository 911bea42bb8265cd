"""Multi-class (softmax) focal loss."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .._reduction import Reduction
from .._validation import (
    check_class_logits,
    check_class_weights,
    check_non_negative,
    check_not_empty,
    check_reduction,
    check_target_log_probs,
)


class _FocalTerm(torch.autograd.Function):
    r"""The element loss :math:`-(1 - p)^\gamma \log p` as a function of :math:`\ell = \log p`.

    Plain autograd multiplies :math:`\gamma (1 - p)^{\gamma - 1}`, which is infinite
    at :math:`p = 1` when :math:`\gamma < 1`, by :math:`\ell = 0`, and returns NaN.
    The backward uses the closed form of the derivative instead,

    .. math::

        \frac{d}{d\ell}\bigl[-(1 - p)^\gamma \ell\bigr]
        = -(1 - p)^\gamma \Bigl(1 + \gamma\, p\, \frac{\ell}{e^\ell - 1}\Bigr),

    which is finite for every :math:`\ell \le 0` (the ratio tends to 1 as
    :math:`\ell \to 0`). The derivative is evaluated once, in the forward pass;
    a double backward (``create_graph=True``) evaluates it again with
    differentiable operations.
    """

    @staticmethod
    def forward(ctx: Any, log_p: torch.Tensor, gamma: float) -> torch.Tensor:
        term, derivative = _focal_term_and_derivative(log_p, gamma)
        ctx.gamma = gamma
        ctx.save_for_backward(log_p, derivative)
        return term

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        log_p, derivative = ctx.saved_tensors
        if torch.is_grad_enabled():
            derivative = _focal_term_and_derivative(log_p, ctx.gamma)[1]
        return grad * derivative, None


def _focal_term_and_derivative(
    log_p: torch.Tensor, gamma: float
) -> tuple[torch.Tensor, torch.Tensor]:
    # A -inf log-probability (a masked-out class at an ignored position) would
    # otherwise meet p = 0 in the product p * log p below.
    finite_log_p = log_p.clamp(min=torch.finfo(log_p.dtype).min)
    p_minus_one = torch.expm1(finite_log_p)  # keeps the precision of 1 - p when p -> 1
    modulation = (-p_minus_one).pow(gamma)
    # log p / (p - 1) tends to 1 as p -> 1; at p = 1 exactly the clamp turns 0/0
    # into 0, harmless because the ratio is then multiplied by gamma * 0**gamma = 0.
    ratio = finite_log_p / p_minus_one.clamp(max=-_smallest_subnormal(log_p.dtype))
    derivative = -modulation * (1 + gamma * finite_log_p.exp() * ratio)
    return -modulation * log_p, derivative


def _smallest_subnormal(dtype: torch.dtype) -> float:
    info = torch.finfo(dtype)
    return info.smallest_normal * info.eps


def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    alpha: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Softmax focal loss: cross-entropy that down-weights well-classified examples.

    With :math:`p_y = \operatorname{softmax}(z)_y` the predicted probability of
    the target class, each element contributes

    .. math::

        \ell = -\alpha_y \, (1 - p_y)^{\gamma} \log p_y .

    The modulating factor :math:`(1 - p_y)^\gamma` shrinks the loss of examples
    the model already gets right (:math:`p_y \to 1`), so that many easy
    examples do not swamp the gradient of the few hard ones. With
    :math:`\gamma = 0` and no ``alpha`` this is exactly
    ``torch.nn.functional.cross_entropy``, for every reduction.

    Parameters
    ----------
    logits : Tensor
        Unnormalised scores of shape ``(N, K)`` or ``(N, K, d1, ...)``, classes
        along dim 1, as for ``torch.nn.functional.cross_entropy``. A logit
        may be ``-inf`` to mask a class out, except for the target class.
    target : Tensor
        Integer class indices in ``[0, K)`` of shape ``(N,)`` or ``(N, d1, ...)``;
        entries equal to ``ignore_index`` are skipped.
    gamma : float, default 2.0
        Focusing parameter :math:`\gamma \ge 0`; 0 turns the modulation off.
    alpha : Tensor, optional
        Class weights :math:`\alpha_k`, a length-``K`` tensor of finite,
        non-negative numbers; ``None`` weights every class by 1.
    ignore_index : int, default -100
        Target value whose elements contribute nothing and are not counted.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the element losses, shaped like ``target``, with 0
        at ignored elements; ``"sum"`` adds them up; ``"mean"`` divides that sum
        by the number of elements that are not ignored.

    Returns
    -------
    Tensor
        A scalar, or the element losses for ``reduction="none"``.

    Notes
    -----
    ``"mean"`` divides by the plain count of non-ignored elements, whatever
    ``alpha`` is. ``torch.nn.functional.cross_entropy`` with ``weight=w``
    divides by :math:`\sum_i w_{y_i}` instead, so with ``gamma=0`` and
    ``alpha=w`` the two agree for ``"sum"`` and ``"none"`` but their means
    differ by the factor :math:`\sum_i w_{y_i} / n`. If every element is
    ignored, ``"mean"`` returns 0 (with zero gradient) where
    ``torch.nn.functional.cross_entropy`` returns NaN.

    The gradient is finite everywhere, including :math:`p_y \to 1` with
    :math:`0 < \gamma < 1`, where the derivative of :math:`(1 - p_y)^\gamma`
    alone is infinite. The target log-probabilities come from one call of
    ``torch.nn.functional.cross_entropy`` with ``reduction="none"`` (no
    one-hot tensor), and the focal factor is applied to those ``N`` values
    only, so time and memory stay close to those of plain cross-entropy.

    References
    ----------
    Lin, T.-Y., Goyal, P., Girshick, R., He, K., and Dollár, P. (2017).
    Focal Loss for Dense Object Detection. *ICCV*.

    Examples
    --------
    An easy example (first row) loses almost all of its loss, a hard one
    (second row) keeps most of it:

    >>> import torch
    >>> import torch.nn.functional as F
    >>> logits = torch.tensor([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> target = torch.tensor([0, 2])
    >>> F.cross_entropy(logits, target, reduction="none")
    tensor([0.0949, 1.5514])
    >>> focal_loss(logits, target, gamma=2.0, reduction="none")
    tensor([7.7842e-04, 9.6350e-01])
    >>> torch.allclose(focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target))
    True
    """
    check_class_logits(logits, target, ignore_index=ignore_index)
    check_not_empty(logits, "logits")
    check_non_negative(gamma, "gamma")
    check_reduction(reduction)
    if alpha is not None:
        check_class_weights(alpha, logits.shape[1], "alpha")

    valid = target != ignore_index
    safe_target = torch.where(valid, target, 0).long()
    # The fused cross-entropy kernel gives -log p_y without a full-size one-hot or gather.
    log_p = -F.cross_entropy(logits, safe_target, reduction="none")
    check_target_log_probs(log_p, valid, logits)

    loss = torch.where(valid, _FocalTerm.apply(log_p, float(gamma)), 0.0)
    if alpha is not None:
        loss = loss * alpha.to(device=logits.device, dtype=logits.dtype)[safe_target]
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / valid.sum().clamp(min=1)

"""Multi-class (softmax) focal loss: the model for adding a loss to the package.

A loss is one file: the functional form (checks, computation, one call of
:func:`~xenthelpers._reduction.reduce_loss`) and its ``nn.Module`` wrapper beside it.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F

from .._reduction import Reduction, reduce_loss
from .._validation import (
    Deferred,
    check_class_logits_shape,
    check_class_weights_shape,
    check_reduction,
    check_scalar,
    class_indices_hold,
    class_weights_hold,
    run_deferred,
    target_log_probs_hold,
)
from ._module import LossModule


class _FocalTerm(torch.autograd.Function):
    r"""The element loss :math:`(1 - p)^\gamma\, n` as a function of :math:`n = -\log p`.

    For :math:`0 < \gamma < 1`, plain autograd would multiply
    :math:`\gamma (1 - p)^{\gamma - 1}`, which is infinite at :math:`p = 1`, by
    :math:`n = 0`, and return NaN. The backward uses a closed form of the derivative instead,

    .. math::

        \frac{d}{dn}\bigl[(1 - p)^\gamma n\bigr]
        = (1 - p)^\gamma \Bigl(1 + \gamma\, p\, \frac{n}{1 - p}\Bigr),

    which is finite for every :math:`n \ge 0` (the ratio tends to 1 as
    :math:`p \to 1`). The derivative is evaluated once, in the forward pass, in a
    handful of elementwise operations (the loss is often called on small batches,
    where each operation's fixed cost dominates); a double backward
    (``create_graph=True``) evaluates it again with differentiable operations.
    """

    @staticmethod
    def forward(ctx: Any, nll: torch.Tensor, gamma: float) -> torch.Tensor:
        term, derivative = _focal_term_and_derivative(nll, gamma)
        ctx.gamma = gamma
        ctx.save_for_backward(nll, derivative)
        return term

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        nll, derivative = ctx.saved_tensors
        if torch.is_grad_enabled():
            derivative = _focal_term_and_derivative(nll, ctx.gamma)[1]
        return grad * derivative, None


def _focal_term_and_derivative(
    nll: torch.Tensor, gamma: float
) -> tuple[torch.Tensor, torch.Tensor]:
    # An infinite loss (a -inf target logit, reported by the checks) would otherwise
    # meet p = 0 in the product p * term / (1 - p) below.
    info = torch.finfo(nll.dtype)
    nll = nll.clamp(max=info.max)
    one_minus_p = torch.expm1(-nll).neg()  # keeps the precision of 1 - p when p -> 1
    modulation = one_minus_p.pow(gamma)
    # n / (1 - p) tends to 1 as p -> 1; at p = 1 exactly the clamp turns 0/0 into 0,
    # harmless because the ratio is then multiplied by (1 - p)^gamma p gamma = 0.
    ratio = nll / one_minus_p.clamp(min=info.smallest_normal * info.eps)
    derivative = torch.addcmul(modulation, modulation * (1 - one_minus_p), ratio, value=gamma)
    return modulation * nll, derivative


def _focal_term(nll: torch.Tensor, gamma: float) -> torch.Tensor:
    r""":math:`(1 - p)^\gamma\, n` with a gradient that is finite everywhere.

    For :math:`\gamma = 0` it is :math:`n` itself and for :math:`\gamma \ge 1` plain
    autograd differentiates it exactly; only :math:`0 < \gamma < 1` needs the closed
    form of :class:`_FocalTerm`. The branch depends on ``gamma`` alone, never on data.
    """
    if gamma == 0:
        return nll
    if gamma >= 1:
        return torch.expm1(-nll).neg().pow(gamma) * nll
    term: torch.Tensor = _FocalTerm.apply(nll, gamma)
    return term


def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    validate_args: bool = True,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Softmax focal loss: cross-entropy that down-weights well-classified examples.

    With :math:`p_y = \operatorname{softmax}(z)_y` the predicted probability of
    the target class, each element contributes

    .. math::

        \ell = -w_y \, (1 - p_y)^{\gamma} \log p_y .

    The modulating factor :math:`(1 - p_y)^\gamma` shrinks the loss of examples
    the model already gets right (:math:`p_y \to 1`), so that many easy
    examples do not swamp the gradient of the few hard ones. With
    :math:`\gamma = 0` and no ``weight`` this is exactly
    ``torch.nn.functional.cross_entropy``, for every reduction.

    Parameters
    ----------
    logits : Tensor
        Unnormalised scores of shape ``(N, K)`` or ``(N, K, d1, ...)``, classes
        along dim 1, as for ``torch.nn.functional.cross_entropy``. A logit
        may be ``-inf`` to mask a class out, except for the target class.
        Positions whose target is ``ignore_index`` may hold anything, NaN and
        infinities included.
    target : Tensor
        Integer class indices in ``[0, K)`` of shape ``(N,)`` or ``(N, d1, ...)``;
        entries equal to ``ignore_index`` are skipped.
    gamma : float, default 2.0
        Focusing parameter :math:`\gamma \ge 0`; 0 turns the modulation off.
    weight : Tensor, optional
        Class weights :math:`w_k`, a length-``K`` tensor of finite, non-negative
        numbers, as ``weight=`` of ``torch.nn.functional.cross_entropy``; ``None``
        weights every class by 1.
    ignore_index : int, default -100
        Target value whose elements contribute nothing and are not counted.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the element losses, shaped like ``target``, with 0
        at ignored elements; ``"sum"`` adds them up; ``"mean"`` divides that sum
        by the number of elements that are not ignored.
    validate_args : bool, default True
        Check the values of the inputs (class indices in range, weights finite
        and non-negative, a finite loss at every position that counts), reading
        them back from the device once. ``False`` skips these checks: the call
        then never synchronises with an accelerator and ``torch.compile`` traces
        it without a graph break. Shapes, dtypes and options are always checked.
    alpha : Tensor, optional
        Deprecated name of ``weight``.

    Returns
    -------
    Tensor
        A scalar, or the element losses for ``reduction="none"``.

    Notes
    -----
    ``"mean"`` divides by the plain count of non-ignored elements, whatever
    ``weight`` is: it is ``reduction="none"`` followed by a mean over the
    elements that count. ``torch.nn.functional.cross_entropy`` with ``weight=w``
    divides by :math:`\sum_i w_{y_i}` instead, so with ``gamma=0`` the two agree
    for ``"sum"`` and ``"none"`` but their means differ by the factor
    :math:`\sum_i w_{y_i} / n`. With no element to average (an empty batch, or
    every target ignored) ``"mean"`` is NaN, as for ``F.cross_entropy``.

    An ignored position contributes 0 to the loss and gives no gradient to the
    other positions, whatever its logits hold; its own logits receive a zero
    gradient when they are finite (NaN where they are not, as with
    ``F.cross_entropy``). The gradient is finite everywhere else, including
    :math:`p_y \to 1` with :math:`0 < \gamma < 1`, where the derivative of
    :math:`(1 - p_y)^\gamma` alone is infinite. The target log-probabilities come
    from one call of ``torch.nn.functional.cross_entropy`` with
    ``reduction="none"`` (no one-hot tensor), and the focal factor is applied to
    those ``N`` values only, so time and memory stay close to those of plain
    cross-entropy.

    References
    ----------
    :cite:t:`lin2017`.

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
    weight = _renamed_alpha(alpha, weight)
    num_classes = check_class_logits_shape(logits, target)
    _check_options(gamma, weight, ignore_index, reduction, num_classes)
    target = target.long()  # what the cross-entropy kernel indexes with

    deferred: list[Deferred] = []
    if validate_args:
        in_range = class_indices_hold(target, num_classes, ignore_index=ignore_index)
        # An index out of range would make cross_entropy fail before the checks are
        # read; skip it there, and let the deferred check report it.
        target = torch.where(in_range.holds, target, ignore_index)
        deferred.append(in_range)
        if weight is not None:
            deferred.append(class_weights_hold(weight))
    # The fused kernel gives -log p_y without a one-hot tensor, and 0 at ignored
    # positions without reading their logits.
    nll = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction="none")
    if validate_args:
        run_deferred(*deferred, target_log_probs_hold(nll, logits))

    loss = _focal_term(nll, float(gamma))  # 0 where nll = 0, ignored included
    valid = target != ignore_index
    if weight is not None:
        class_weight = weight.to(device=logits.device, dtype=logits.dtype)
        loss = loss * class_weight[torch.where(valid, target, 0)]
    return reduce_loss(loss, reduction, count=valid.sum())


def _check_options(
    gamma: float,
    weight: torch.Tensor | None,
    ignore_index: int,
    reduction: str,
    num_classes: int | None = None,
) -> None:
    """The checks that read no tensor data: also run once by :class:`FocalLoss`."""
    check_scalar(gamma, "gamma", min_val=0.0)
    check_scalar(ignore_index, "ignore_index", integer=True)
    check_reduction(reduction)
    if weight is not None:
        check_class_weights_shape(weight, num_classes)


def _renamed_alpha(alpha: torch.Tensor | None, weight: torch.Tensor | None) -> torch.Tensor | None:
    if alpha is None:
        return weight
    warnings.warn(
        "`alpha` of focal_loss is renamed `weight`, as in F.cross_entropy; "
        "`alpha` will be removed in the next release",
        DeprecationWarning,
        stacklevel=3,
    )
    if weight is not None:
        raise ValueError("give `weight` or its deprecated name `alpha`, not both")
    return alpha


class FocalLoss(LossModule):
    r"""Module form of :func:`focal_loss`.

    Parameters
    ----------
    gamma : float, default 2.0
        Focusing parameter :math:`\gamma \ge 0`.
    weight : Tensor, optional
        Length-``K`` class weights (finite, non-negative), kept as a buffer.
    ignore_index : int, default -100
        Target value to skip.
    reduction : {"mean", "sum", "none"}, default "mean"
    validate_args : bool, default True
        Passed on to :func:`focal_loss`.
    alpha : Tensor, optional
        Deprecated name of ``weight``.

    Examples
    --------
    >>> import torch
    >>> criterion = FocalLoss(gamma=2.0)
    >>> criterion
    FocalLoss(gamma=2.0, weight=None, ignore_index=-100, reduction='mean')
    >>> criterion(torch.zeros(2, 3), torch.tensor([0, 1]))
    tensor(0.4883)
    """

    function = staticmethod(focal_loss)
    options = ("gamma", "weight", "ignore_index")
    tensor_options = ("weight",)

    def __init__(
        self,
        gamma: float = 2.0,
        weight: torch.Tensor | None = None,
        ignore_index: int = -100,
        reduction: Reduction = "mean",
        validate_args: bool = True,
        alpha: torch.Tensor | None = None,
    ) -> None:
        weight = _renamed_alpha(alpha, weight)
        _check_options(gamma, weight, ignore_index, reduction)
        if weight is not None:
            run_deferred(class_weights_hold(weight))
        super().__init__(
            gamma=gamma,
            weight=weight,
            ignore_index=ignore_index,
            reduction=reduction,
            validate_args=validate_args,
        )

"""Knowledge distillation: a student matches a teacher's softened distribution."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._reduction import DistillationReduction, Reduction, reduce_loss
from .._validation import (
    check_matrix,
    check_reduction,
    check_same_shape,
    check_scalar,
    result_finite_holds,
    run_deferred,
)
from ._module import LossModule

DISTILLATION_REDUCTIONS = ("batchmean", "sum", "mean", "none")

#: The reduction of the per-example losses that each option amounts to: "batchmean"
#: is their mean, "mean" a sum divided by the number of logits (see the Notes).
_PER_EXAMPLE: dict[str, Reduction] = {
    "batchmean": "mean",
    "mean": "mean",
    "sum": "sum",
    "none": "none",
}


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    *,
    temperature: float = 4.0,
    reduction: DistillationReduction = "batchmean",
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Distillation loss: :math:`T^2` times the KL divergence between softened outputs.

    With :math:`p^T = \operatorname{softmax}(z_t / T)` from the teacher and
    :math:`q^T = \operatorname{softmax}(z_s / T)` from the student, each
    example contributes

    .. math::

        \ell = T^2 \, \mathrm{KL}\bigl(p^T \,\|\, q^T\bigr)
             = T^2 \sum_k p^T_k \bigl(\log p^T_k - \log q^T_k\bigr).

    Its gradient with respect to the student logits is

    .. math::

        \frac{\partial \ell}{\partial z_s} = T \, \bigl(q^T - p^T\bigr),

    the softmax cross-entropy gradient :math:`(q^T - p^T) / T` at temperature
    :math:`T` scaled by :math:`T^2`, which keeps its size roughly independent
    of :math:`T` when the loss is mixed with a hard-label cross-entropy.

    Parameters
    ----------
    student_logits : Tensor
        Logits of the student, shape ``(N, K)``.
    teacher_logits : Tensor
        Logits of the teacher, shape ``(N, K)``. They usually come from a frozen
        model evaluated under ``torch.no_grad``; if they require grad, the
        loss is differentiated with respect to them as well (detach them to
        train the student only).
    temperature : float, default 4.0
        Softening temperature :math:`T > 0`.
    reduction : {"batchmean", "sum", "mean", "none"}, default "batchmean"
        ``"batchmean"`` divides the sum by ``N`` (the mathematically correct
        mean KL per example); ``"sum"`` adds everything up; ``"mean"`` divides
        the sum by ``N * K``, like ``torch.nn.functional.kl_div``;
        ``"none"`` returns the loss of each example, shape ``(N,)``.
    validate_args : bool, default True
        Check that the loss of every example is finite (which rules out NaN and
        infinite logits), reading it back from the device once. ``False`` skips
        this check: the call then never synchronises with an accelerator and
        ``torch.compile`` traces it without a graph break. Shapes, dtypes and
        options are always checked.

    Returns
    -------
    Tensor
        A scalar, or the per-example losses for ``reduction="none"``.

    Notes
    -----
    Unlike ``torch.nn.functional.kl_div``, ``"none"`` returns one value per
    example (summed over classes), not one per class. So ``"batchmean"``, not
    ``"mean"``, is ``reduction="none"`` followed by a mean, as ``"mean"`` is
    for the other losses of the package; ``"mean"`` keeps the meaning it has
    in ``kl_div``, the sum divided by the number of logits ``N * K``, so that
    code moving from ``kl_div`` gets the same numbers. With an empty batch both
    are NaN and ``"sum"`` is 0, as for ``kl_div``. Both sets of logits must be
    finite: a NaN or infinite logit raises a ``ValueError`` (unless
    ``validate_args`` is false).

    References
    ----------
    :cite:t:`hinton2015`.

    Examples
    --------
    >>> import torch
    >>> teacher = torch.tensor([[4.0, 1.0, 0.0]])
    >>> distillation_loss(teacher, teacher)
    tensor(0.)
    >>> distillation_loss(torch.zeros(1, 3), teacher, temperature=2.0)
    tensor(1.3865)
    """
    check_matrix(student_logits, "student_logits")
    check_matrix(teacher_logits, "teacher_logits")
    check_same_shape(student_logits, teacher_logits, "student_logits", "teacher_logits")
    _check_options(temperature, reduction)

    log_q = F.log_softmax(student_logits / temperature, dim=1)
    log_p = F.log_softmax(teacher_logits / temperature, dim=1)
    per_example = (log_p.exp() * (log_p - log_q)).sum(dim=1) * temperature**2
    if validate_args:
        run_deferred(
            result_finite_holds(
                per_example,
                {"student_logits": student_logits, "teacher_logits": teacher_logits},
                advice="rescale the inputs (for example a larger `temperature`)",
            )
        )
    count = student_logits.numel() if reduction == "mean" else None
    return reduce_loss(per_example, _PER_EXAMPLE[reduction], count=count)


def _check_options(temperature: float, reduction: str) -> None:
    """The option checks, which read no tensor data: also run once by the module form."""
    check_scalar(
        temperature,
        "temperature",
        min_val=0.0,
        max_val=float("inf"),
        include_min=False,
        include_max=False,
    )
    check_reduction(reduction, DISTILLATION_REDUCTIONS)


class DistillationLoss(LossModule):
    r"""Module form of :func:`distillation_loss`.

    Parameters
    ----------
    temperature : float, default 4.0
        Softening temperature :math:`T > 0`.
    reduction : {"batchmean", "sum", "mean", "none"}, default "batchmean"
    validate_args : bool, default True
        Passed on to :func:`distillation_loss`.

    Examples
    --------
    >>> import torch
    >>> criterion = DistillationLoss(temperature=2.0)
    >>> criterion
    DistillationLoss(temperature=2.0, reduction='batchmean')
    >>> criterion(torch.zeros(1, 3), torch.tensor([[4.0, 1.0, 0.0]]))
    tensor(1.3865)
    """

    function = staticmethod(distillation_loss)
    options = ("temperature",)
    reductions = DISTILLATION_REDUCTIONS

    def __init__(
        self,
        temperature: float = 4.0,
        reduction: DistillationReduction = "batchmean",
        validate_args: bool = True,
    ) -> None:
        _check_options(temperature, reduction)
        super().__init__(
            temperature=float(temperature), reduction=reduction, validate_args=validate_args
        )

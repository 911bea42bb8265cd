"""Knowledge distillation: a student matches a teacher's softened distribution."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._reduction import DistillationReduction
from .._validation import (
    check_matrix,
    check_positive,
    check_reduction,
    check_result_finite,
    check_same_shape,
)

DISTILLATION_REDUCTIONS = ("batchmean", "sum", "mean", "none")


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    *,
    temperature: float = 4.0,
    reduction: DistillationReduction = "batchmean",
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

    Returns
    -------
    Tensor
        A scalar, or the per-example losses for ``reduction="none"``.

    Notes
    -----
    Unlike ``torch.nn.functional.kl_div``, ``"none"`` returns one value per
    example (summed over classes), not one per class. Both sets of logits
    must be finite: a NaN or infinite logit raises a ``ValueError``.

    References
    ----------
    Hinton, G., Vinyals, O., and Dean, J. (2015). Distilling the Knowledge in
    a Neural Network. *NIPS Deep Learning Workshop*, arXiv:1503.02531.

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
    check_positive(temperature, "temperature")
    check_reduction(reduction, DISTILLATION_REDUCTIONS)

    log_q = F.log_softmax(student_logits / temperature, dim=1)
    log_p = F.log_softmax(teacher_logits / temperature, dim=1)
    per_example = (log_p.exp() * (log_p - log_q)).sum(dim=1) * temperature**2
    check_result_finite(per_example, student_logits=student_logits, teacher_logits=teacher_logits)
    if reduction == "none":
        return per_example
    total = per_example.sum()
    if reduction == "sum":
        return total
    if reduction == "batchmean":
        return total / student_logits.shape[0]
    return total / student_logits.numel()

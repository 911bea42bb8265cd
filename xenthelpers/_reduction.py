"""The ``reduction=`` argument shared by every loss, with PyTorch's semantics."""

from __future__ import annotations

from typing import Literal

import torch

from ._validation import check_reduction

#: What ``reduction=`` accepts: element losses, their mean or their sum.
Reduction = Literal["none", "mean", "sum"]

#: The reductions of :func:`~xenthelpers.losses.distillation_loss`, which adds
#: ``"batchmean"`` (the sum divided by the batch size) as ``F.kl_div`` does.
DistillationReduction = Literal["none", "mean", "sum", "batchmean"]


def reduce_loss(
    loss: torch.Tensor,
    reduction: Reduction,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Reduce element losses as ``torch.nn.functional`` does.

    ``"none"`` returns ``loss`` unchanged, ``"sum"`` adds it up and ``"mean"``
    divides that sum by ``weight.sum()`` when element weights are given (this
    is how ``F.cross_entropy`` treats ``weight=`` and ``ignore_index``) or by
    the number of elements otherwise.
    """
    check_reduction(reduction)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if weight is None:
        return total / loss.numel() if loss.numel() else total * float("nan")
    return total / weight.sum()

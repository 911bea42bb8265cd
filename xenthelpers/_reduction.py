"""The ``reduction=`` argument shared by every loss, with PyTorch's semantics."""

from __future__ import annotations

from typing import Literal

import torch

#: What ``reduction=`` accepts: element losses, their mean or their sum.
Reduction = Literal["none", "mean", "sum"]

#: The reductions of :func:`~xenthelpers.losses.distillation_loss`, which adds
#: ``"batchmean"`` (the sum divided by the batch size) as ``F.kl_div`` does.
DistillationReduction = Literal["none", "mean", "sum", "batchmean"]


def reduce_loss(
    values: torch.Tensor,
    reduction: Reduction,
    *,
    count: torch.Tensor | int | None = None,
) -> torch.Tensor:
    """Reduce element losses as ``torch.nn.functional`` does; every loss ends here.

    ``"none"`` returns ``values`` unchanged and ``"sum"`` adds them up. ``"mean"`` is
    ``"none"`` followed by a mean over the elements that count: the sum divided by
    ``count``, the number of elements that count (a tensor, such as the number of
    positions that are not ignored, so that no value leaves the device), by default
    ``values.numel()``. Elements that do not count must hold zero in ``values``.

    With nothing to average, ``"mean"`` is NaN (0/0) and ``"sum"`` is 0, as for
    ``F.cross_entropy`` on an empty batch or one whose targets are all ignored.
    ``reduction`` itself is checked by the caller, with its other arguments.
    """
    if reduction == "none":
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    return total / (values.numel() if count is None else count)

"""Checks shared by the aggregators for long-format crowd annotations.

An annotation set is stored as parallel 1-D ``torch.long`` columns, one row per
annotation: ``tasks[a]`` was labelled ``labels[a]`` by ``workers[a]``. Ids are
integers counted from zero.
"""

from __future__ import annotations

import torch

from .._validation import check_positive_int, check_tensor


def check_annotation_columns(**columns: torch.Tensor) -> None:
    """Require non-empty 1-D long columns of one length, on one device, with ids >= 0.

    The keyword names are the argument names used in the error messages; the
    first column is the reference for length and device.
    """
    (first_name, first), *others = columns.items()
    for name, column in columns.items():
        check_tensor(column, name)
        if column.dim() != 1 or column.dtype != torch.long:
            raise ValueError(
                f"`{name}` must be a 1-D tensor of dtype torch.long, "
                f"got shape {tuple(column.shape)} and dtype {column.dtype}"
            )
    for name, column in others:
        if column.numel() != first.numel():
            raise ValueError(
                f"`{name}` must have the same length as `{first_name}`, "
                f"got {column.numel()} and {first.numel()}"
            )
        if column.device != first.device:
            raise ValueError(
                f"`{name}` must be on the same device as `{first_name}`, "
                f"got {column.device} and {first.device}"
            )
    if first.numel() == 0:
        raise ValueError(f"`{first_name}` must hold at least one annotation, got none")
    for name, column in columns.items():
        low = int(column.min())
        if low < 0:
            raise ValueError(f"`{name}` must hold non-negative ids, found {low}")


def resolve_count(count: int | None, ids: torch.Tensor, count_name: str, ids_name: str) -> int:
    """Return ``count`` (default ``ids.max() + 1``) after checking that it exceeds every id."""
    largest = int(ids.max())
    if count is None:
        return largest + 1
    check_positive_int(count, count_name)
    if largest >= count:
        raise ValueError(
            f"`{ids_name}` must hold ids smaller than `{count_name}` = {count}, found {largest}"
        )
    return count


def check_float_dtype(dtype: torch.dtype | None) -> torch.dtype:
    """Return ``dtype`` (default: ``torch.get_default_dtype()``) if it is a floating type."""
    if dtype is None:
        return torch.get_default_dtype()
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
    return dtype

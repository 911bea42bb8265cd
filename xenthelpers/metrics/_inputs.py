"""Checks on predicted probability rows and their targets, shared by the metrics."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._validation import check_class_indices, check_floating, check_probabilities, check_tensor

ROW_SUM_ATOL = 1e-4


def check_probability_rows(probs: torch.Tensor, name: str = "probs") -> None:
    """Require a non-empty ``(N, K)`` tensor of probability rows.

    The common valid case costs one minimum, one row sum and a single
    device-to-host copy; only a failing tensor goes through the slower, more
    specific checks that word the error.
    """
    _check_row_shape(probs, name)
    if not _rows_are_valid(host_values(*_row_summary(probs))):
        _raise_for_rows(probs, name)


def check_rows_and_labels(probs: torch.Tensor, target: torch.Tensor) -> None:
    """Require ``(N, K)`` probability rows and ``(N,)`` class indices in ``[0, K)``.

    Both are checked with a single device-to-host copy.
    """
    _check_row_shape(probs, "probs")
    check_tensor(target, "target")
    # On an empty slice only the dtype is checked.
    check_class_indices(target[:0], probs.shape[1], "target")
    check_class_indices_shape(target, probs.shape[0])
    *rows, low_label, high_label = host_values(*_row_summary(probs), *target.detach().aminmax())
    if not _rows_are_valid(rows):
        _raise_for_rows(probs, "probs")
    if not 0 <= low_label <= high_label < probs.shape[1]:
        check_class_indices(target, probs.shape[1], "target")


def host_values(*scalars: torch.Tensor) -> list[float]:
    """Python floats of 0-dim tensors, copied in one transfer from an accelerator."""
    if scalars[0].device.type == "cpu":
        return [float(scalar) for scalar in scalars]
    return torch.stack([scalar.to(torch.float64) for scalar in scalars]).tolist()


def _check_row_shape(probs: torch.Tensor, name: str) -> None:
    check_floating(probs, name)
    if probs.dim() != 2 or probs.shape[0] < 1 or probs.shape[1] < 1:
        raise ValueError(
            f"`{name}` must have shape (N, K) with N, K >= 1, got {tuple(probs.shape)}"
        )


def _row_summary(probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Smallest entry, smallest row sum and largest row sum."""
    values = probs.detach()
    low_sum, high_sum = values.sum(dim=1).aminmax()
    return values.amin(), low_sum, high_sum


def _rows_are_valid(summary: list[float]) -> bool:
    smallest, low_sum, high_sum = summary
    # Every comparison is False for NaN, so NaN counts as invalid.
    return smallest >= 0 and 1 - ROW_SUM_ATOL <= low_sum and high_sum <= 1 + ROW_SUM_ATOL


def _raise_for_rows(probs: torch.Tensor, name: str) -> None:
    check_probabilities(probs, name, dim=1, atol=ROW_SUM_ATOL)
    raise ValueError(f"`{name}` must hold finite probability rows")


def target_rows(target: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """Validate ``target`` against ``(N, K)`` ``probs`` and return it as probability rows.

    ``target`` is either class indices of shape ``(N,)`` or probability rows of
    the same shape as ``probs``; the result has ``probs``'s dtype and device.
    """
    check_tensor(target, "target")
    num_examples, num_classes = probs.shape
    if target.is_floating_point():
        if target.shape != probs.shape:
            raise ValueError(
                f"`target` probability rows must have the shape of `probs` {tuple(probs.shape)}, "
                f"got {tuple(target.shape)}"
            )
        check_probability_rows(target, "target")
        return target.to(probs.dtype)
    check_class_indices_shape(target, num_examples)
    check_class_indices(target, num_classes, "target")
    return F.one_hot(target.long(), num_classes).to(probs.dtype)


def check_class_indices_shape(target: torch.Tensor, num_examples: int) -> None:
    """Require a ``(N,)`` target for ``N`` examples."""
    if tuple(target.shape) != (num_examples,):
        raise ValueError(
            f"`target` must have shape ({num_examples},) to match the predictions, "
            f"got {tuple(target.shape)}"
        )

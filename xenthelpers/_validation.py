"""Input checks shared by every public function.

Each check raises :class:`ValueError` with a message that names the offending
argument, so that a bad call fails loudly and early instead of producing a NaN
or a device-side assert further down.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

REDUCTIONS = ("mean", "sum", "none")


def check_tensor(value: object, name: str) -> torch.Tensor:
    """Return ``value`` if it is a tensor, else raise ``TypeError``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, got {type(value).__name__}")
    return value


def check_floating(tensor: torch.Tensor, name: str) -> None:
    """Require a floating-point tensor."""
    check_tensor(tensor, name)
    if not tensor.is_floating_point():
        raise ValueError(f"`{name}` must be a floating-point tensor, got dtype {tensor.dtype}")


def check_finite(tensor: torch.Tensor, name: str) -> None:
    """Require a tensor without NaN or infinite entries."""
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"`{name}` contains NaN or infinite values")


def check_not_nan(tensor: torch.Tensor, name: str) -> None:
    """Require a tensor without NaN entries (infinities are allowed)."""
    if tensor.is_floating_point() and bool(torch.isnan(tensor).any()):
        raise ValueError(f"`{name}` contains NaN values")


def check_reduction(reduction: str, allowed: Sequence[str] = REDUCTIONS) -> None:
    """Require ``reduction`` to be one of ``allowed``."""
    if reduction not in allowed:
        raise ValueError(f"`reduction` must be one of {tuple(allowed)}, got {reduction!r}")


def check_positive(value: float, name: str) -> None:
    """Require a finite number strictly greater than zero."""
    if not (float(value) > 0 and float(value) < float("inf")):
        raise ValueError(f"`{name}` must be a finite number > 0, got {value}")


def check_non_negative(value: float, name: str) -> None:
    """Require a finite number greater than or equal to zero."""
    if not (float(value) >= 0 and float(value) < float("inf")):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value}")


def check_unit_interval(value: float, name: str) -> None:
    """Require a number in the closed interval [0, 1]."""
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"`{name}` must lie in [0, 1], got {value}")


def check_positive_int(value: int, name: str) -> None:
    """Require an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1, got {value!r}")


def check_same_shape(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    """Require two tensors of identical shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_class_indices(
    target: torch.Tensor,
    num_classes: int,
    name: str = "target",
    ignore_index: int | None = None,
) -> None:
    """Require integer class indices in ``[0, num_classes)`` (``ignore_index`` exempt).

    The range is checked on the host side of the computation so that a bad label
    raises the same ``ValueError`` on CPU and CUDA, never a device-side assert.
    """
    check_tensor(target, name)
    if target.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise ValueError(f"`{name}` must hold integer class indices, got dtype {target.dtype}")
    if target.numel() == 0:
        return
    valid = target if ignore_index is None else target[target != ignore_index]
    if valid.numel() == 0:
        return
    low, high = int(valid.min()), int(valid.max())
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"`{name}` must hold class indices in [0, {num_classes}), "
            f"found values in [{low}, {high}]"
        )


def check_class_logits(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    ignore_index: int | None = None,
    logits_name: str = "logits",
    target_name: str = "target",
) -> int:
    """Check ``logits`` ``(N, K, d1, ...)`` against class indices ``target`` ``(N, d1, ...)``.

    Returns the number of classes ``K``.
    """
    check_floating(logits, logits_name)
    check_tensor(target, target_name)
    if logits.dim() < 2:
        raise ValueError(
            f"`{logits_name}` must have shape (N, K) or (N, K, d1, ...), got {tuple(logits.shape)}"
        )
    expected = (logits.shape[0], *logits.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"`{target_name}` must have shape {expected} to match `{logits_name}` "
            f"of shape {tuple(logits.shape)}, got {tuple(target.shape)}"
        )
    num_classes = logits.shape[1]
    check_class_indices(target, num_classes, target_name, ignore_index)
    return num_classes


def check_probabilities(
    probs: torch.Tensor,
    name: str,
    *,
    dim: int = -1,
    atol: float = 1e-4,
) -> None:
    """Require non-negative entries that sum to one along ``dim`` (within ``atol``)."""
    check_floating(probs, name)
    probs = probs.detach()
    check_not_nan(probs, name)
    if probs.numel() == 0:
        return
    if bool((probs < 0).any()):
        raise ValueError(
            f"`{name}` must be non-negative probabilities, found {float(probs.min()):.4g}"
        )
    worst = float((probs.sum(dim=dim) - 1).abs().max())
    if worst > atol:
        raise ValueError(
            f"`{name}` must sum to 1 along dim {dim} (within {atol}), "
            f"found a row off by {worst:.4g}"
        )


def check_binary_targets(target: torch.Tensor, name: str = "target") -> None:
    """Require float targets in ``[0, 1]`` (hard 0/1 labels or soft probabilities)."""
    check_floating(target, name)
    check_not_nan(target, name)
    if target.numel() and bool(((target < 0) | (target > 1)).any()):
        raise ValueError(f"`{name}` must lie in [0, 1]")

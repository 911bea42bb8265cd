"""Every input check of the package, in one place.

Each check raises :class:`ValueError` with a message that names the offending
argument, so that a bad call fails loudly and early instead of producing a NaN
or a device-side assert further down.

Two kinds of check live here:

- checks of *metadata* (types, shapes, dtypes, Python scalars) cost no device work
  and run whenever a function validates its arguments;
- checks of *values* (a label out of range, a NaN, a row that does not sum to one)
  must read tensor data. A function gathers them as :class:`Deferred` conditions and
  calls :func:`run_deferred`, which reads every condition back in a single host
  transfer and, only when one fails, runs the slower checks that word the error.
  With ``validate_args=False`` a function skips the value checks entirely, so it
  never synchronises with an accelerator and can be traced by ``torch.compile``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

REDUCTIONS = ("mean", "sum", "none")

#: How far a probability vector's sum may stray from one (float32 rounding of a
#: softmax over many classes stays far below this).
DISTRIBUTION_ATOL = 1e-4


@dataclass(frozen=True)
class Deferred:
    """A value check whose verdict stays on the device until :func:`run_deferred`.

    ``holds`` is a boolean tensor (any shape; the check passes when all of it is
    true); ``explain`` raises the :class:`ValueError` that says what is wrong. It is
    only called once ``holds`` is known to be false somewhere.
    """

    holds: torch.Tensor
    explain: Callable[[], None]


def run_deferred(*checks: Deferred) -> None:
    """Read every deferred condition in one host transfer; explain the first failure."""
    if not checks:
        return
    verdicts = [check.holds.all() for check in checks]
    # Inputs may live on different devices (CPU class weights beside CUDA logits):
    # gather the verdicts where the accelerator is, and read them back once.
    device = next((v.device for v in verdicts if v.device.type != "cpu"), verdicts[0].device)
    verdicts = torch.stack([v.to(device) for v in verdicts]).tolist()
    for verdict, check in zip(verdicts, checks, strict=True):
        if not verdict:
            check.explain()
            raise ValueError("invalid input")  # pragma: no cover - explain() raises


def check_scalar(
    value: object,
    name: str,
    *,
    integer: bool = False,
    min_val: float | None = None,
    max_val: float | None = None,
    include_min: bool = True,
    include_max: bool = True,
) -> float:
    """Require a real (or integer) Python number within bounds; return it as a number.

    In the spirit of scikit-learn's ``check_scalar``: ``str`` and ``bool`` are rejected
    where a number is expected, as are NaN and values outside
    ``[min_val, max_val]`` (or the open interval, per ``include_min``/``include_max``).
    A 0-dim tensor is not accepted: reading it would synchronise with its device.
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool | str) or not isinstance(value, kind):
        what = "an integer" if integer else "a real number"
        raise ValueError(f"`{name}` must be {what}, got {type(value).__name__} {value!r}")
    number = float(value)
    if number != number:
        raise ValueError(f"`{name}` must be a number, got NaN")
    low_ok = min_val is None or (number >= min_val if include_min else number > min_val)
    high_ok = max_val is None or (number <= max_val if include_max else number < max_val)
    if not (low_ok and high_ok):
        low = "-inf" if min_val is None else f"{min_val:g}"
        high = "inf" if max_val is None else f"{max_val:g}"
        interval = f"{'[' if include_min else '('}{low}, {high}{']' if include_max else ')'}"
        raise ValueError(f"`{name}` must lie in {interval}, got {value!r}")
    return value  # type: ignore[return-value]


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
    check_choice(reduction, "reduction", allowed)


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
    check_index_dtype(target, name)
    run_deferred(class_indices_hold(target, num_classes, name, ignore_index))


def check_index_dtype(target: torch.Tensor, name: str = "target") -> None:
    """Require a tensor of integer class indices (the metadata part of the check)."""
    check_tensor(target, name)
    if target.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise ValueError(f"`{name}` must hold integer class indices, got dtype {target.dtype}")


def class_indices_hold(
    target: torch.Tensor,
    num_classes: int,
    name: str = "target",
    ignore_index: int | None = None,
) -> Deferred:
    """The value part of :func:`check_class_indices`, deferred."""
    in_range = (target >= 0) & (target < num_classes)
    if ignore_index is not None:
        in_range |= target == ignore_index

    def explain() -> None:
        valid = target if ignore_index is None else target[target != ignore_index]
        low, high = int(valid.min()), int(valid.max())
        raise ValueError(
            f"`{name}` must hold class indices in [0, {num_classes}), "
            f"found values in [{low}, {high}]"
        )

    return Deferred(in_range, explain)


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
    num_classes = check_class_logits_shape(
        logits, target, logits_name=logits_name, target_name=target_name
    )
    run_deferred(class_indices_hold(target, num_classes, target_name, ignore_index))
    return num_classes


def check_class_logits_shape(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    logits_name: str = "logits",
    target_name: str = "target",
) -> int:
    """The metadata part of :func:`check_class_logits`: dtypes and shapes; returns ``K``."""
    check_floating(logits, logits_name)
    check_index_dtype(target, target_name)
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
    return logits.shape[1]


def check_distribution(
    probs: torch.Tensor,
    name: str,
    *,
    dim: int = -1,
    atol: float = DISTRIBUTION_ATOL,
    positive: bool = False,
) -> None:
    """Require probability vectors along ``dim``: entries >= 0 (> 0 with ``positive``)
    that sum to one within ``atol``, and no NaN. Reads the data in one host transfer."""
    check_floating(probs, name)
    run_deferred(distribution_holds(probs, name, dim=dim, atol=atol, positive=positive))


def distribution_holds(
    probs: torch.Tensor,
    name: str,
    *,
    dim: int = -1,
    atol: float = DISTRIBUTION_ATOL,
    positive: bool = False,
) -> Deferred:
    """The value part of :func:`check_distribution`, deferred."""
    values = probs.detach()
    if values.numel() == 0:
        return Deferred(torch.ones((), dtype=torch.bool, device=values.device), lambda: None)
    lowest_ok = values > 0 if positive else values >= 0  # False at NaN
    sums_ok = (values.sum(dim=dim) - 1).abs() <= atol

    def explain() -> None:
        check_not_nan(values, name)
        lowest = float(values.min())
        if positive and lowest <= 0:
            raise ValueError(f"`{name}` must have strictly positive entries, found {lowest:.4g}")
        if lowest < 0:
            raise ValueError(f"`{name}` must be non-negative probabilities, found {lowest:.4g}")
        worst = float((values.sum(dim=dim) - 1).abs().max())
        raise ValueError(
            f"`{name}` must sum to 1 along dim {dim} (within {atol}), "
            f"found a row off by {worst:.4g}"
        )

    return Deferred(lowest_ok.all() & sums_ok.all(), explain)


# --- Losses -------------------------------------------------------------------


def check_class_weights(
    weights: torch.Tensor, num_classes: int | None = None, name: str = "weight"
) -> None:
    """Require a 1-D tensor of finite, non-negative class weights (of length ``num_classes``)."""
    check_class_weights_shape(weights, num_classes, name)
    run_deferred(class_weights_hold(weights, name))


def check_class_weights_shape(
    weights: torch.Tensor, num_classes: int | None = None, name: str = "weight"
) -> None:
    """The metadata part of :func:`check_class_weights`."""
    check_floating(weights, name)
    if weights.dim() != 1:
        raise ValueError(
            f"`{name}` must be a 1-D tensor of class weights, got {tuple(weights.shape)}"
        )
    if num_classes is not None and weights.numel() != num_classes:
        raise ValueError(
            f"`{name}` must hold one weight per class ({num_classes}), got {weights.numel()}"
        )


def class_weights_hold(weights: torch.Tensor, name: str = "weight") -> Deferred:
    """The value part of :func:`check_class_weights`: finite and non-negative, deferred."""
    values = weights.detach()

    def explain() -> None:
        check_finite(values, name)
        raise ValueError(f"`{name}` must be non-negative, found {float(values.min()):.4g}")

    return Deferred(torch.isfinite(values) & (values >= 0), explain)


def check_prior(prior: torch.Tensor, num_classes: int | None = None, name: str = "prior") -> None:
    """Require a 1-D probability vector with strictly positive entries summing to one."""
    check_prior_shape(prior, num_classes, name)
    check_distribution(prior, name, positive=True)


def target_log_probs_hold(nll: torch.Tensor, logits: torch.Tensor) -> Deferred:
    """Deferred check of ``nll``, the target classes' cross-entropies ``-log p`` of ``logits``.

    ``nll`` is zero at ignored positions (as ``F.cross_entropy`` with
    ``ignore_index`` returns it), so an ignored row may hold anything. Elsewhere a
    NaN or ``+inf`` logit in the row, a row of ``-inf`` logits, or a ``-inf`` logit
    for the target class makes ``nll`` non-finite; ``-inf`` logits for other
    classes are allowed (they mask classes out).
    """

    def explain() -> None:
        bad = ~torch.isfinite(nll)
        rows = logits.movedim(1, -1)[bad]  # (bad positions, K)
        if bool(rows.isnan().any()):
            raise ValueError("`logits` contains NaN values at a position that is not ignored")
        if bool(rows.isposinf().any()):
            raise ValueError("`logits` contains +inf values at a position that is not ignored")
        if bool(rows.isneginf().all(dim=-1).any()):
            raise ValueError("`logits` has a position whose logits are all -inf")
        raise ValueError(
            "`logits` is -inf for the target class of some position, so its loss is infinite"
        )

    return Deferred(torch.isfinite(nll), explain)


# --- Probability rows and their targets (the metrics) -------------------------


def check_probability_rows(probs: torch.Tensor, name: str = "probs") -> None:
    """Require a non-empty ``(N, K)`` tensor of probability rows (one host transfer)."""
    check_row_shape(probs, name)
    check_distribution(probs, name, dim=1)


def check_row_shape(probs: torch.Tensor, name: str) -> None:
    """Require a floating ``(N, K)`` tensor with ``N, K >= 1``."""
    check_floating(probs, name)
    if probs.dim() != 2 or probs.shape[0] < 1 or probs.shape[1] < 1:
        raise ValueError(
            f"`{name}` must have shape (N, K) with N, K >= 1, got {tuple(probs.shape)}"
        )


def check_class_indices_shape(target: torch.Tensor, num_examples: int) -> None:
    """Require a ``(N,)`` target for ``N`` examples."""
    if tuple(target.shape) != (num_examples,):
        raise ValueError(
            f"`target` must have shape ({num_examples},) to match the predictions, "
            f"got {tuple(target.shape)}"
        )


# --- Crowd annotations in long format -----------------------------------------


def annotation_columns(**columns: object) -> list[torch.Tensor]:
    """Return the columns as non-empty 1-D long tensors of one length, on one device.

    A tensor must already be 1-D of dtype ``torch.long`` and is returned as it is.
    Anything else (a NumPy array, a pandas Series, a list) is read with
    :func:`numpy.asarray` and must hold integers, of any width (pandas category codes
    are ``int8``); it becomes a long tensor on the CPU. Metadata only: the ids are not
    read (see :func:`ids_hold`). The keyword names are the argument names used in the
    error messages; the first column is the reference for length and device.
    """
    tensors = [_ids_tensor(column, name) for name, column in columns.items()]
    names = list(columns)
    first_name, first = names[0], tensors[0]
    for name, column in zip(names[1:], tensors[1:], strict=True):
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
    return tensors


def _ids_tensor(column: object, name: str) -> torch.Tensor:
    """One column of :func:`annotation_columns` as a 1-D long tensor."""
    if isinstance(column, torch.Tensor):
        if column.dim() != 1 or column.dtype != torch.long:
            raise ValueError(
                f"`{name}` must be a 1-D tensor of dtype torch.long, "
                f"got shape {tuple(column.shape)} and dtype {column.dtype}"
            )
        return column
    import numpy as np

    try:
        array = np.asarray(column)
    except (TypeError, ValueError) as error:  # ragged nested sequences, for example
        raise ValueError(
            f"`{name}` must be a 1-D tensor or array of integer ids, got {type(column).__name__}"
        ) from error
    if array.dtype.kind not in "iu":
        hint = (
            " (encode names as integer ids first, e.g. with pandas.factorize)"
            if array.dtype.kind in "OSU"
            else ""
        )
        raise ValueError(f"`{name}` must hold integer ids, got dtype {array.dtype}{hint}")
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D, got shape {array.shape}")
    # astype copies: a writable, contiguous array that the tensor may own.
    return torch.from_numpy(array.astype(np.int64))


def resolve_counts(*columns: tuple[torch.Tensor, int | None, str, str]) -> list[int]:
    """The count of each ``(ids, count, ids_name, count_name)``, default ``ids.max() + 1``.

    A count given must be an integer >= 1 (a Python or NumPy integer). Default counts
    read the largest ids back from the device, all in one transfer: they depend on the
    data, so no ``validate_args=False`` can spare that read.
    """
    counts: list[int | None] = [
        None if count is None else int(check_scalar(count, count_name, integer=True, min_val=1))
        for _, count, _, count_name in columns
    ]
    missing = [i for i, count in enumerate(counts) if count is None]
    if missing:
        largest = torch.stack([columns[i][0].max() for i in missing]).tolist()
        for i, value in zip(missing, largest, strict=True):
            counts[i] = int(value) + 1
    return [int(count) for count in counts if count is not None]


def ids_hold(ids: torch.Tensor, count: int, ids_name: str, count_name: str) -> Deferred:
    """Deferred check that every id lies in ``[0, count)``."""

    def explain() -> None:
        low, high = torch.stack(ids.aminmax()).tolist()
        if low < 0:
            raise ValueError(f"`{ids_name}` must hold non-negative ids, found {low}")
        raise ValueError(
            f"`{ids_name}` must hold ids smaller than `{count_name}` = {count}, found {high}"
        )

    return Deferred((ids >= 0) & (ids < count), explain)


def initial_posteriors_hold(
    init: object, num_tasks: int, num_classes: int, tasks: torch.Tensor
) -> Deferred:
    """Check the metadata of ``init``, ``(num_tasks, num_classes)`` on the device of
    ``tasks``; return the deferred check that its rows are distributions."""
    init = check_tensor(init, "init")
    if init.shape != (num_tasks, num_classes):
        raise ValueError(
            f"`init` must have shape (num_tasks, num_classes) = ({num_tasks}, {num_classes}), "
            f"got {tuple(init.shape)}"
        )
    check_floating(init, "init")
    if init.device != tasks.device:
        raise ValueError(
            f"`init` must be on the same device as `tasks` ({tasks.device}), got {init.device}"
        )
    return distribution_holds(init, "init", dim=1)


def check_float_dtype(dtype: torch.dtype | None) -> torch.dtype:
    """Return ``dtype`` (default: ``torch.get_default_dtype()``) if it is a floating type."""
    if dtype is None:
        return torch.get_default_dtype()
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
    return dtype


# --- Ensembles: outputs with the members in the last dimension ----------------


def check_members_last(tensor: torch.Tensor, num_members: int, name: str) -> None:
    """Require a tensor whose last dimension holds ``num_members`` ensemble members."""
    check_tensor(tensor, name)
    if tensor.dim() < 1 or tensor.shape[-1] != num_members:
        raise ValueError(
            f"`{name}` must hold the {num_members} members in its last dimension, "
            f"got shape {tuple(tensor.shape)}"
        )


def check_member_logits(logits: torch.Tensor, target: torch.Tensor) -> tuple[int, int]:
    """Require logits ``(N, K, M)`` and class indices ``(N,)`` or ``(N, M)``; return ``K, M``.

    The metadata part only: the class range is :func:`class_indices_hold`.
    """
    check_floating(logits, "logits")
    if logits.dim() != 3 or 0 in logits.shape:
        raise ValueError(
            f"`logits` must have shape (N, K, M) with N, K, M >= 1, got {tuple(logits.shape)}"
        )
    check_index_dtype(target, "target")
    num_examples, num_classes, num_members = logits.shape
    if tuple(target.shape) not in ((num_examples,), (num_examples, num_members)):
        raise ValueError(
            f"`target` must have shape ({num_examples},) or ({num_examples}, {num_members}) "
            f"to match `logits` of shape {tuple(logits.shape)}, got {tuple(target.shape)}"
        )
    return num_classes, num_members


# --- Metrics and target builders: value checks on any device --------------------


def check_choice(value: object, name: str, choices: Sequence[str]) -> None:
    """Require ``value`` to be one of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"`{name}` must be one of {tuple(choices)}, got {value!r}")


def finite_holds(tensor: torch.Tensor, name: str) -> Deferred:
    """The value part of :func:`check_finite`, deferred: no NaN and no infinity."""
    values = tensor.detach()

    def explain() -> None:
        check_finite(values, name)

    return Deferred(torch.isfinite(values), explain)


def unit_interval_holds(probs: torch.Tensor, name: str) -> Deferred:
    """Deferred check that every entry of ``probs`` is a probability in ``[0, 1]``."""
    values = probs.detach()

    def explain() -> None:
        check_not_nan(values, name)
        low, high = torch.stack(values.aminmax()).tolist()
        raise ValueError(
            f"`{name}` must hold probabilities in [0, 1], found values in [{low:.4g}, {high:.4g}]"
        )

    return Deferred((values >= 0) & (values <= 1), explain)  # False at NaN


def non_negative_holds(tensor: torch.Tensor, name: str) -> Deferred:
    """Deferred check of finite entries greater than or equal to zero."""
    values = tensor.detach()

    def explain() -> None:
        check_finite(values, name)
        raise ValueError(f"`{name}` must be >= 0, found {float(values.min()):.4g}")

    return Deferred(torch.isfinite(values) & (values >= 0), explain)


def scored_positions_hold(
    target: torch.Tensor, ignore_index: int, name: str = "target"
) -> Deferred:
    """Deferred check that some position of ``target`` is not ``ignore_index``."""

    def explain() -> None:
        raise ValueError(
            f"`{name}` has nothing to score: every position equals `ignore_index` = {ignore_index}"
        )

    return Deferred((target != ignore_index).any(), explain)


# --- Hierarchical and mixed-type losses: value checks on any device --------------


def result_finite_holds(
    values: torch.Tensor,
    inputs: Mapping[str, torch.Tensor | None],
    *,
    advice: str = "rescale the inputs",
) -> Deferred:
    """Deferred: ``values`` (a small intermediate result) must be finite.

    ``inputs`` maps argument names to the tensors to blame, in order (``None``
    entries are skipped); ``advice`` ends the message raised when they are all
    finite and the loss overflowed nonetheless.
    """

    def explain() -> None:
        for name, tensor in inputs.items():
            if tensor is not None:
                check_finite(tensor.detach(), name)
        raise ValueError(
            f"the loss overflowed to a non-finite value although every input is finite; {advice}"
        )

    return Deferred(torch.isfinite(values.detach()), explain)


def level_codes_hold(
    codes: torch.Tensor, num_levels: int, name: str, columns: Sequence[int]
) -> Deferred:
    """Deferred check of categorical level codes stored as floats: integers in ``[0, K)``.

    ``codes`` has shape ``(N, G, ...)``: the ``G`` columns ``columns`` of ``name``,
    all with ``num_levels`` levels. NaN fails the check.
    """
    values = codes.detach()
    holds = (values == values.round()) & (values >= 0) & (values < num_levels)

    def explain() -> None:
        bad = (~holds).movedim(1, 0).reshape(len(columns), -1).any(dim=1)
        column = columns[int(bad.int().argmax())]
        raise ValueError(
            f"`{name}` column {column} must hold integer level codes in [0, {num_levels}) "
            "(NaN is not allowed)"
        )

    return Deferred(holds, explain)


# --- Losses: sigmoid focal, masked BCE, distillation, InfoNCE, logit adjustment ---


def check_prior_shape(
    prior: torch.Tensor, num_classes: int | None = None, name: str = "prior"
) -> None:
    """The metadata part of :func:`check_prior`: a non-empty 1-D floating tensor of length ``K``.

    Its values are checked by ``distribution_holds(prior, name, positive=True)``.
    """
    check_floating(prior, name)
    if prior.dim() != 1 or prior.numel() == 0:
        raise ValueError(f"`{name}` must be a 1-D probability vector, got {tuple(prior.shape)}")
    if num_classes is not None and prior.numel() != num_classes:
        raise ValueError(
            f"`{name}` must hold one probability per class ({num_classes}), got {prior.numel()}"
        )


def check_matrix(tensor: torch.Tensor, name: str, what: str = "(N, K)") -> None:
    """Require a 2-D floating-point tensor (possibly empty, as a batch of no rows)."""
    check_floating(tensor, name)
    if tensor.dim() != 2:
        raise ValueError(f"`{name}` must be a 2-D tensor {what}, got {tuple(tensor.shape)}")


def check_flag(value: object, name: str) -> None:
    """Require ``True`` or ``False`` (not a number, a string or a tensor)."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False, got {value!r}")


def not_nan_holds(tensor: torch.Tensor, name: str) -> Deferred:
    """The value part of :func:`check_not_nan`, deferred: infinities are allowed."""
    values = tensor.detach()

    def explain() -> None:
        raise ValueError(f"`{name}` contains NaN values")

    return Deferred(~values.isnan(), explain)


def check_mask_dtype(mask: torch.Tensor, name: str = "mask") -> None:
    """Require a boolean or real-valued mask (the metadata part of :func:`mask_values_hold`)."""
    check_tensor(mask, name)
    if mask.is_complex():
        raise ValueError(f"`{name}` must be boolean or hold only the values 0 and 1")


def mask_values_hold(mask: torch.Tensor, name: str = "mask") -> Deferred:
    """Deferred check that a numeric mask holds only 0 and 1 (a boolean one always does)."""
    values = mask.detach()

    def explain() -> None:
        raise ValueError(f"`{name}` must be boolean or hold only the values 0 and 1")

    if values.dtype == torch.bool:
        return Deferred(torch.ones((), dtype=torch.bool, device=values.device), explain)
    return Deferred((values == 0) | (values == 1), explain)  # False at NaN


def observed_targets_hold(
    target: torch.Tensor, observed: torch.Tensor, name: str = "target", mask_name: str = "mask"
) -> Deferred:
    """Deferred check of binary targets in ``[0, 1]`` where ``observed`` is true.

    Unobserved entries may hold anything, NaN included (a common way to store a
    missing label).
    """
    values = target.detach()

    def explain() -> None:
        seen = values[observed]
        if bool(seen.isnan().any()):
            raise ValueError(
                f"`{name}` is NaN at an entry where `{mask_name}` is True (an observed label)"
            )
        raise ValueError(f"`{name}` must lie in [0, 1] where `{mask_name}` is True")

    return Deferred(~observed | ((values >= 0) & (values <= 1)), explain)


# --- Training: an ensemble built and fitted in one call (fit_ensemble) ------------


def check_callable(value: object, name: str) -> None:
    """Require something callable, such as a loss function."""
    if not callable(value):
        raise ValueError(f"`{name}` must be callable, got {type(value).__name__}")


def check_device(value: object, name: str = "device") -> torch.device:
    """Return ``value`` as a ``torch.device``; a CUDA or MPS device must be available."""
    if not isinstance(value, str | torch.device):
        raise ValueError(f"`{name}` must be a torch.device or its name, got {value!r}")
    try:
        device = torch.device(value)
    except RuntimeError as error:
        raise ValueError(f"`{name}` must name a device, got {value!r}") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`{name}` is {value!r} but CUDA is not available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"`{name}` is {value!r} but MPS is not available")
    return device


def check_ensemble_data(
    inputs: torch.Tensor, targets: torch.Tensor, num_members: int, d_in: int
) -> None:
    """Require floating ``inputs`` ``(N, num_members, d_in)`` or ``(N, d_in)`` with ``N >= 1``
    and a ``targets`` tensor with the same ``N`` (metadata only)."""
    check_floating(inputs, "inputs")
    check_tensor(targets, "targets")
    if inputs.dim() not in (2, 3) or tuple(inputs.shape[1:]) not in (
        (num_members, d_in),
        (d_in,),
    ):
        raise ValueError(
            f"`inputs` must have shape (N, {num_members}, {d_in}) or (N, {d_in}) for "
            f"{num_members} members of input width {d_in}, got {tuple(inputs.shape)}"
        )
    if inputs.shape[0] == 0:
        raise ValueError(f"`inputs` must hold at least one example, got {tuple(inputs.shape)}")
    if targets.dim() == 0 or targets.shape[0] != inputs.shape[0]:
        raise ValueError(
            f"`targets` must have the first dimension of `inputs` ({inputs.shape[0]}), "
            f"got shape {tuple(targets.shape)}"
        )


def check_keywords(options: Mapping[str, object], accepted: Sequence[str], name: str) -> None:
    """Raise ``TypeError`` for a keyword in ``options`` that ``name`` does not accept."""
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {unknown} for `{name}`; it accepts {list(accepted)}"
        )


# --- Decisions under a cost matrix (metrics/expected_cost.py) ---------------------


def check_cost_matrix(costs: object, name: str = "costs") -> torch.Tensor:
    """Return a binary cost matrix ``costs[action, truth]`` as a float64 CPU tensor.

    Rows are the actions (0: call negative, 1: call positive), columns the true
    classes, as in :cite:t:`elkan2001`: ``[[C_TN, C_FN], [C_FP, C_TP]]``. The entries must be
    finite, and for each class the wrong action must cost at least as much as the
    right one (``C_FP >= C_TN`` and ``C_FN >= C_TP``), strictly for one class at
    least: otherwise every action is equally good and no threshold is defined.
    """
    if isinstance(costs, str | bytes) or (
        isinstance(costs, torch.Tensor) and (costs.is_complex() or costs.dtype == torch.bool)
    ):
        raise ValueError(f"`{name}` must be a 2x2 matrix of real numbers, got {costs!r}")
    try:
        if isinstance(costs, torch.Tensor):
            matrix = costs.detach().to("cpu", torch.float64)
        else:  # nested sequences of Python floats: read them in float64, not float32
            matrix = torch.as_tensor(costs, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"`{name}` must be a 2x2 matrix of real numbers, got {costs!r}") from error
    if matrix.shape != (2, 2):
        raise ValueError(
            f"`{name}` must be a 2x2 matrix [[C_TN, C_FN], [C_FP, C_TP]] (rows: actions, "
            f"columns: true classes), got shape {tuple(matrix.shape)}"
        )
    check_finite(matrix, name)
    (c_tn, c_fn), (c_fp, c_tp) = matrix.tolist()
    if c_fp < c_tn:
        raise ValueError(
            f"`{name}`: a false positive must cost at least as much as a true negative, "
            f"got C_FP = {c_fp:g} < C_TN = {c_tn:g} (rows are actions, columns true classes)"
        )
    if c_fn < c_tp:
        raise ValueError(
            f"`{name}`: a false negative must cost at least as much as a true positive, "
            f"got C_FN = {c_fn:g} < C_TP = {c_tp:g} (rows are actions, columns true classes)"
        )
    if c_fp == c_tn and c_fn == c_tp:
        raise ValueError(
            f"`{name}`: some error must cost more than the right action, "
            "else every threshold is optimal"
        )
    return matrix

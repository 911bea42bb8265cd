r"""One reconstruction loss for a table whose columns have different types.

A row of a mixed-type table holds binary, continuous and categorical values.
A decoder that reconstructs the row outputs one slice of numbers per column:
a logit for a binary column, a mean for a continuous column and ``K`` logits
for a categorical column with ``K`` levels. :class:`MixedSchema` records the
columns and where their slices lie; :func:`mixed_type_nll` turns the outputs
into the negative log-likelihood of the row under a factorised model, one
Bernoulli, Gaussian or categorical distribution per column, and reports the
contribution of each type separately.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .._reduction import Reduction, reduce_loss
from .._validation import (
    Deferred,
    check_floating,
    check_reduction,
    finite_holds,
    level_codes_hold,
    result_finite_holds,
    run_deferred,
    unit_interval_holds,
)
from ._module import LossModule

#: The column types, in the order the per-type terms are reported.
KINDS = ("binary", "continuous", "categorical")

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class ColumnSpec:
    r"""The type of one column and the distribution that models it.

    - ``"binary"``: values in :math:`[0, 1]` (0/1 labels or probabilities),
      modelled by a Bernoulli distribution; the decoder outputs one logit.
    - ``"continuous"``: real values, modelled by a Gaussian
      :math:`\mathcal{N}(\mu, \sigma^2)`; the decoder outputs the mean
      :math:`\mu` and ``scale`` is the fixed standard deviation :math:`\sigma`
      (replaced by the ``log_scale`` argument of :func:`mixed_type_nll`
      when the scale is learned).
    - ``"categorical"``: one of ``num_classes`` levels, stored as the float
      codes ``0.0, 1.0, ..., K - 1``; the decoder outputs ``K`` logits.

    Use the constructors :meth:`binary`, :meth:`continuous` and
    :meth:`categorical` rather than the raw fields.

    Parameters
    ----------
    kind : {"binary", "continuous", "categorical"}
        The column type.
    num_classes : int, optional
        Number of levels ``K >= 2``; required for categorical columns and
        forbidden for the others.
    scale : float, default 1.0
        Standard deviation :math:`\sigma > 0` of a continuous column's Gaussian,
        in the column's own units. Must stay 1.0 for the other kinds.
    name : str, default ""
        A label for printing; not used in the computation.

    Examples
    --------
    >>> ColumnSpec.categorical(3, name="colour").width
    3
    >>> ColumnSpec.continuous(scale=2.5).scale
    2.5
    """

    kind: str
    num_classes: int | None = None
    scale: float = 1.0
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"`kind` must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "categorical":
            k = self.num_classes
            if isinstance(k, bool) or not isinstance(k, int) or k < 2:
                raise ValueError(
                    f"`num_classes` must be an integer >= 2 for a categorical column, got {k!r}"
                )
        elif self.num_classes is not None:
            raise ValueError(
                f"`num_classes` is only allowed for categorical columns, not {self.kind}"
            )
        scale = float(self.scale)
        if not (0 < scale < math.inf):
            raise ValueError(f"`scale` must be a finite number > 0, got {self.scale}")
        if self.kind != "continuous" and scale != 1.0:
            raise ValueError(f"`scale` is only used by continuous columns, not {self.kind}")
        object.__setattr__(self, "scale", scale)
        if not isinstance(self.name, str):
            raise ValueError(f"`name` must be a string, got {self.name!r}")

    @classmethod
    def binary(cls, name: str = "") -> ColumnSpec:
        """A binary column (one logit)."""
        return cls("binary", name=name)

    @classmethod
    def continuous(cls, scale: float = 1.0, name: str = "") -> ColumnSpec:
        """A continuous column (one mean) with a Gaussian of standard deviation ``scale``."""
        return cls("continuous", scale=scale, name=name)

    @classmethod
    def categorical(cls, num_classes: int, name: str = "") -> ColumnSpec:
        """A categorical column with ``num_classes`` levels (that many logits)."""
        return cls("categorical", num_classes=num_classes, name=name)

    @property
    def width(self) -> int:
        """The number of decoder outputs the column uses (1, 1 or ``num_classes``)."""
        return _num_levels(self) if self.kind == "categorical" else 1


def _num_levels(column: ColumnSpec) -> int:
    """``num_classes`` of a categorical column (``ColumnSpec.__post_init__`` requires it)."""
    if column.num_classes is None:
        raise ValueError(f"column {column.name!r} of kind {column.kind!r} has no levels")
    return column.num_classes


class MixedSchema:
    r"""The columns of a mixed-type table and where their outputs lie.

    A table with :math:`C` columns is stored as a float tensor ``target`` of
    shape ``(N, C, *)``: binary columns hold values in :math:`[0, 1]`,
    continuous columns real values and categorical columns their level codes.
    The decoder's ``outputs`` have shape ``(N, D, *)`` with
    :math:`D` = ``num_outputs``: the columns' slices, in column order,
    one logit per binary column, one mean per continuous column and ``K``
    logits per categorical column. Any trailing dimensions ``*`` (pixels,
    ensemble members) are carried along, as in ``F.cross_entropy``.

    Parameters
    ----------
    columns : sequence of ColumnSpec
        At least one column.

    Examples
    --------
    >>> schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.categorical(3),
    ...                       ColumnSpec.continuous()])
    >>> schema.num_columns, schema.num_outputs
    (3, 5)
    >>> schema.output_slices
    (slice(0, 1, None), slice(1, 4, None), slice(4, 5, None))
    >>> schema.encode(torch.tensor([[1.0, 2.0, -0.5]]))
    tensor([[ 1.0000,  0.0000,  0.0000,  1.0000, -0.5000]])
    """

    def __init__(self, columns: Sequence[ColumnSpec]) -> None:
        if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
            raise ValueError(f"`columns` must be a sequence of ColumnSpec, got {columns!r}")
        columns = tuple(columns)
        if not columns:
            raise ValueError("`columns` must hold at least one ColumnSpec")
        for column in columns:
            if not isinstance(column, ColumnSpec):
                raise ValueError(f"`columns` must hold ColumnSpec objects, got {column!r}")
        self.columns: tuple[ColumnSpec, ...] = columns
        starts, stop = [], 0
        for column in columns:
            starts.append(stop)
            stop += column.width
        self.output_slices: tuple[slice, ...] = tuple(
            slice(start, start + column.width)
            for start, column in zip(starts, columns, strict=True)
        )
        self.num_outputs: int = stop
        self._cache = {torch.device("cpu"): _layout_of(self)}

    @property
    def num_columns(self) -> int:
        """Number of columns :math:`C` (the size of ``target``'s dimension 1)."""
        return len(self.columns)

    def indices(self, kind: str) -> tuple[int, ...]:
        """Positions (in ``target``) of the columns of type ``kind``."""
        if kind not in KINDS:
            raise ValueError(f"`kind` must be one of {KINDS}, got {kind!r}")
        return tuple(i for i, column in enumerate(self.columns) if column.kind == kind)

    def count(self, kind: str) -> int:
        """Number of columns of type ``kind``."""
        return len(self.indices(kind))

    @property
    def scales(self) -> tuple[float, ...]:
        """The fixed standard deviations of the continuous columns, in column order."""
        return tuple(self.columns[i].scale for i in self.indices("continuous"))

    def with_scales(self, scales: Sequence[float]) -> MixedSchema:
        """A copy whose continuous columns have the standard deviations ``scales``."""
        positions = self.indices("continuous")
        scales = [float(s) for s in scales]
        if len(scales) != len(positions):
            raise ValueError(
                f"`scales` must hold one value per continuous column ({len(positions)}), "
                f"got {len(scales)}"
            )
        columns = list(self.columns)
        for i, scale in zip(positions, scales, strict=True):
            columns[i] = ColumnSpec.continuous(scale=scale, name=columns[i].name)
        return MixedSchema(columns)

    def encode(self, target: torch.Tensor) -> torch.Tensor:
        """Lay a table out like the outputs: categorical codes become one-hot vectors.

        Binary and continuous values are copied unchanged, so a network input
        built this way has ``num_outputs`` features per row.
        """
        _check_target(target, self)
        pieces = []
        for i, column in enumerate(self.columns):
            values = target[:, i : i + 1]
            if column.kind == "categorical":
                one_hot = F.one_hot(values.squeeze(1).long(), _num_levels(column))
                values = one_hot.movedim(-1, 1).to(target.dtype)
            pieces.append(values)
        return torch.cat(pieces, dim=1)

    def mode(self, outputs: torch.Tensor) -> torch.Tensor:
        """The most probable value of every column, laid out like ``target``.

        A binary column gives 1 where its logit is positive (0 at a tie), a
        continuous column its mean and a categorical column its most likely
        level.
        """
        _check_outputs(outputs, self)
        values = []
        for column, where in zip(self.columns, self.output_slices, strict=True):
            piece = outputs[:, where]
            if column.kind == "binary":
                piece = (piece > 0).to(outputs.dtype)
            elif column.kind == "categorical":
                piece = piece.argmax(dim=1, keepdim=True).to(outputs.dtype)
            values.append(piece)
        return torch.cat(values, dim=1)

    def _layout(self, device: torch.device | str) -> _Layout:
        """The index tensors of the column layout on ``device``, copied once and cached."""
        device = torch.device(device)
        if device not in self._cache:
            self._cache[device] = self._cache[torch.device("cpu")].to(device)
        return self._cache[device]

    def __len__(self) -> int:
        return self.num_columns

    def __iter__(self) -> Iterator[ColumnSpec]:
        return iter(self.columns)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MixedSchema) and self.columns == other.columns

    def __hash__(self) -> int:
        return hash(self.columns)

    def __repr__(self) -> str:
        counts = ", ".join(f"{kind}={self.count(kind)}" for kind in KINDS)
        return f"MixedSchema({counts}, num_outputs={self.num_outputs})"


class MixedTypeNLL(NamedTuple):
    """What :func:`mixed_type_nll` returns.

    ``total`` is the weighted sum of the three per-type terms; each per-type
    term is the negative log-likelihood of that type's columns, summed over
    the columns and left unweighted (0 for a type without columns).

    Examples
    --------
    >>> schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.categorical(2)])
    >>> nll = mixed_type_nll(torch.zeros(2, 3), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), schema)
    >>> nll.binary, nll.continuous, nll.categorical
    (tensor(0.6931), tensor(0.), tensor(0.6931))
    >>> nll.total
    tensor(1.3863)
    """

    total: torch.Tensor
    binary: torch.Tensor
    continuous: torch.Tensor
    categorical: torch.Tensor


def mixed_type_nll(
    outputs: torch.Tensor,
    target: torch.Tensor,
    schema: MixedSchema,
    *,
    log_scale: torch.Tensor | None = None,
    weights: Mapping[str, float] | None = None,
    reduction: Reduction = "mean",
    validate_args: bool = True,
) -> MixedTypeNLL:
    r"""Negative log-likelihood of mixed-type rows under a factorised model.

    Each column :math:`j` of a row :math:`x` gets its own distribution, with
    parameters read from the column's slice of ``outputs``: a logit
    :math:`a_j` (binary), a mean :math:`\mu_j` (continuous) or logits
    :math:`\mathbf{z}_j` (categorical). The row's likelihood is their product,
    so its negative log is a sum of one term per type:

    .. math::

        \begin{aligned}
        -\log p(x) ={}& \underbrace{\sum_{j \in \mathcal{B}}
            -\bigl[x_j \log \sigma(a_j) + (1 - x_j) \log \sigma(-a_j)\bigr]}_{\text{binary}} \\
        &+ \underbrace{\sum_{j \in \mathcal{G}} \Bigl[
            \frac{(x_j - \mu_j)^2}{2 \sigma_j^2} + \log \sigma_j
            + \tfrac12 \log 2\pi \Bigr]}_{\text{continuous}} \\
        &+ \underbrace{\sum_{j \in \mathcal{K}}
            -\log \operatorname{softmax}(\mathbf{z}_j)_{x_j}}_{\text{categorical}} .
        \end{aligned}

    The first term is binary cross-entropy, the last categorical
    cross-entropy, and the middle one the Gaussian negative log-likelihood,
    constants included. With :math:`\sigma_j = 1` it is half the squared
    error plus :math:`\tfrac12 \log 2\pi`, so the common "MSE" reconstruction
    loss is this term with weight 2, shifted by a constant. This is the
    observation model of the HI-VAE of :cite:t:`nazabal2020`.

    ``total`` is :math:`\sum_t w_t L_t` over the types :math:`t`, with the
    weights :math:`w_t` of ``weights`` (default 1, which makes ``total`` the
    exact negative log-likelihood).

    Parameters
    ----------
    outputs : Tensor
        Decoder outputs of shape ``(N, D, *)`` with ``D = schema.num_outputs``.
    target : Tensor
        The table, floating point, shape ``(N, C, *)`` with
        ``C = schema.num_columns`` (see :class:`MixedSchema`).
    schema : MixedSchema
        The column types and output layout.
    log_scale : Tensor, optional
        :math:`\log \sigma` of the continuous columns, broadcastable to
        ``(N, C_cont, *)`` where ``C_cont`` is the number of continuous
        columns: a free parameter per column (shape ``(C_cont,)``, or
        ``(C_cont, 1, ...)`` with trailing dimensions) or a decoder output per
        row. Replaces the fixed ``scale`` of the columns; gradients flow into
        it.
    weights : mapping, optional
        Weights of the per-type terms, e.g. ``{"categorical": 0.25}``; keys
        among ``"binary"``, ``"continuous"``, ``"categorical"``, values finite
        and >= 0; a missing key means 1.
    reduction : {"mean", "sum", "none"}, default "mean"
        How the per-row values are combined: averaged over rows (and trailing
        dimensions), summed, or returned with shape ``(N, *)``. With no row,
        ``"mean"`` is NaN and ``"sum"`` is 0, as for
        ``torch.nn.functional.cross_entropy``.
    validate_args : bool, default True
        Check the values of the inputs (binary values in ``[0, 1]``, finite
        continuous values, integer level codes in range, a finite loss),
        reading them back from the device once. ``False`` skips these checks:
        the call then never synchronises with an accelerator and
        ``torch.compile`` traces it without a graph break. Shapes, dtypes and
        options are always checked.

    Returns
    -------
    MixedTypeNLL
        Named tuple ``(total, binary, continuous, categorical)``, each reduced
        as asked.

    Examples
    --------
    >>> schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.continuous(),
    ...                       ColumnSpec.categorical(3)])
    >>> outputs = torch.tensor([[0.0, 1.0, 0.0, 0.0, 0.0]])
    >>> target = torch.tensor([[1.0, 1.0, 2.0]])
    >>> nll = mixed_type_nll(outputs, target, schema)
    >>> [round(v.item(), 4) for v in nll]  # log 2 + log(2 pi)/2 + log 3
    [2.7107, 0.6931, 0.9189, 1.0986]
    >>> mixed_type_nll(outputs, target, schema, weights={"continuous": 0.0}).total
    tensor(1.7918)
    """
    _check_shapes(outputs, target, schema, log_scale)
    type_weights = _check_weights(weights)
    check_reduction(reduction)
    layout = schema._layout(outputs.device)
    binary = target.index_select(1, layout.binary_columns)
    continuous = target.index_select(1, layout.continuous_columns)
    codes = [target.index_select(1, group.columns) for group in layout.categorical]
    deferred: list[Deferred] = []
    if validate_args:
        deferred, code_checks = _table_values_hold(binary, continuous, codes, layout)
        # A level code out of range would make cross_entropy fail before the checks
        # are read: it is replaced by 0 there, and the deferred check reports it.
        codes = [
            torch.where(check.holds, code, 0.0)
            for code, check in zip(codes, code_checks, strict=True)
        ]
        deferred += code_checks
    terms = {
        "binary": _binary_nll(outputs, binary, layout),
        "continuous": _gaussian_nll(outputs, continuous, layout, log_scale),
        "categorical": _categorical_nll(outputs, codes, layout),
    }
    total = sum((type_weights[kind] * terms[kind] for kind in KINDS), start=_zeros(outputs))
    if validate_args:
        blame = {"outputs": outputs, "log_scale": log_scale}
        run_deferred(*deferred, result_finite_holds(total, blame, advice=_OVERFLOW_ADVICE))
    values = [total, *(terms[kind] for kind in KINDS)]
    return MixedTypeNLL(*(reduce_loss(value, reduction) for value in values))


_OVERFLOW_ADVICE = (
    "a continuous residual divided by its scale is too large for the dtype "
    "(use float64 or a larger scale)"
)


def _total_nll(
    outputs: torch.Tensor,
    target: torch.Tensor,
    log_scale: torch.Tensor | None = None,
    *,
    schema: MixedSchema,
    weights: Mapping[str, float],
    reduction: Reduction,
    validate_args: bool,
) -> torch.Tensor:
    """``mixed_type_nll(...).total``, with ``log_scale`` as a third input."""
    return mixed_type_nll(
        outputs,
        target,
        schema,
        log_scale=log_scale,
        weights=weights,
        reduction=reduction,
        validate_args=validate_args,
    ).total


class MixedTypeNLLLoss(LossModule):
    """Module form of :func:`mixed_type_nll` that returns only the total.

    ``MixedTypeNLLLoss(schema)(outputs, target)`` equals
    ``mixed_type_nll(outputs, target, schema).total``, which makes it usable
    wherever a loss ``loss_fn(outputs, target)`` is expected; a learned
    ``log_scale`` is passed as a third input.

    Parameters
    ----------
    schema : MixedSchema
        The column types and output layout.
    weights : mapping, optional
        Weights of the per-type terms, as in :func:`mixed_type_nll`.
    reduction : {"mean", "sum", "none"}, default "mean"
    validate_args : bool, default True
        Passed on to :func:`mixed_type_nll`.

    Examples
    --------
    >>> schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.categorical(2)])
    >>> loss = MixedTypeNLLLoss(schema, weights={"binary": 0.5})
    >>> loss  # doctest: +NORMALIZE_WHITESPACE
    MixedTypeNLLLoss(schema=MixedSchema(binary=1, continuous=0, categorical=1,
                     num_outputs=3), weights={'binary': 0.5}, reduction='mean')
    >>> loss(torch.zeros(4, 3), torch.tensor([[0.0, 1.0]] * 4))
    tensor(1.0397)
    """

    function = staticmethod(_total_nll)
    options = ("schema", "weights")

    def __init__(
        self,
        schema: MixedSchema,
        *,
        weights: Mapping[str, float] | None = None,
        reduction: Reduction = "mean",
        validate_args: bool = True,
    ) -> None:
        _check_schema(schema)
        _check_weights(weights)
        super().__init__(
            schema=schema,
            weights=dict(weights or {}),
            reduction=reduction,
            validate_args=validate_args,
        )

    def forward(self, *inputs: torch.Tensor, log_scale: torch.Tensor | None = None) -> torch.Tensor:
        """The weighted total of :func:`mixed_type_nll` for ``(outputs, target)``.

        ``log_scale`` may be given as a third input or by name.
        """
        return super().forward(*inputs, *([] if log_scale is None else [log_scale]))


# --- the layout of the columns on a device -------------------------------------------------


@dataclass(frozen=True)
class _Levels:
    """The categorical columns with ``num_levels`` levels, as index tensors."""

    num_levels: int
    positions: tuple[int, ...]  # the columns in `target`, for messages
    columns: torch.Tensor  # (G,) the columns in `target`
    logits: torch.Tensor  # (G * K,) their logits in `outputs`, column after column

    def to(self, device: torch.device) -> _Levels:
        return _Levels(
            self.num_levels, self.positions, self.columns.to(device), self.logits.to(device)
        )


@dataclass(frozen=True)
class _Layout:
    """Where the columns of each type lie in ``target`` and in ``outputs``, on one device."""

    binary_columns: torch.Tensor  # (B,) in `target`
    binary_outputs: torch.Tensor  # (B,) their logits in `outputs`
    continuous_columns: torch.Tensor  # (G,) in `target`
    continuous_outputs: torch.Tensor  # (G,) their means in `outputs`
    scales: torch.Tensor  # (G,) the fixed standard deviations, float64
    categorical: tuple[_Levels, ...]  # one group per number of levels

    def to(self, device: torch.device) -> _Layout:
        """A copy with every tensor on ``device``."""
        moved = {
            f.name: getattr(self, f.name).to(device)
            for f in fields(self)
            if f.name != "categorical"
        }
        return _Layout(**moved, categorical=tuple(group.to(device) for group in self.categorical))


def _layout_of(schema: MixedSchema) -> _Layout:
    """The layout of ``schema`` on the CPU."""

    def starts(columns: Sequence[int]) -> torch.Tensor:
        return torch.tensor([schema.output_slices[i].start for i in columns], dtype=torch.long)

    groups: dict[int, list[int]] = {}
    for i in schema.indices("categorical"):
        groups.setdefault(_num_levels(schema.columns[i]), []).append(i)
    # Columns with the same number of levels share one cross-entropy call.
    categorical = tuple(
        _Levels(
            k,
            tuple(columns),
            torch.tensor(columns, dtype=torch.long),
            (starts(columns)[:, None] + torch.arange(k)).flatten(),
        )
        for k, columns in groups.items()
    )
    binary, continuous = schema.indices("binary"), schema.indices("continuous")
    return _Layout(
        binary_columns=torch.tensor(binary, dtype=torch.long),
        binary_outputs=starts(binary),
        continuous_columns=torch.tensor(continuous, dtype=torch.long),
        continuous_outputs=starts(continuous),
        scales=torch.tensor(schema.scales, dtype=torch.float64),
        categorical=categorical,
    )


# --- the three terms ----------------------------------------------------------------------


def _zeros(outputs: torch.Tensor) -> torch.Tensor:
    return outputs.new_zeros((outputs.shape[0], *outputs.shape[2:]))


def _binary_nll(outputs: torch.Tensor, values: torch.Tensor, layout: _Layout) -> torch.Tensor:
    if not layout.binary_columns.numel():
        return _zeros(outputs)
    logits = outputs.index_select(1, layout.binary_outputs)
    return F.binary_cross_entropy_with_logits(logits, values, reduction="none").sum(1)


def _gaussian_nll(
    outputs: torch.Tensor,
    values: torch.Tensor,
    layout: _Layout,
    log_scale: torch.Tensor | None,
) -> torch.Tensor:
    if not layout.continuous_columns.numel():
        return _zeros(outputs)
    mean = outputs.index_select(1, layout.continuous_outputs)
    if log_scale is None:
        fixed = layout.scales.to(outputs.dtype)
        log_scale = fixed.log().view(-1, *([1] * (outputs.dim() - 2)))
    standardised = (values - mean) * torch.exp(-log_scale)
    nll = 0.5 * standardised.square() + log_scale + _HALF_LOG_2PI
    return nll.sum(1)


def _categorical_nll(
    outputs: torch.Tensor, codes: list[torch.Tensor], layout: _Layout
) -> torch.Tensor:
    total = _zeros(outputs)
    # The logits of a group of G columns with K levels are gathered to (N, K, G, *),
    # the G columns trailing, for one cross-entropy call.
    for group, code in zip(layout.categorical, codes, strict=True):
        logits = outputs.index_select(1, group.logits)
        logits = logits.unflatten(1, (len(group.positions), group.num_levels)).transpose(1, 2)
        total = total + F.cross_entropy(logits, code.long(), reduction="none").sum(1)
    return total


# --- checks -------------------------------------------------------------------------------


def _check_schema(schema: object) -> None:
    if not isinstance(schema, MixedSchema):
        raise ValueError(f"`schema` must be a MixedSchema, got {type(schema).__name__}")


def _check_shapes(
    outputs: torch.Tensor,
    target: torch.Tensor,
    schema: MixedSchema,
    log_scale: torch.Tensor | None,
) -> None:
    """The checks of :func:`mixed_type_nll` that read no tensor data."""
    _check_schema(schema)
    _check_outputs(outputs, schema)
    _check_target_shape(target, schema)
    expected = (outputs.shape[0], schema.num_columns, *outputs.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"`target` must have shape {expected} to match `outputs` of shape "
            f"{tuple(outputs.shape)}, got {tuple(target.shape)}"
        )
    if log_scale is not None:
        num_continuous = schema.count("continuous")
        if not num_continuous:
            raise ValueError("`log_scale` was given but `schema` has no continuous column")
        _check_log_scale(log_scale, (outputs.shape[0], num_continuous, *outputs.shape[2:]))


def _check_outputs(outputs: torch.Tensor, schema: MixedSchema) -> None:
    check_floating(outputs, "outputs")
    if outputs.dim() < 2 or outputs.shape[1] != schema.num_outputs:
        raise ValueError(
            f"`outputs` must have shape (N, {schema.num_outputs}, ...) for this schema, "
            f"got {tuple(outputs.shape)}"
        )


def _check_target_shape(target: torch.Tensor, schema: MixedSchema) -> None:
    check_floating(target, "target")
    if target.dim() < 2 or target.shape[1] != schema.num_columns:
        raise ValueError(
            f"`target` must have shape (N, {schema.num_columns}, ...) for this schema, "
            f"got {tuple(target.shape)}"
        )


def _check_target(target: torch.Tensor, schema: MixedSchema) -> None:
    """Check a table against ``schema``: shape, then its values in one host transfer."""
    _check_target_shape(target, schema)
    layout = schema._layout(target.device)
    checks, code_checks = _table_values_hold(
        target.index_select(1, layout.binary_columns),
        target.index_select(1, layout.continuous_columns),
        [target.index_select(1, group.columns) for group in layout.categorical],
        layout,
    )
    run_deferred(*checks, *code_checks)


def _table_values_hold(
    binary: torch.Tensor,
    continuous: torch.Tensor,
    codes: list[torch.Tensor],
    layout: _Layout,
) -> tuple[list[Deferred], list[Deferred]]:
    """Deferred checks of a table's values: those of the binary and continuous columns,
    and one per group of categorical columns (whose level codes must be in range)."""
    values = [unit_interval_holds(binary, "target"), finite_holds(continuous, "target")]
    levels = [
        level_codes_hold(code, group.num_levels, "target", group.positions)
        for code, group in zip(codes, layout.categorical, strict=True)
    ]
    return values, levels


def _check_log_scale(log_scale: torch.Tensor, shape: tuple[int, ...]) -> None:
    check_floating(log_scale, "log_scale")
    try:
        broadcast = torch.broadcast_shapes(tuple(log_scale.shape), shape)
    except RuntimeError:
        broadcast = None
    if broadcast != torch.Size(shape):
        raise ValueError(
            f"`log_scale` must broadcast to {shape} (rows, continuous columns, ...), "
            f"got {tuple(log_scale.shape)}"
        )


def _check_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    if weights is None:
        return dict.fromkeys(KINDS, 1.0)
    if not isinstance(weights, Mapping):
        raise ValueError(f"`weights` must be a mapping from column type to weight, got {weights!r}")
    unknown = set(weights) - set(KINDS)
    if unknown:
        raise ValueError(f"`weights` has unknown keys {sorted(unknown)}; allowed: {KINDS}")
    result = dict.fromkeys(KINDS, 1.0)
    for kind, value in weights.items():
        try:
            value = float(value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"`weights` must map to numbers, got {kind}={value!r}") from error
        if not (0 <= value < math.inf):
            raise ValueError(f"`weights` must be finite and >= 0, got {kind}={value}")
        result[kind] = value
    return result

r"""A seeded mixed-type table whose columns share a few latent factors.

An autoencoder can only beat a per-column baseline (the column mean, the most
frequent value) if the columns carry information about each other.
:class:`LatentFactorTable` builds that in: every row has a few hidden
Gaussian factors, and every column, binary, continuous or categorical, is a
noisy function of them. The distribution of each column given the factors is
known exactly, in the layout that :func:`~xenthelpers.losses.mixed_type_nll`
reads, so the best possible reconstruction can be computed too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch

from .._validation import check_finite, check_floating, check_positive, check_positive_int
from ..losses.mixed_type import ColumnSpec, MixedSchema


class MixedTableSample(NamedTuple):
    """What :meth:`LatentFactorTable.sample` draws.

    - ``table``: ``(N, C)`` float tensor laid out as
      :class:`~xenthelpers.losses.MixedSchema` describes (binary values 0/1,
      continuous values, categorical level codes).
    - ``factors``: ``(N, F)`` float tensor, the hidden factors of each row.

    Examples
    --------
    >>> model = make_mixed_table(1, 1, 1, num_classes=3)
    >>> sample = model.sample(5, generator=torch.Generator().manual_seed(0))
    >>> sample.table.shape, sample.factors.shape
    (torch.Size([5, 3]), torch.Size([5, 2]))
    >>> sample.table[:, 2].tolist()  # level codes of the categorical column
    [1.0, 0.0, 2.0, 1.0, 1.0]
    """

    table: torch.Tensor
    factors: torch.Tensor


class LatentFactorTable:
    r"""A factor model for mixed-type rows.

    Each row has :math:`F` hidden factors :math:`\mathbf{f} \sim \mathcal{N}(0, I_F)`.
    The parameters of every column's distribution are an affine function of them,

    .. math::

        \boldsymbol\theta = \mathbf{f}^\top W + \mathbf{b} \in \R^D,

    laid out like a decoder's outputs (see :class:`~xenthelpers.losses.MixedSchema`): a logit per
    binary column, :math:`x_j \sim \mathrm{Bernoulli}(\sigma(\theta_j))`; a
    mean per continuous column, :math:`x_j \sim \mathcal{N}(\theta_j, \sigma_j^2)`
    with :math:`\sigma_j` the column's ``scale`` in ``schema``; and :math:`K`
    logits per categorical column, :math:`x_j \sim
    \mathrm{Categorical}(\operatorname{softmax}(\boldsymbol\theta_j))`.
    Given the factors, the columns are independent, which is the factorised
    likelihood of :func:`~xenthelpers.losses.mixed_type_nll`; so
    ``mixed_type_nll(model.parameters(f), x, model.schema)`` is exactly
    :math:`-\log p(x \mid \mathbf{f})`. Without the factors the columns are
    dependent, because they share them.

    Parameters
    ----------
    schema : MixedSchema
        The columns; continuous columns carry their noise standard deviation
        as ``scale``.
    loadings : Tensor
        :math:`W`, floating point, shape ``(F, schema.num_outputs)``.
    offset : Tensor
        :math:`\mathbf{b}`, shape ``(schema.num_outputs,)``, same dtype.

    See Also
    --------
    make_mixed_table : a random model with chosen numbers of columns.

    Examples
    --------
    >>> schema = MixedSchema([ColumnSpec.binary(), ColumnSpec.continuous(scale=0.5)])
    >>> model = LatentFactorTable(schema, torch.tensor([[4.0, 2.0]]), torch.zeros(2))
    >>> model.parameters(torch.tensor([[1.0]]))
    tensor([[4., 2.]])
    >>> sample = model.sample(3, generator=torch.Generator().manual_seed(0))
    >>> sample.table.shape, sample.factors.shape
    (torch.Size([3, 2]), torch.Size([3, 1]))
    """

    def __init__(self, schema: MixedSchema, loadings: torch.Tensor, offset: torch.Tensor) -> None:
        if not isinstance(schema, MixedSchema):
            raise ValueError(f"`schema` must be a MixedSchema, got {type(schema).__name__}")
        check_floating(loadings, "loadings")
        check_finite(loadings, "loadings")
        if loadings.dim() != 2 or loadings.shape[0] < 1 or loadings.shape[1] != schema.num_outputs:
            raise ValueError(
                f"`loadings` must have shape (F, {schema.num_outputs}) with F >= 1, "
                f"got {tuple(loadings.shape)}"
            )
        check_floating(offset, "offset")
        check_finite(offset, "offset")
        if tuple(offset.shape) != (schema.num_outputs,):
            raise ValueError(
                f"`offset` must have shape ({schema.num_outputs},), got {tuple(offset.shape)}"
            )
        self.schema = schema
        self.loadings = loadings.detach().clone()
        self.offset = offset.detach().to(loadings.dtype).clone()

    @property
    def num_factors(self) -> int:
        """Number of hidden factors :math:`F`."""
        return self.loadings.shape[0]

    def __repr__(self) -> str:
        return f"LatentFactorTable({self.schema!r}, num_factors={self.num_factors})"

    def parameters(self, factors: torch.Tensor) -> torch.Tensor:
        r"""The columns' distribution parameters :math:`\mathbf{f}^\top W + \mathbf{b}`.

        Parameters
        ----------
        factors : Tensor
            Shape ``(N, F)``, floating point, on any device.

        Returns
        -------
        Tensor
            Shape ``(N, schema.num_outputs)``, on the device and in the dtype of
            ``factors``: what a perfect decoder that knew the factors would output.
        """
        check_floating(factors, "factors")
        if factors.dim() != 2 or factors.shape[1] != self.num_factors:
            raise ValueError(
                f"`factors` must have shape (N, {self.num_factors}), got {tuple(factors.shape)}"
            )
        loadings = self.loadings.to(device=factors.device, dtype=factors.dtype)
        offset = self.offset.to(device=factors.device, dtype=factors.dtype)
        return factors @ loadings + offset

    def sample(
        self, num_rows: int, *, generator: torch.Generator | None = None
    ) -> MixedTableSample:
        """Draw ``num_rows`` rows and their factors, on the CPU.

        Parameters
        ----------
        num_rows : int
            Number of rows ``N >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible draws (the global one if ``None``).
        """
        check_positive_int(num_rows, "num_rows")
        dtype = self.loadings.dtype
        factors = torch.randn(num_rows, self.num_factors, generator=generator, dtype=dtype)
        theta = self.parameters(factors)
        columns = []
        for column, where in zip(self.schema.columns, self.schema.output_slices, strict=True):
            params = theta[:, where]
            if column.kind == "binary":
                u = torch.rand(num_rows, 1, generator=generator, dtype=dtype)
                value = (u < torch.sigmoid(params)).to(dtype)
            elif column.kind == "continuous":
                noise = torch.randn(num_rows, 1, generator=generator, dtype=dtype)
                value = params + column.scale * noise
            else:
                probs = torch.softmax(params, dim=1)
                value = torch.multinomial(probs, 1, generator=generator).to(dtype)
            columns.append(value)
        return MixedTableSample(torch.cat(columns, dim=1), factors)


def make_mixed_table(
    num_binary: int,
    num_continuous: int,
    num_categorical: int,
    *,
    num_classes: int = 4,
    num_factors: int = 2,
    signal: float = 3.0,
    explained_variance: float = 0.8,
    marginal_std: Sequence[float] | None = None,
    marginal_mean: Sequence[float] | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> LatentFactorTable:
    r"""A random :class:`LatentFactorTable` with the given numbers of columns.

    The columns come in the order binary, continuous, categorical. With
    :math:`\mathbf{u}` a random unit vector in :math:`\R^F`, drawn afresh for
    every logit and every mean, and offsets :math:`b \sim \mathcal{N}(0, 1)`:

    - binary column: logit :math:`s\,\mathbf{u}^\top \mathbf{f} + b`;
    - categorical column: logit of level :math:`k`,
      :math:`s\,\mathbf{u}_k^\top \mathbf{f} + b_k`;
    - continuous column :math:`j` with marginal standard deviation
      :math:`\tau_j`, marginal mean :math:`m_j` and explained variance
      :math:`\rho`:

      .. math::

          x_j = m_j + \tau_j \bigl(\sqrt{\rho}\,\mathbf{u}_j^\top \mathbf{f}
                + \sqrt{1 - \rho}\,\varepsilon_j\bigr),
          \qquad \varepsilon_j \sim \mathcal{N}(0, 1),

      so that :math:`\operatorname{Var} x_j = \tau_j^2` exactly and the
      factors explain the fraction :math:`\rho` of it; the noise standard
      deviation :math:`\tau_j \sqrt{1 - \rho}` is the column's ``scale``.

    Parameters
    ----------
    num_binary, num_continuous, num_categorical : int
        Numbers of columns of each type, each >= 0, at least one column in all.
    num_classes : int, default 4
        Levels of every categorical column, >= 2.
    num_factors : int, default 2
        Number of hidden factors :math:`F \ge 1`.
    signal : float, default 3.0
        :math:`s > 0`, the standard deviation of every logit's factor part:
        larger values make the discrete columns more predictable.
    explained_variance : float, default 0.8
        :math:`\rho \in (0, 1)` for every continuous column.
    marginal_std : sequence of float, optional
        :math:`\tau_j > 0`, one per continuous column (the column's units);
        all 1 if ``None``.
    marginal_mean : sequence of float, optional
        :math:`m_j`, one per continuous column; all 0 if ``None``.
    seed : int, default 0
        Seed of the loadings and offsets (rows are drawn by :meth:`LatentFactorTable.sample`).
    dtype : torch.dtype, default torch.float32
        Floating-point dtype of the model and of its samples.

    Returns
    -------
    LatentFactorTable

    Examples
    --------
    >>> model = make_mixed_table(2, 2, 1, num_classes=3, marginal_std=[1.0, 100.0])
    >>> model.schema
    MixedSchema(binary=2, continuous=2, categorical=1, num_outputs=7)
    >>> [round(s, 3) for s in model.schema.scales]  # noise sd = tau * sqrt(1 - rho)
    [0.447, 44.721]
    >>> x = model.sample(20_000, generator=torch.Generator().manual_seed(0)).table
    >>> abs(x[:, 3].std().item() - 100.0) < 3  # sampling error of the sd: about 0.5
    True
    """
    for value, name in (
        (num_binary, "num_binary"),
        (num_continuous, "num_continuous"),
        (num_categorical, "num_categorical"),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"`{name}` must be an integer >= 0, got {value!r}")
    if num_binary + num_continuous + num_categorical == 0:
        raise ValueError("the table needs at least one column (all counts are 0)")
    check_positive_int(num_classes, "num_classes")
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be >= 2, got {num_classes}")
    check_positive_int(num_factors, "num_factors")
    check_positive(signal, "signal")
    if not 0 < float(explained_variance) < 1:
        raise ValueError(
            f"`explained_variance` must lie strictly between 0 and 1, got {explained_variance}"
        )
    stds = _per_column(marginal_std, num_continuous, 1.0, "marginal_std")
    if any(not 0 < s < math.inf for s in stds):
        raise ValueError(f"`marginal_std` must hold finite numbers > 0, got {stds}")
    means = _per_column(marginal_mean, num_continuous, 0.0, "marginal_mean")
    if any(not math.isfinite(m) for m in means):
        raise ValueError(f"`marginal_mean` must hold finite numbers, got {means}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")

    rho = float(explained_variance)
    noise = [s * math.sqrt(1 - rho) for s in stds]
    schema = MixedSchema(
        [ColumnSpec.binary(f"b{i}") for i in range(num_binary)]
        + [ColumnSpec.continuous(scale=n, name=f"c{i}") for i, n in enumerate(noise)]
        + [ColumnSpec.categorical(num_classes, f"k{i}") for i in range(num_categorical)]
    )
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(
        num_factors, schema.num_outputs, generator=generator, dtype=torch.float64
    )
    directions = directions / directions.norm(dim=0, keepdim=True)
    offset = torch.randn(schema.num_outputs, generator=generator, dtype=torch.float64)
    factor_sd = torch.full((schema.num_outputs,), float(signal), dtype=torch.float64)
    for i, column in enumerate(schema.indices("continuous")):
        start = schema.output_slices[column].start
        factor_sd[start] = stds[i] * math.sqrt(rho)
        offset[start] = means[i]
    loadings = directions * factor_sd
    return LatentFactorTable(schema, loadings.to(dtype), offset.to(dtype))


def _per_column(
    values: Sequence[float] | None, count: int, default: float, name: str
) -> list[float]:
    if values is None:
        return [default] * count
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    values = [float(v) for v in values]
    if len(values) != count:
        raise ValueError(
            f"`{name}` must hold one value per continuous column ({count}), got {len(values)}"
        )
    return values

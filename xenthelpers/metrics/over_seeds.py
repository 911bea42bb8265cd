"""A measurement repeated over seeds: its mean, spread and confidence bounds.

A claim that rests on training is checked over several seeds. The thresholds of such a
check come from the sampling error of the seeds' mean, not from what the observed values
happen to be: :class:`SeedSummary` gives the Student-t confidence bounds that a claim
"greater than", "less than" or "equivalent within a margin" is asserted against, and
:func:`mean_sd` the ``"mean ± sd"`` text that a chapter prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

__all__ = ["SeedSummary", "mean_sd", "over_seeds", "paired_difference"]


@dataclass(frozen=True)
class SeedSummary:
    r"""Mean, standard deviation and count of one quantity measured once per seed.

    The confidence bounds treat the :math:`n` seeds as independent draws and use
    Student's :math:`t` with :math:`n - 1` degrees of freedom:

    .. math::

        \bar x \pm t_{1 - a,\, n-1}\, \frac{s}{\sqrt n},

    where :math:`a` is the one-sided error rate. Asserting ``lower() > 0`` is a
    one-sided t-test of "the mean is positive" at level :math:`a`; asserting
    ``within(margin)`` is the two one-sided tests (TOST) of equivalence: both bounds
    lie inside :math:`(-\text{margin}, \text{margin})`.

    Examples
    --------
    >>> s = over_seeds([0.30, 0.34, 0.29, 0.33, 0.31])
    >>> print(s)
    0.314 ± 0.021
    >>> round(s.se, 4), s.n
    (0.0093, 5)
    >>> s.lower() > 0.25, s.within(0.4)
    (True, True)
    """

    mean: float
    sd: float
    n: int

    @property
    def se(self) -> float:
        """Standard error of the mean, :math:`s / \\sqrt{n}`."""
        return self.sd / math.sqrt(self.n)

    def margin_of_error(self, alpha: float = 0.01) -> float:
        """Half-width :math:`t_{1-\\alpha, n-1}\\, s/\\sqrt n` of a one-sided bound."""
        if not 0.0 < alpha < 0.5:
            raise ValueError(f"`alpha` must lie in (0, 0.5), got {alpha!r}")
        return float(stats.t.ppf(1.0 - alpha, self.n - 1)) * self.se

    def lower(self, alpha: float = 0.01) -> float:
        """One-sided lower confidence bound of the mean at error rate ``alpha``."""
        return self.mean - self.margin_of_error(alpha)

    def upper(self, alpha: float = 0.01) -> float:
        """One-sided upper confidence bound of the mean at error rate ``alpha``."""
        return self.mean + self.margin_of_error(alpha)

    def within(self, margin: float, alpha: float = 0.05) -> bool:
        """True when both one-sided bounds lie inside ``(-margin, margin)`` (TOST)."""
        if not margin > 0:
            raise ValueError(f"`margin` must be positive, got {margin!r}")
        return -margin < self.lower(alpha) and self.upper(alpha) < margin

    def describe(self, spec: str = ".3f", alpha: float = 0.01) -> str:
        """Mean ± sd, the standard error and both one-sided bounds, for printing.

        >>> over_seeds([0.30, 0.34, 0.29, 0.33, 0.31]).describe()
        '0.314 ± 0.021 (SE 0.009, 99% bounds 0.279 to 0.349)'
        """
        level = f"{100 * (1 - alpha):g}%"
        return (
            f"{self:{spec}} (SE {self.se:{spec}}, {level} bounds "
            f"{self.lower(alpha):{spec}} to {self.upper(alpha):{spec}})"
        )

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.sd:.3f}"

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        return f"{format(self.mean, spec)} ± {format(self.sd, spec)}"


def over_seeds(values: Sequence[float] | np.ndarray | torch.Tensor) -> SeedSummary:
    """Summarise one value per seed: mean, sample standard deviation and count.

    Parameters
    ----------
    values : sequence of float, numpy.ndarray or Tensor
        One finite value per seed, at least two.

    Returns
    -------
    SeedSummary

    Examples
    --------
    >>> print(over_seeds(torch.tensor([1.0, 2.0, 3.0])))
    2.000 ± 1.000
    """
    array = _as_array(values, "values")
    if array.size < 2:
        raise ValueError(f"`values` must hold at least two seeds, got {array.size}")
    if not np.isfinite(array).all():
        raise ValueError("`values` must be finite")
    return SeedSummary(float(array.mean()), float(array.std(ddof=1)), int(array.size))


def paired_difference(
    a: Sequence[float] | np.ndarray | torch.Tensor,
    b: Sequence[float] | np.ndarray | torch.Tensor,
) -> SeedSummary:
    """Summarise ``a - b`` seed by seed: the paired comparison of two methods.

    Pairing by seed removes the variation the two methods share (the same data, the
    same initialisation), so the standard error of the difference is usually far
    smaller than that of either mean.

    Examples
    --------
    >>> d = paired_difference([0.52, 0.61, 0.55], [0.50, 0.58, 0.54])
    >>> print(d)
    0.020 ± 0.010
    >>> d.lower(alpha=0.05) > 0
    True
    """
    a_values, b_values = _as_array(a, "a"), _as_array(b, "b")
    if a_values.shape != b_values.shape:
        raise ValueError(
            "`a` and `b` must hold one value per seed each, "
            f"got {a_values.shape} and {b_values.shape}"
        )
    return over_seeds(a_values - b_values)


def mean_sd(values: Sequence[float] | torch.Tensor | np.ndarray, fmt: str = ".3f") -> str:
    r"""Format values, one per seed, as ``"mean ± sd"``.

    With :math:`n` values :math:`v_1, \dots, v_n`, the text shows the mean
    :math:`\bar v` and the sample standard deviation (``ddof=1``, as
    ``torch.Tensor.std`` and ``numpy.std(..., ddof=1)``), which estimates
    the spread from one seed to the next:

    .. math::

        \bar v = \frac{1}{n}\sum_{i=1}^{n} v_i, \qquad
        s = \Bigl(\frac{1}{n - 1}\sum_{i=1}^{n} (v_i - \bar v)^2\Bigr)^{1/2}.

    Both are those of :func:`over_seeds`, computed in float64 whatever the
    input's dtype. ``s`` is the spread of a single run, not the standard error
    of the mean (divide by :math:`\sqrt{n}` for that, or use
    :attr:`SeedSummary.se`). For a non-empty ``fmt``, ``mean_sd(v, fmt)`` is
    ``format(over_seeds(v), fmt)``.

    Parameters
    ----------
    values : list of float, torch.Tensor or numpy.ndarray
        At least two finite numbers, as a flat sequence or a 1-D array.
    fmt : str, default ".3f"
        Format specification applied to both numbers, as in
        ``format(x, fmt)``: ``".1e"`` for small values, ``".1%"`` for shares.

    Returns
    -------
    str
        ``f"{mean:{fmt}} ± {sd:{fmt}}"``.

    Examples
    --------
    >>> mean_sd([0.81, 0.79, 0.80])
    '0.800 ± 0.010'
    >>> mean_sd(torch.tensor([1e-4, 3e-4]), fmt=".1e")
    '2.0e-04 ± 1.4e-04'
    """
    summary = over_seeds(values)
    if not isinstance(fmt, str):
        raise ValueError(f"`fmt` must be a format specification string, got {fmt!r}")
    try:
        return f"{summary.mean:{fmt}} ± {summary.sd:{fmt}}"
    except ValueError as error:
        raise ValueError(f"`fmt` is not a format specification for a float: {fmt!r}") from error


def _as_array(values: Sequence[float] | np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`{name}` must be numbers, one per seed, got {values!r}") from error
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be one-dimensional, got shape {array.shape}")
    return array

"""Reporting a result over several seeds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._validation import check_finite


def mean_sd(values: Sequence[float] | torch.Tensor | np.ndarray, fmt: str = ".3f") -> str:
    r"""Format values, one per seed, as ``"mean ± sd"``.

    With :math:`n` values :math:`v_1, \dots, v_n`, the text shows the mean
    :math:`\bar v` and the sample standard deviation (``ddof=1``, as
    ``torch.Tensor.std`` and ``numpy.std(..., ddof=1)``), which estimates
    the spread from one seed to the next:

    .. math::

        \bar v = \frac{1}{n}\sum_{i=1}^{n} v_i, \qquad
        s = \Bigl(\frac{1}{n - 1}\sum_{i=1}^{n} (v_i - \bar v)^2\Bigr)^{1/2}.

    Both are computed in float64 whatever the input's dtype. ``s`` is the
    spread of a single run, not the standard error of the mean (divide by
    :math:`\sqrt{n}` for that).

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
    v = _as_float64_vector(values)
    mean, sd = v.mean().item(), v.std().item()
    if not isinstance(fmt, str):
        raise ValueError(f"`fmt` must be a format specification string, got {fmt!r}")
    try:
        return f"{mean:{fmt}} ± {sd:{fmt}}"
    except ValueError as error:
        raise ValueError(f"`fmt` is not a format specification for a float: {fmt!r}") from error


def _as_float64_vector(values: Sequence[float] | torch.Tensor | np.ndarray) -> torch.Tensor:
    """Check ``values`` and return them as a 1-D float64 tensor with at least two entries."""
    try:
        # Straight to float64: Python floats would otherwise be rounded to float32 first.
        v = torch.as_tensor(values, dtype=torch.float64).detach()
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"`values` must be numbers, got {values!r}") from error
    if v.dim() != 1 or v.numel() < 2:
        raise ValueError(
            f"`values` must be a flat sequence of at least two numbers (one per seed), "
            f"got shape {tuple(v.shape)}"
        )
    check_finite(v, "values")
    return v

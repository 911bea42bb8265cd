"""The book's figure style and the calibration figures that recur across chapters.

Requires the ``book`` extra (matplotlib and seaborn); the rest of the package
does not import this module.

- :func:`use_book_style` and :data:`PALETTE`: one look for every figure;
- :func:`reliability_diagram`: accuracy against confidence, bin by bin;
- :func:`confidence_histogram`: how sure a model is, as a distribution.
"""

from __future__ import annotations

from typing import Any

try:
    import matplotlib as mpl
    import seaborn as sns
except ModuleNotFoundError as missing:  # the package alone installs neither
    raise ImportError(
        f"xenthelpers.plotting needs {missing.name}, which comes with the book's extra: "
        "pip install 'xenthelpers[book]' (or pip install matplotlib seaborn)"
    ) from missing
import numpy as np
import torch
from matplotlib import cbook
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from ._validation import (
    check_floating,
    check_probability_rows,
    check_scalar,
    run_deferred,
    unit_interval_holds,
)
from .metrics import reliability_curve

__all__ = [
    "PALETTE",
    "DIAGONAL_GID",
    "FIGURE_DPI",
    "MAX_FIGURE_WIDTH_IN",
    "SMALLEST_FONT_PT",
    "use_book_style",
    "reliability_diagram",
    "confidence_histogram",
]

#: The colour-blind-safe palette of the book (seaborn's ``"colorblind"``).
PALETTE = sns.color_palette("colorblind")

#: Resolution of the book's figures, in dots per inch (on screen and when saved).
FIGURE_DPI = 110.0

#: The smallest text a book figure uses, in points; the style's tick labels and legends
#: are larger, and no chapter sets a smaller size. At ``FIGURE_DPI`` a figure at most
#: :data:`MAX_FIGURE_WIDTH_IN` wide keeps this text at 9 px or more on a 690 px column.
SMALLEST_FONT_PT = 10.0

#: The widest figure (``figsize`` width, inches) whose smallest text stays legible.
MAX_FIGURE_WIDTH_IN = 10.0

#: ``gid`` of the dotted diagonal, so that each axes receives it only once.
DIAGONAL_GID = "reliability-diagonal"


def use_book_style() -> None:
    """Apply the book's figure style: white grid, colour-blind palette, readable sizes.

    Examples
    --------
    >>> use_book_style()
    >>> mpl.rcParams["figure.dpi"]
    110.0
    """
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": FIGURE_DPI,
            "savefig.dpi": FIGURE_DPI,
            "legend.fontsize": 11.0,
            "legend.title_fontsize": 11.0,
            "xtick.labelsize": 11.0,
            "ytick.labelsize": 11.0,
            "axes.labelsize": 12.0,
            "axes.titlesize": 12.0,
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "figure.constrained_layout.use": True,
        }
    )


def reliability_diagram(
    ax: Axes,
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    n_bins: int = 15,
    min_count: int = 50,
    label: str | None = None,
    color: Any = None,
    diagonal: bool = True,
    **line_kwargs: Any,
) -> Line2D:
    r"""Draw a reliability diagram: accuracy against mean confidence in each confidence bin.

    The bins and both input layouts are those of
    :func:`~xenthelpers.metrics.reliability_curve` (equal-width bins of the top-label
    probability for ``(N, K)`` rows; of :math:`P(y = 1)` for ``(N,)``
    probabilities with 0/1 targets). A calibrated model lies on the diagonal
    :math:`y = x`; points below it are over-confident, points above it
    under-confident. See :cite:t:`degroot1983` and :cite:t:`guo2017`.

    A bin's accuracy is a proportion over its :math:`n_m` predictions, with a
    standard error of up to :math:`1/(2\sqrt{n_m})`, so bins holding fewer than
    ``min_count`` predictions are left out rather than drawn as noise.

    Call it once per model on the same axes to compare models. It sets the axis
    labels (change them afterwards with ``ax.set``) and leaves the limits,
    title and legend to the caller.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    probs : torch.Tensor
        Probability rows of shape ``(N, K)``, or positive-class probabilities
        of shape ``(N,)``; any device.
    target : torch.Tensor
        Integer class indices of shape ``(N,)`` (0/1 for ``(N,)`` ``probs``).
    n_bins : int, default 15
        Number of equal-width confidence bins, >= 1.
    min_count : int, default 50
        Smallest number of predictions a bin needs to be drawn, >= 1.
    label, color : optional
        Legend label and colour of the curve.
    diagonal : bool, default True
        Also draw the dotted diagonal, labelled "calibrated", beneath the
        curves; an axes receives it only once however many curves are drawn.
    **line_kwargs
        Further style for ``Axes.plot`` (default: round markers of size 3
        joined by a solid line).

    Returns
    -------
    matplotlib.lines.Line2D
        The curve: mean confidence as x, accuracy as y, one point per drawn bin.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    >>> fig, ax = plt.subplots()
    >>> line = reliability_diagram(ax, probs, torch.tensor([0, 1, 1, 0]),
    ...                            n_bins=4, min_count=1, label="model")
    >>> line.get_xdata(), line.get_ydata()
    (array([0.65, 0.85], dtype=float32), array([0.5, 0.5], dtype=float32))
    >>> plt.close(fig)
    """
    check_scalar(min_count, "min_count", integer=True, min_val=1)
    curve = reliability_curve(probs, target, n_bins=n_bins)
    count = curve.count.cpu()
    keep = count >= min_count
    if not bool(keep.any()):
        raise ValueError(
            f"no bin holds `min_count` = {min_count} predictions "
            f"(the fullest holds {int(count.max())}); lower `min_count` or `n_bins`"
        )
    if diagonal:
        _draw_diagonal_once(ax)
    style: dict[str, Any] = {"marker": "o", "markersize": 3} | cbook.normalize_kwargs(
        line_kwargs, Line2D
    )
    (line,) = ax.plot(
        curve.confidence.cpu()[keep].numpy(),
        curve.accuracy.cpu()[keep].numpy(),
        label=label,
        color=color,
        **style,
    )
    ax.set_xlabel("mean confidence in bin")
    ax.set_ylabel("accuracy in bin")
    return line


def confidence_histogram(
    ax: Axes,
    probs: torch.Tensor,
    *,
    bins: int = 30,
    range: tuple[float, float] | None = None,
    density: bool = True,
    log: bool = True,
    label: str | None = None,
    color: Any = None,
    **hist_kwargs: Any,
) -> tuple[np.ndarray, np.ndarray, BarContainer | list[Polygon]]:
    r"""Draw the distribution of a model's confidence as a step histogram.

    For probability rows of shape ``(N, K)`` the confidence is the top-label
    probability :math:`\max_k p_{ik}`, which lies in :math:`[1/K, 1]`; for
    positive-class probabilities of shape ``(N,)`` it is :math:`p_i` itself.
    An over-confident network piles its predictions into the last bin, just
    below 1; comparing with the histogram of a reference (a calibrated model,
    or the true posterior when it is known) shows where the mass should be.

    A logarithmic count axis (``log=True``) keeps the sparse bins visible next
    to a crowded one. Call it once per model on the same axes to compare
    models. It sets the axis labels and leaves the title and legend to the
    caller.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    probs : torch.Tensor
        Probability rows of shape ``(N, K)``, or positive-class probabilities
        of shape ``(N,)``; any device.
    bins : int, default 30
        Number of equal-width bins, >= 1.
    range : tuple of float, optional
        Lower and upper edge of the bins; default ``(1/K, 1)`` for ``(N, K)``
        rows and ``(0, 1)`` for ``(N,)`` probabilities.
    density : bool, default True
        Normalise to a probability density, so that models evaluated on
        different numbers of examples compare; else show counts.
    log : bool, default True
        Logarithmic y axis.
    label, color : optional
        Legend label and colour of the histogram.
    **hist_kwargs
        Further style for ``Axes.hist`` (default: an unfilled step outline of
        width 1.8).

    Returns
    -------
    tuple
        What ``Axes.hist`` returns: the bar heights, the ``bins + 1`` edges and
        the drawn patches.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    >>> fig, ax = plt.subplots()
    >>> heights, edges, _ = confidence_histogram(ax, probs, bins=5, density=False)
    >>> heights.tolist()  # top probabilities 0.9, 0.6, 0.7, 0.8 in bins from 1/K = 0.5 to 1
    [0.0, 1.0, 1.0, 1.0, 1.0]
    >>> len(edges)
    6
    >>> plt.close(fig)
    """
    confidence, default_range, what = _confidence(probs)
    check_scalar(bins, "bins", integer=True, min_val=1)
    range = _check_range(default_range if range is None else range)
    style: dict[str, Any] = {"histtype": "step", "linewidth": 1.8} | cbook.normalize_kwargs(
        hist_kwargs, Patch
    )
    drawn = ax.hist(
        confidence.cpu().numpy(),
        bins=bins,
        range=range,
        density=density,
        label=label,
        color=color,
        **style,
    )
    ax.set_xlabel(what)
    ax.set_ylabel(("density" if density else "count") + (" (log scale)" if log else ""))
    if log:
        ax.set_yscale("log")
    # Axes.hist is typed for several data sets at once; one 1-D data set gives one array
    # of heights and one BarContainer (histtype "bar...") or list of Polygons ("step...").
    return drawn  # type: ignore[return-value]


def _draw_diagonal_once(ax: Axes) -> None:
    if any(line.get_gid() == DIAGONAL_GID for line in ax.get_lines()):
        return
    ax.plot(
        [0, 1],
        [0, 1],
        color="black",
        linewidth=0.8,
        linestyle=":",
        label="calibrated",
        gid=DIAGONAL_GID,
    )


def _confidence(probs: torch.Tensor) -> tuple[torch.Tensor, tuple[float, float], str]:
    """Each prediction's confidence, the natural range of the histogram and its axis label."""
    check_floating(probs, "probs")
    if probs.dim() == 2:
        check_probability_rows(probs, "probs")
        return probs.detach().amax(dim=1), (1 / probs.shape[1], 1.0), "top probability"
    if probs.dim() == 1 and probs.numel() > 0:
        run_deferred(unit_interval_holds(probs, "probs"))
        return probs.detach(), (0.0, 1.0), "predicted probability"
    raise ValueError(
        f"`probs` must have shape (N, K) or (N,) with N >= 1, got {tuple(probs.shape)}"
    )


def _check_range(bounds: tuple[float, float]) -> tuple[float, float]:
    try:
        low, high = (float(bound) for bound in bounds)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`range` must be a pair of numbers, got {bounds!r}") from error
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"`range` must be finite with lower < upper, got {bounds!r}")
    return low, high

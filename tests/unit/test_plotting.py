"""Reliability diagrams and confidence histograms: the data they draw, not the pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402

from xenthelpers import reliability_curve  # noqa: E402
from xenthelpers.plotting import (  # noqa: E402
    DIAGONAL_GID,
    PALETTE,
    confidence_histogram,
    reliability_diagram,
    use_book_style,
)

F64 = torch.float64


@pytest.fixture
def ax():
    fig, axes = plt.subplots()
    yield axes
    plt.close(fig)


def _rows(n=2000, num_classes=4, scale=3.0, seed=0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    probs = (scale * torch.randn(n, num_classes, generator=g, dtype=dtype)).softmax(dim=1)
    target = torch.randint(0, num_classes, (n,), generator=g)
    return probs, target


def _curve_lines(ax):
    return [line for line in ax.get_lines() if line.get_gid() != DIAGONAL_GID]


def _diagonals(ax):
    return [line for line in ax.get_lines() if line.get_gid() == DIAGONAL_GID]


# --- reliability_diagram --------------------------------------------------------------------


@pytest.mark.parametrize("min_count", [1, 50, 200])
def test_reliability_diagram_draws_the_bins_holding_enough_predictions(ax, min_count):
    probs, target = _rows()
    line = reliability_diagram(ax, probs, target, min_count=min_count)
    curve = reliability_curve(probs, target)
    keep = curve.count >= min_count
    assert 0 < int(keep.sum()) == len(line.get_xdata())
    np.testing.assert_array_equal(line.get_xdata(), curve.confidence[keep].numpy())
    np.testing.assert_array_equal(line.get_ydata(), curve.accuracy[keep].numpy())


def test_min_count_does_leave_bins_out_here(ax):
    probs, target = _rows()
    many = reliability_diagram(ax, probs, target, min_count=1)
    few = reliability_diagram(ax, probs, target, min_count=200)
    assert len(few.get_xdata()) < len(many.get_xdata())


@pytest.mark.parametrize("n_bins", [1, 5, 15])
def test_n_bins_is_passed_on(ax, n_bins):
    probs, target = _rows()
    line = reliability_diagram(ax, probs, target, n_bins=n_bins, min_count=1)
    curve = reliability_curve(probs, target, n_bins=n_bins)
    np.testing.assert_array_equal(line.get_xdata(), curve.confidence[curve.count > 0].numpy())


def test_reliability_diagram_agrees_with_scikit_learn_for_binary_probabilities(ax):
    g = torch.Generator().manual_seed(3)
    p = torch.rand(5000, generator=g, dtype=F64)
    y = torch.bernoulli(p.sqrt(), generator=g).long()
    line = reliability_diagram(ax, p, y, n_bins=10, min_count=1)
    prob_true, prob_pred = calibration_curve(y.numpy(), p.numpy(), n_bins=10)
    np.testing.assert_allclose(line.get_xdata(), prob_pred, rtol=1e-12)
    np.testing.assert_allclose(line.get_ydata(), prob_true, rtol=1e-12)


def test_the_diagonal_is_drawn_once_beneath_all_curves(ax):
    for seed in range(3):
        reliability_diagram(ax, *_rows(seed=seed), label=f"model {seed}")
    (diagonal,) = _diagonals(ax)
    assert ax.get_lines()[0] is diagonal
    np.testing.assert_array_equal(diagonal.get_xydata(), [[0, 0], [1, 1]])
    assert diagonal.get_label() == "calibrated"
    assert len(_curve_lines(ax)) == 3


def test_diagonal_false_draws_no_diagonal(ax):
    reliability_diagram(ax, *_rows(), diagonal=False)
    assert _diagonals(ax) == []
    assert len(ax.get_lines()) == 1


def test_reliability_diagram_style_label_and_axis_labels(ax):
    line = reliability_diagram(ax, *_rows(), label="plain", color=PALETTE[2])
    assert line.get_label() == "plain"
    assert to_rgba(line.get_color()) == to_rgba(PALETTE[2])
    assert line.get_marker() == "o" and line.get_markersize() == 3
    assert ax.get_xlabel() == "mean confidence in bin"
    assert ax.get_ylabel() == "accuracy in bin"
    legend = ax.legend()
    assert [t.get_text() for t in legend.get_texts()] == ["calibrated", "plain"]


def test_line_kwargs_override_the_default_style_and_accept_aliases(ax):
    line = reliability_diagram(ax, *_rows(), marker="s", ms=6, ls="--")
    assert line.get_marker() == "s"
    assert line.get_markersize() == 6
    assert line.get_linestyle() == "--"


def test_reliability_diagram_accepts_float32_and_leaves_inputs_alone(ax):
    probs, target = _rows(dtype=torch.float32)
    before = probs.clone()
    line = reliability_diagram(ax, probs, target)
    curve = reliability_curve(probs, target)
    keep = curve.count >= 50
    np.testing.assert_array_equal(line.get_xdata(), curve.confidence[keep].numpy())
    assert torch.equal(probs, before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_reliability_diagram_accepts_cuda_tensors(ax):
    probs, target = _rows()
    line = reliability_diagram(ax, probs.cuda(), target.cuda())
    expected = reliability_diagram(ax, probs, target)
    np.testing.assert_allclose(line.get_xdata(), expected.get_xdata())


@pytest.mark.parametrize("min_count", [0, -1, 1.5, True])
def test_reliability_diagram_rejects_bad_min_count(ax, min_count):
    with pytest.raises(ValueError, match="min_count"):
        reliability_diagram(ax, *_rows(), min_count=min_count)


def test_reliability_diagram_says_when_no_bin_is_full_enough(ax):
    probs, target = _rows(n=40)
    with pytest.raises(ValueError, match="min_count"):
        reliability_diagram(ax, probs, target, min_count=50)
    assert ax.get_lines() == []


def test_reliability_diagram_rejects_bad_n_bins(ax):
    with pytest.raises(ValueError, match="n_bins"):
        reliability_diagram(ax, *_rows(), n_bins=0)


def test_reliability_diagram_rejects_bad_probs_and_target(ax):
    probs, target = _rows()
    with pytest.raises(ValueError, match="probs"):
        reliability_diagram(ax, probs * 2, target)
    with pytest.raises(ValueError, match="target"):
        reliability_diagram(ax, probs, target[:-1])
    with pytest.raises(ValueError, match="target"):
        reliability_diagram(ax, probs, target + 4)


# --- confidence_histogram -------------------------------------------------------------------


def test_histogram_of_top_probabilities_from_one_over_k_to_one(ax):
    probs, _ = _rows()
    heights, edges, _ = confidence_histogram(ax, probs)
    expected, expected_edges = np.histogram(
        probs.amax(1).numpy(), bins=30, range=(0.25, 1.0), density=True
    )
    np.testing.assert_allclose(heights, expected, rtol=1e-12)
    np.testing.assert_allclose(edges, expected_edges, rtol=1e-12)


@settings(max_examples=25)
@given(
    num_classes=st.integers(2, 6),
    bins=st.integers(1, 40),
    scale=st.floats(0.1, 10.0),
    seed=st.integers(0, 2**16),
)
def test_histogram_counts_match_numpy(num_classes, bins, scale, seed):
    probs, _ = _rows(n=300, num_classes=num_classes, scale=scale, seed=seed)
    fig, ax = plt.subplots()
    try:
        heights, _, _ = confidence_histogram(ax, probs, bins=bins, density=False)
    finally:
        plt.close(fig)
    expected, _ = np.histogram(
        probs.amax(1).numpy(), bins=bins, range=(1 / num_classes, 1.0)
    )
    np.testing.assert_array_equal(heights, expected)
    assert heights.sum() == 300  # no top probability lies outside [1/K, 1]


def test_histogram_of_binary_probabilities_spans_zero_to_one(ax):
    p = torch.rand(1000, generator=torch.Generator().manual_seed(1), dtype=F64)
    heights, edges, _ = confidence_histogram(ax, p, bins=10, density=False)
    np.testing.assert_array_equal(heights, np.histogram(p.numpy(), bins=10, range=(0, 1))[0])
    assert (edges[0], edges[-1]) == (0.0, 1.0)
    assert ax.get_xlabel() == "predicted probability"


def test_histogram_range_can_be_set(ax):
    probs, _ = _rows()
    heights, edges, _ = confidence_histogram(ax, probs, bins=4, range=(0.5, 1), density=False)
    assert (edges[0], edges[-1]) == (0.5, 1.0)
    assert heights.sum() == int((probs.amax(1) >= 0.5).sum())


def test_histogram_axes_scale_and_labels(ax):
    confidence_histogram(ax, _rows()[0])
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "top probability"
    assert ax.get_ylabel() == "density (log scale)"


def test_histogram_linear_counts(ax):
    heights, _, _ = confidence_histogram(ax, _rows()[0], log=False, density=False)
    assert ax.get_yscale() == "linear"
    assert ax.get_ylabel() == "count"
    assert heights.sum() == 2000


def test_histogram_style_label_and_kwargs(ax):
    _, _, patches = confidence_histogram(ax, _rows()[0], label="plain", color=PALETTE[1], lw=3)
    (outline,) = patches
    assert outline.get_label() == "plain"
    assert not outline.get_fill()  # a step outline by default
    assert to_rgba(outline.get_edgecolor()) == to_rgba(PALETTE[1])
    assert outline.get_linewidth() == 3


def test_histogram_kwargs_can_fill_the_bars(ax):
    _, _, bars = confidence_histogram(ax, _rows()[0], bins=5, histtype="bar")
    assert len(bars) == 5


@pytest.mark.parametrize("bins", [0, -3, 2.5, True])
def test_histogram_rejects_bad_bins(ax, bins):
    with pytest.raises(ValueError, match="bins"):
        confidence_histogram(ax, _rows()[0], bins=bins)


@pytest.mark.parametrize(
    "bounds", [(1.0, 0.5), (0.5, 0.5), (0.0, float("inf")), (float("nan"), 1.0), ("a", "b"),
               (0.1,), 0.5]
)
def test_histogram_rejects_bad_range(ax, bounds):
    with pytest.raises(ValueError, match="range"):
        confidence_histogram(ax, _rows()[0], range=bounds)


@pytest.mark.parametrize(
    "probs",
    [
        torch.ones(3, 2, 2) / 2,
        torch.ones(0, 3),
        torch.ones(0),
        torch.tensor([[0.5, 0.6]]),
        torch.tensor([[1.2, -0.2]]),
        torch.tensor([[float("nan"), 0.5]]),
        torch.tensor([0.5, 1.5]),
        torch.tensor([0.5, float("nan")]),
        torch.tensor([[1, 0]]),
    ],
    ids=["3-d", "no-rows", "empty", "row-sum", "negative", "nan-row", "above-one", "nan",
         "integer"],
)
def test_histogram_rejects_bad_probs(ax, probs):
    with pytest.raises(ValueError, match="probs"):
        confidence_histogram(ax, probs)


def test_histogram_says_where_binary_probabilities_leave_the_unit_interval(ax):
    with pytest.raises(ValueError, match=r"`probs` must hold probabilities in \[0, 1\], "
                                         r"found values in \[0.5, 1.5\]"):
        confidence_histogram(ax, torch.tensor([0.5, 1.5]))


def test_numpy_integers_are_counts_too(ax):
    probs, target = _rows()
    heights, _, _ = confidence_histogram(ax, probs, bins=np.int64(5), density=False)
    assert len(heights) == 5
    line = reliability_diagram(ax, probs, target, n_bins=np.int64(5), min_count=np.int64(1))
    assert len(line.get_xdata()) >= 1


# --- the book style is unchanged --------------------------------------------------------------


def test_use_book_style_sets_the_book_defaults():
    use_book_style()
    assert matplotlib.rcParams["figure.dpi"] == 110.0
    assert matplotlib.rcParams["legend.frameon"] is False
    assert len(PALETTE) == 10


def test_the_book_style_keeps_every_text_at_least_the_smallest_size():
    from matplotlib.font_manager import FontProperties

    from xenthelpers.plotting import SMALLEST_FONT_PT, use_book_style

    use_book_style()
    keys = ["font.size", "legend.fontsize", "legend.title_fontsize", "xtick.labelsize",
            "ytick.labelsize", "axes.labelsize", "axes.titlesize", "figure.titlesize"]
    sizes = {k: FontProperties(size=matplotlib.rcParams[k]).get_size_in_points() for k in keys}
    assert min(sizes.values()) >= SMALLEST_FONT_PT, sizes


def test_the_smallest_text_of_the_widest_figure_is_legible_on_the_column():
    from xenthelpers.plotting import MAX_FIGURE_WIDTH_IN, SMALLEST_FONT_PT

    column_px = 690  # the article column of the book at a 1280 px window
    shown_px = SMALLEST_FONT_PT / 72 * column_px / MAX_FIGURE_WIDTH_IN
    assert shown_px >= 9

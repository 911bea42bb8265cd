"""mean_sd: a result over seeds as "mean ± sd", the text of over_seeds."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import xenthelpers
from xenthelpers import mean_sd
from xenthelpers.metrics import over_seeds


def _parse(text: str) -> tuple[float, float]:
    mean, sd = text.split(" ± ")
    return float(mean), float(sd)


def test_known_values():
    assert mean_sd([1, 2, 3]) == "2.000 ± 1.000"
    assert mean_sd([0.81, 0.79, 0.80]) == "0.800 ± 0.010"
    assert mean_sd([2.0, 2.0]) == "2.000 ± 0.000"


def test_the_format_applies_to_both_numbers():
    assert mean_sd([1e-4, 3e-4], fmt=".1e") == "2.0e-04 ± 1.4e-04"
    assert mean_sd([0.1, 0.3], fmt=".1%") == "20.0% ± 14.1%"
    assert mean_sd([1, 2, 3], fmt="+.2f") == "+2.00 ± +1.00"


@settings(max_examples=60)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=12))
def test_matches_the_sample_statistics_of_the_standard_library(values):
    mean, sd = _parse(mean_sd(values, fmt=".17g"))
    scale = max(abs(v) for v in values)
    assert mean == pytest.approx(statistics.fmean(values), rel=1e-12, abs=1e-12 * scale)
    # Deviations below about 1e-154 square to less than the smallest float64 and vanish.
    assert sd == pytest.approx(statistics.stdev(values), rel=1e-9, abs=1e-9 * scale + 1e-150)


def test_sd_is_the_sample_sd_not_the_population_sd():
    values = [1.0, 2.0, 4.0, 7.0]
    _, sd = _parse(mean_sd(values, fmt=".12f"))
    assert sd == pytest.approx(np.std(values, ddof=1), rel=1e-12)
    assert sd != pytest.approx(np.std(values, ddof=0), rel=1e-3)


@pytest.mark.parametrize(
    "values",
    [
        [0.5, 0.25, 0.125],
        (0.5, 0.25, 0.125),
        np.array([0.5, 0.25, 0.125]),
        torch.tensor([0.5, 0.25, 0.125]),
        torch.tensor([0.5, 0.25, 0.125], dtype=torch.float64, requires_grad=True),
        [torch.tensor(0.5), torch.tensor(0.25), torch.tensor(0.125)],
    ],
    ids=["list", "tuple", "numpy", "tensor", "tensor-with-grad", "list-of-0-dim-tensors"],
)
def test_accepts_the_usual_containers(values):
    assert mean_sd(values, fmt=".6f") == "0.291667 ± 0.190941"


def test_integer_and_boolean_values_are_averaged_as_numbers():
    assert mean_sd(torch.tensor([1, 0, 1, 1]), fmt=".2f") == "0.75 ± 0.50"
    assert mean_sd(torch.tensor([True, False, True, True]), fmt=".2f") == "0.75 ± 0.50"


def test_float32_input_is_summarised_in_float64():
    values = torch.tensor([1e8, 1.0, -1e8, 3.0], dtype=torch.float32)
    # In float32 the mean of these values is off, because 1e8 + 1 rounds to 1e8.
    assert mean_sd(values, fmt=".4f").startswith("1.0000 ± ")
    assert mean_sd(values) == mean_sd(values.double())


def test_is_what_the_chapters_wrote_before():
    values = torch.rand(5, generator=torch.Generator().manual_seed(0))
    v = values.double()
    for fmt in (".3f", ".1e", ".2%"):
        assert mean_sd(values, fmt) == f"{v.mean():{fmt}} ± {v.std():{fmt}}"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_accepts_a_cuda_tensor():
    assert mean_sd(torch.tensor([1.0, 2.0, 3.0], device="cuda")) == "2.000 ± 1.000"


@settings(max_examples=60)
@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=12),
    st.sampled_from([".3f", ".1e", ".2%", "+.4g"]),
)
def test_is_the_text_of_over_seeds(values, fmt):
    assert mean_sd(values, fmt) == format(over_seeds(values), fmt)


def test_is_exported_from_the_package_and_from_metrics():
    assert xenthelpers.mean_sd is xenthelpers.metrics.mean_sd is mean_sd
    assert "mean_sd" in xenthelpers.__all__ and "mean_sd" in xenthelpers.metrics.__all__
    assert "mean_sd" not in xenthelpers.training.__all__


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [[], [1.0], torch.tensor(3.0), torch.ones(2, 3), [[1.0, 2.0], [3.0, 4.0]]],
    ids=["empty", "one", "0-dim", "2-d", "nested"],
)
def test_rejects_fewer_than_two_values_or_a_table(values):
    with pytest.raises(ValueError, match="values"):
        mean_sd(values)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_rejects_non_finite_values(bad):
    with pytest.raises(ValueError, match="values"):
        mean_sd([1.0, bad, 2.0])


@pytest.mark.parametrize("values", [["a", "b"], [object(), object()], None])
def test_rejects_values_that_are_not_numbers(values):
    with pytest.raises(ValueError, match="values"):
        mean_sd(values)


@pytest.mark.parametrize("fmt", ["d", "x", ".3q", 3, None])
def test_rejects_a_format_that_does_not_apply_to_floats(fmt):
    with pytest.raises(ValueError, match="fmt"):
        mean_sd([1.0, 2.0], fmt=fmt)

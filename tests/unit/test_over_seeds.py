"""Summaries over seeds: the bounds that trained claims are asserted against."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from xenthelpers import SeedSummary, over_seeds, paired_difference


def test_summary_matches_numpy_and_scipy():
    values = [0.2, 0.5, 0.3, 0.9, 0.4, 0.6]
    s = over_seeds(values)
    assert s.n == 6
    assert s.mean == pytest.approx(np.mean(values), abs=1e-15)
    assert s.sd == pytest.approx(np.std(values, ddof=1), abs=1e-15)
    assert s.se == pytest.approx(stats.sem(values), abs=1e-15)
    low, high = stats.t.interval(0.98, 5, loc=s.mean, scale=s.se)  # two 1% tails
    assert s.lower(0.01) == pytest.approx(low, abs=1e-12)
    assert s.upper(0.01) == pytest.approx(high, abs=1e-12)


def test_lower_bound_is_a_one_sided_t_test():
    values = np.array([0.10, 0.12, 0.08, 0.11, 0.09])
    p_value = stats.ttest_1samp(values, 0.0, alternative="greater").pvalue
    assert (over_seeds(values).lower(0.01) > 0) == (p_value < 0.01)


def test_within_is_two_one_sided_tests():
    s = SeedSummary(mean=0.01, sd=0.02, n=10)
    bound = stats.t.ppf(0.95, 9) * 0.02 / math.sqrt(10)
    assert s.within(0.01 + bound + 1e-9) and not s.within(0.01 + bound - 1e-9)
    assert not SeedSummary(mean=0.0, sd=1.0, n=5).within(0.1)


def test_paired_difference_pairs_by_seed():
    a = torch.tensor([1.0, 2.0, 3.0, 4.0])
    d = paired_difference(a + 0.5, a)
    assert d.mean == pytest.approx(0.5) and d.sd == pytest.approx(0.0, abs=1e-7)


def test_format_gives_mean_and_sd():
    s = SeedSummary(mean=0.31416, sd=0.02718, n=5)
    assert f"{s:.2f}" == "0.31 ± 0.03" and str(s) == "0.314 ± 0.027"


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: over_seeds([1.0]), "values"),
        (lambda: over_seeds([[1.0, 2.0]]), "values"),
        (lambda: over_seeds([1.0, float("nan")]), "values"),
        (lambda: paired_difference([1.0, 2.0], [1.0]), "`a` and `b`"),
        (lambda: over_seeds([1.0, 2.0]).lower(0.7), "alpha"),
        (lambda: over_seeds([1.0, 2.0]).within(-1.0), "margin"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()

"""Tests for xenthelpers.data.long_tail."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.devices import DEVICES
from xenthelpers.data.long_tail import long_tail_prior
from xenthelpers.data.gaussian_classes import make_gaussian_classes

FEW = settings(max_examples=50, deadline=None)


# ---------------------------------------------------------------- identities


@pytest.mark.parametrize("num_classes", [2, 3, 10, 100])
@pytest.mark.parametrize("ratio", [1.0, 10.0, 100.0, 256.0])
def test_matches_the_closed_form(num_classes, ratio):
    """An independent NumPy evaluation of rho^(-k/(K-1)) / sum."""
    k = np.arange(num_classes)
    weights = ratio ** (-k / (num_classes - 1))
    expected = torch.from_numpy(weights / weights.sum())
    torch.testing.assert_close(long_tail_prior(num_classes, ratio), expected, rtol=1e-12, atol=0)


def test_ratio_one_is_uniform():
    torch.testing.assert_close(
        long_tail_prior(7, 1.0), torch.full((7,), 1 / 7, dtype=torch.float64)
    )


def test_two_classes_split_as_rho_to_one():
    prior = long_tail_prior(2, 9.0)
    torch.testing.assert_close(prior, torch.tensor([0.9, 0.1], dtype=torch.float64))


def test_an_integer_ratio_is_accepted():
    torch.testing.assert_close(long_tail_prior(4, 100), long_tail_prior(4, 100.0))


@FEW
@given(num_classes=st.integers(2, 50), ratio=st.floats(1.0, 1e6))
def test_is_a_geometric_probability_vector_with_the_requested_ratio(num_classes, ratio):
    prior = long_tail_prior(num_classes, ratio)
    assert prior.shape == (num_classes,)
    assert bool((prior > 0).all())
    assert abs(prior.sum().item() - 1) < 1e-12
    assert bool((prior.diff() <= 0).all())
    assert math.isclose((prior[0] / prior[-1]).item(), ratio, rel_tol=1e-9)
    steps = prior[:-1] / prior[1:]  # constant factor rho^(1/(K-1))
    torch.testing.assert_close(
        steps, torch.full_like(steps, ratio ** (1 / (num_classes - 1))), rtol=1e-10, atol=0
    )


def test_huge_ratios_stay_finite_and_exact():
    prior = long_tail_prior(3, 1e300)
    assert bool(torch.isfinite(prior).all()) and bool((prior > 0).all())
    log_ratio = (prior[0].log() - prior[-1].log()).item()
    assert math.isclose(log_ratio, 300 * math.log(10), rel_tol=1e-12)


# ---------------------------------------------------------------- dtype, device, use


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_dtype_is_respected(dtype):
    prior = long_tail_prior(5, 50.0, dtype=dtype)
    assert prior.dtype == dtype
    torch.testing.assert_close(prior.double(), long_tail_prior(5, 50.0), rtol=1e-3, atol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_device_is_respected(device):
    prior = long_tail_prior(5, 50.0, device=device)
    assert prior.device.type == device
    torch.testing.assert_close(prior.cpu(), long_tail_prior(5, 50.0))


def test_is_accepted_as_the_priors_of_gaussian_classes():
    prior = long_tail_prior(4, 20.0)
    classes = make_gaussian_classes(4, priors=prior, dtype=torch.float64)
    _, y = classes.sample(40_000, generator=torch.Generator().manual_seed(0))
    frequencies = torch.bincount(y, minlength=4).double() / len(y)
    torch.testing.assert_close(frequencies, prior, atol=0.01, rtol=0)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("bad", [1, 0, -2, 2.0, True, "3"])
def test_rejects_a_bad_number_of_classes(bad):
    with pytest.raises(ValueError, match="num_classes"):
        long_tail_prior(bad, 10.0)


@pytest.mark.parametrize("bad", [0.5, 0.0, -3.0, math.inf, math.nan, "10", True, None])
def test_rejects_a_bad_imbalance_ratio(bad):
    with pytest.raises(ValueError, match="imbalance_ratio"):
        long_tail_prior(4, bad)


@pytest.mark.parametrize("bad", [torch.int64, torch.bool, "float32"])
def test_rejects_a_non_floating_dtype(bad):
    with pytest.raises(ValueError, match="dtype"):
        long_tail_prior(4, 10.0, dtype=bad)

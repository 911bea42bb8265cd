"""Tests for xenthelpers.data.correlated_gaussians."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.distributions import MultivariateNormal

from tests.unit.devices import DEVICES
from xenthelpers.data import (
    CorrelatedGaussians,
    correlation_for_mutual_information,
    gaussian_mutual_information,
    make_correlated_gaussians,
)

FEW = settings(max_examples=30, deadline=None)


def _joint(rho: float, dim: int) -> MultivariateNormal:
    """The joint law of (x, y) as one 2d-dimensional Gaussian, independently of the class."""
    eye = torch.eye(dim, dtype=torch.float64)
    cov = torch.cat([torch.cat([eye, rho * eye], 1), torch.cat([rho * eye, eye], 1)], 0)
    return MultivariateNormal(torch.zeros(2 * dim, dtype=torch.float64), covariance_matrix=cov)


def _marginal(dim: int) -> MultivariateNormal:
    zeros = torch.zeros(dim, dtype=torch.float64)
    return MultivariateNormal(zeros, covariance_matrix=torch.eye(dim, dtype=torch.float64))


# ---------------------------------------------------------------- the mutual information


@pytest.mark.parametrize("rho", [0.0, 0.3, -0.5, 0.9, 0.999])
@pytest.mark.parametrize("dim", [1, 3, 20])
def test_mutual_information_is_the_entropy_difference(rho, dim):
    # I(X; Y) = H(X) + H(Y) - H(X, Y), from torch.distributions' exact entropies.
    expected = 2 * _marginal(dim).entropy() - _joint(rho, dim).entropy()
    assert gaussian_mutual_information(rho, dim) == pytest.approx(expected.item(), abs=1e-10)


def test_mutual_information_by_hand():
    # One coordinate with rho = 0.6: -log(0.64) / 2 = log(1.25).
    assert gaussian_mutual_information(0.6, 1) == pytest.approx(math.log(1.25), rel=1e-15)
    assert gaussian_mutual_information(0.0, 20) == 0.0


@pytest.mark.parametrize("rho", [0.2, 0.6, 0.9])
def test_mutual_information_is_the_mean_log_ratio_within_its_sampling_error(rho):
    pairs = CorrelatedGaussians(rho, dim=20, dtype=torch.float64)
    x, y = pairs.sample(40_000, generator=torch.Generator().manual_seed(0))
    log_ratio = pairs.log_density_ratio(x, y, pairwise=False)
    standard_error = log_ratio.std().item() / math.sqrt(len(log_ratio))
    # Four standard errors: a false failure has probability below 1e-4.
    assert abs(log_ratio.mean().item() - pairs.mutual_information) < 4 * standard_error


def test_the_ratio_averages_to_one_over_independent_pairs():
    # E over p(x) p(y) of p(y|x) / p(y) is 1; its variance there is e^{2I} - 1.
    pairs = make_correlated_gaussians(0.5, dim=4, dtype=torch.float64)
    x, y = pairs.sample(40_000, generator=torch.Generator().manual_seed(1))
    ratio = pairs.log_density_ratio(x, y.roll(1, 0), pairwise=False).exp()
    standard_error = math.sqrt(math.expm1(2 * 0.5) / len(ratio))
    assert abs(ratio.mean().item() - 1) < 4 * standard_error


@FEW
@given(mi=st.floats(0.0, 50.0), dim=st.integers(1, 64))
def test_correlation_inverts_the_mutual_information(mi, dim):
    assume(2 * mi / dim <= 30)  # beyond, 1 - rho^2 nears float64's resolution
    rho = correlation_for_mutual_information(mi, dim)
    assert 0.0 <= rho < 1.0
    # Rounding rho^2 by eps moves log(1 - rho^2) by eps / (1 - rho^2) = eps e^{2I/d}.
    eps = torch.finfo(torch.float64).eps
    tolerance = 10 * eps * (dim / 2) * math.exp(2 * mi / dim) + 1e-12 * mi
    assert abs(gaussian_mutual_information(rho, dim) - mi) <= tolerance


def test_correlation_by_hand_and_sign():
    assert correlation_for_mutual_information(math.log(1.25), 1) == pytest.approx(0.6, rel=1e-14)
    assert correlation_for_mutual_information(0.0, 5) == 0.0
    assert gaussian_mutual_information(-0.7, 3) == gaussian_mutual_information(0.7, 3)


def test_make_correlated_gaussians_hits_the_target():
    pairs = make_correlated_gaussians(6.0, dim=20, dtype=torch.float64)
    assert pairs.mutual_information == pytest.approx(6.0, rel=1e-12)
    assert pairs.dim == 20 and pairs.dtype == torch.float64
    assert "mutual_information=6" in repr(pairs)


# ---------------------------------------------------------------- the log density ratio


@pytest.mark.parametrize("rho", [0.0, 0.4, -0.8, 0.99])
def test_log_ratio_matches_torch_distributions(rho):
    dim = 3
    pairs = CorrelatedGaussians(rho, dim=dim, dtype=torch.float64)
    gen = torch.Generator().manual_seed(2)
    x = 2 * torch.randn(5, dim, generator=gen, dtype=torch.float64)
    y = 2 * torch.randn(7, dim, generator=gen, dtype=torch.float64)
    # log p(x, y) - log p(x) - log p(y) for every pair (i, j).
    both = torch.cat([x[:, None].expand(5, 7, dim), y[None].expand(5, 7, dim)], -1)
    expected = (
        _joint(rho, dim).log_prob(both)
        - _marginal(dim).log_prob(x)[:, None]
        - _marginal(dim).log_prob(y)[None]
    )
    torch.testing.assert_close(pairs.log_density_ratio(x, y), expected)


def test_pairwise_diagonal_equals_the_rowwise_ratio_and_batches_agree():
    pairs = make_correlated_gaussians(3.0, dim=6, dtype=torch.float64)
    x, y = pairs.sample(24, generator=torch.Generator().manual_seed(3))
    matrix = pairs.log_density_ratio(x, y)
    torch.testing.assert_close(matrix.diagonal(), pairs.log_density_ratio(x, y, pairwise=False))
    batched = pairs.log_density_ratio(x.view(3, 8, 6), y.view(3, 8, 6))
    assert batched.shape == (3, 8, 8)
    torch.testing.assert_close(batched[1], matrix[8:16, 8:16])


def test_independent_coordinates_give_a_ratio_of_one():
    pairs = CorrelatedGaussians(0.0, dim=4, dtype=torch.float64)
    x, y = pairs.sample(10, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(pairs.log_density_ratio(x, y), torch.zeros(10, 10).double())


@pytest.mark.parametrize("device", DEVICES)
def test_log_ratio_follows_the_device_and_dtype(device):
    pairs = make_correlated_gaussians(2.0, dim=5)
    x, y = pairs.sample(6, generator=torch.Generator().manual_seed(5))
    ratio = pairs.log_density_ratio(x.to(device), y.to(device))
    assert ratio.device.type == device and ratio.dtype == torch.float32
    torch.testing.assert_close(ratio.cpu(), pairs.log_density_ratio(x, y))


# ---------------------------------------------------------------- sampling


def test_sampling_is_reproducible_and_has_the_right_moments():
    pairs = CorrelatedGaussians(0.8, dim=3)
    first = pairs.sample(50_000, generator=torch.Generator().manual_seed(6))
    again = pairs.sample(50_000, generator=torch.Generator().manual_seed(6))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    x, y = (t.double() for t in first)
    assert x.dtype == torch.float64 and first[0].dtype == torch.float32
    torch.testing.assert_close(y.std(0), torch.ones(3).double(), atol=0.02, rtol=0)
    torch.testing.assert_close((x * y).mean(0), torch.full((3,), 0.8).double(), atol=0.02, rtol=0)


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: gaussian_mutual_information(1.0, 3), "rho"),
        (lambda: gaussian_mutual_information(-1.0, 3), "rho"),
        (lambda: gaussian_mutual_information(float("nan"), 3), "rho"),
        (lambda: gaussian_mutual_information(True, 3), "rho"),
        (lambda: gaussian_mutual_information(0.5, 0), "dim"),
        (lambda: gaussian_mutual_information(0.5, 2.0), "dim"),
        (lambda: correlation_for_mutual_information(-0.1, 3), "mutual_information"),
        (lambda: correlation_for_mutual_information(float("inf"), 3), "mutual_information"),
        (lambda: correlation_for_mutual_information(500.0, 1), "mutual_information"),
        (lambda: correlation_for_mutual_information("2", 3), "mutual_information"),
        (lambda: make_correlated_gaussians(1.0, dim=-1), "dim"),
        (lambda: CorrelatedGaussians(0.5, dtype=torch.int64), "dtype"),
        (lambda: CorrelatedGaussians(0.5).sample(0), "num_samples"),
        (lambda: CorrelatedGaussians(0.5).sample(2.5), "num_samples"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "x, y, kwargs, match",
    [
        (torch.zeros(4, 3), torch.zeros(4, 2), {}, "`y`"),
        (torch.zeros(4, 2), torch.zeros(4, 3), {}, "`x`"),
        (torch.zeros(3), torch.zeros(4, 3), {}, "`x`"),
        (torch.zeros(4, 3, dtype=torch.int64), torch.zeros(4, 3), {}, "`x`"),
        (torch.zeros(2, 4, 3), torch.zeros(3, 4, 3), {}, "`y`"),
        (torch.zeros(4, 3), torch.zeros(4, 3, dtype=torch.float64), {}, "`y`"),
        (torch.zeros(4, 3), torch.zeros(5, 3), {"pairwise": False}, "`y`"),
        (torch.zeros(4, 3), torch.zeros(4, 3), {"pairwise": 1}, "pairwise"),
    ],
)
def test_log_ratio_rejects_bad_inputs(x, y, kwargs, match):
    pairs = CorrelatedGaussians(0.5, dim=3)
    with pytest.raises(ValueError, match=match):
        pairs.log_density_ratio(x, y, **kwargs)


def test_the_ratio_averages_to_e_to_twice_the_information_over_dependent_pairs():
    # E over p(x, y) of r is the integral of p(x, y)^2 / (p(x) p(y)), (1 - rho^2)^{-d} = e^{2I}.
    pairs = make_correlated_gaussians(0.25, dim=2, dtype=torch.float64)
    x, y = pairs.sample(100_000, generator=torch.Generator().manual_seed(7))
    ratio = pairs.log_density_ratio(x, y, pairwise=False).exp()
    standard_error = ratio.std().item() / math.sqrt(len(ratio))
    assert abs(ratio.mean().item() - math.exp(2 * 0.25)) < 4 * standard_error

"""Tests for xenthelpers.targets.mixup_optimum: Beta quadrature and the mixup posterior."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from tests.unit.devices import DEVICES
from xenthelpers.data import GaussianClasses, make_gaussian_classes
from xenthelpers.targets import beta_quadrature, mixup_posterior

EPS64 = torch.finfo(torch.float64).eps

# ------------------------------------------------------------------ beta_quadrature


@pytest.mark.parametrize("a, b", [(0.2, 0.2), (1.0, 1.0), (4.0, 4.0), (2.0, 0.5), (0.5, 3.0)])
def test_moments_are_exact_up_to_degree_2n_minus_1(a, b):
    n = 5
    nodes, weights = beta_quadrature(a, b, n)
    assert nodes.dtype == torch.float64 and nodes.shape == weights.shape == (n,)
    assert bool((weights > 0).all()) and bool((nodes > 0).all()) and bool((nodes < 1).all())
    assert bool((nodes.diff() > 0).all())
    for degree in range(2 * n):
        # E[lam^m] = prod_{i<m} (a + i) / (a + b + i), exactly (scipy's moments are not).
        exact = math.prod((a + i) / (a + b + i) for i in range(degree))
        assert abs(float(weights @ nodes**degree) - exact) < 1000 * EPS64 * max(1.0, exact)


def test_smooth_expectation_matches_adaptive_integration_with_singular_weight():
    # scipy's quad integrates f(x) x^(a-1) (1-x)^(b-1) with the singular weight built in.
    a, b = 0.3, 2.0
    nodes, weights = beta_quadrature(a, b, 40)
    value, _ = integrate.quad(np.exp, 0.0, 1.0, weight="alg", wvar=(a - 1, b - 1))
    reference = value / math.exp(math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    assert abs(float(weights @ nodes.exp()) - reference) < 1e-12


def test_symmetric_beta_gives_mirrored_nodes_and_float32_on_request():
    nodes, weights = beta_quadrature(0.7, 0.7, 9, dtype=torch.float32)
    assert nodes.dtype == weights.dtype == torch.float32
    torch.testing.assert_close(nodes, 1 - nodes.flip(0))
    torch.testing.assert_close(weights, weights.flip(0))


@pytest.mark.parametrize("device", DEVICES)
def test_quadrature_lands_on_the_device(device):
    nodes, weights = beta_quadrature(1.0, 2.0, 4, device=device)
    assert nodes.device.type == weights.device.type == torch.device(device).type


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"a": 0.0, "b": 1.0}, "`a`"),
        ({"a": 1.0, "b": -1.0}, "`b`"),
        ({"a": float("nan"), "b": 1.0}, "`a`"),
        ({"a": 1.0, "b": float("inf")}, "`b`"),
        ({"a": True, "b": 1.0}, "`a`"),
        ({"a": 1.0, "b": 1.0, "num_nodes": 0}, "num_nodes"),
        ({"a": 1.0, "b": 1.0, "num_nodes": 2.0}, "num_nodes"),
        ({"a": 1.0, "b": 1.0, "dtype": torch.int64}, "dtype"),
    ],
)
def test_quadrature_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        beta_quadrature(**kwargs)


# ------------------------------------------------------------------ mixup_posterior


def _reference(classes: GaussianClasses, x: np.ndarray, alpha: float) -> np.ndarray:
    """E[mixed target | x] by adaptive integration over lambda, pair by pair."""
    means = classes.means.double().numpy()
    priors = classes.priors.double().numpy()
    sigma2 = classes.scale**2
    num_classes, dim = means.shape

    def density(lam: float, k: int, j: int) -> float:
        centre = lam * means[k] + (1 - lam) * means[j]
        var = (lam**2 + (1 - lam) ** 2) * sigma2
        sq = float(((x - centre) ** 2).sum())
        return math.exp(-0.5 * sq / var) / (2 * math.pi * var) ** (dim / 2)

    def expect(f) -> float:
        value, _ = integrate.quad(
            f, 0.0, 1.0, weight="alg", wvar=(alpha - 1, alpha - 1), epsabs=0, epsrel=1e-13
        )
        return value

    numerator, total = np.zeros(num_classes), 0.0
    for k in range(num_classes):
        for j in range(num_classes):
            weight = priors[k] * priors[j]
            total += weight * expect(lambda t, k=k, j=j: density(t, k, j))
            numerator[k] += weight * expect(lambda t, k=k, j=j: t * density(t, k, j))
            numerator[j] += weight * expect(lambda t, k=k, j=j: (1 - t) * density(t, k, j))
    return numerator / total


@pytest.mark.parametrize("alpha", [0.2, 1.0, 4.0])
def test_matches_adaptive_integration_with_unequal_priors(alpha):
    means = torch.tensor([[1.0, 0.0, 0.0], [-0.5, 1.0, 0.0], [0.0, -1.0, 0.5]], dtype=torch.float64)
    classes = GaussianClasses(means, scale=0.8, priors=torch.tensor([0.5, 0.3, 0.2]))
    x = torch.tensor([[0.0, 0.0, 0.0], [1.2, -0.3, 0.4], [-1.0, 1.5, -0.2]], dtype=torch.float64)
    rows = mixup_posterior(classes, x, alpha=alpha)
    expected = np.stack([_reference(classes, point, alpha) for point in x.numpy()])
    np.testing.assert_allclose(rows.numpy(), expected, rtol=0, atol=1e-10)


def test_rows_are_distributions_and_symmetric_points_are_undecided():
    classes = make_gaussian_classes(2, dim=2, radius=1.5, dtype=torch.float64)
    x, _ = classes.sample(50, generator=torch.Generator().manual_seed(0))
    rows = mixup_posterior(classes, x, alpha=0.5)
    assert rows.shape == (50, 2) and bool((rows >= 0).all())
    torch.testing.assert_close(rows.sum(1), torch.ones(50, dtype=torch.float64))
    midline = torch.tensor([[0.0, -2.0], [0.0, 0.0], [0.0, 3.0]], dtype=torch.float64)
    torch.testing.assert_close(
        mixup_posterior(classes, midline, alpha=2.0), torch.full((3, 2), 0.5, dtype=torch.float64)
    )


def test_less_confident_than_bayes_and_close_to_it_for_small_alpha():
    classes = make_gaussian_classes(2, dim=2, radius=1.5, dtype=torch.float64)
    x, _ = classes.sample(200, generator=torch.Generator().manual_seed(1))
    bayes = classes.posterior(x)
    near = x[:, 0].abs() < 3  # where both classes have mass
    for alpha in (0.2, 1.0):
        rows = mixup_posterior(classes, x, alpha=alpha)
        assert bool((rows.amax(1)[near] <= bayes.amax(1)[near] + 1e-12).all())
    tiny = mixup_posterior(classes, x, alpha=1e-3)
    assert (tiny - bayes).abs().max() < 0.01


def test_dtype_and_device_follow_the_inputs():
    classes = make_gaussian_classes(3, dim=2)
    x = torch.zeros(4, 2)
    rows = mixup_posterior(classes, x, alpha=1.0)
    assert rows.dtype == torch.float32 and rows.shape == (4, 3)


@pytest.mark.parametrize("device", DEVICES)
def test_runs_on_the_device(device):
    classes = make_gaussian_classes(2, dim=2)
    x = torch.randn(8, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rows = mixup_posterior(classes, x.to(device), alpha=1.0)
    assert rows.device.type == torch.device(device).type
    torch.testing.assert_close(rows.cpu(), mixup_posterior(classes, x, alpha=1.0))


def test_chunks_do_not_change_the_result(monkeypatch):
    import xenthelpers.targets.mixup_optimum as module

    classes = make_gaussian_classes(2, dim=2)
    x = torch.randn(30, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    whole = mixup_posterior(classes, x, alpha=1.0)
    monkeypatch.setattr(module, "_CHUNK_ENTRIES", 7 * 64 * 4)
    torch.testing.assert_close(mixup_posterior(classes, x, alpha=1.0), whole)


def test_posterior_rejects_bad_arguments():
    classes = make_gaussian_classes(2, dim=2)
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="classes"):
        mixup_posterior("gauss", x, alpha=1.0)
    with pytest.raises(ValueError, match="inputs"):
        mixup_posterior(classes, torch.zeros(3, 3), alpha=1.0)
    with pytest.raises(ValueError, match="inputs"):
        mixup_posterior(classes, torch.zeros(3, 2, dtype=torch.long), alpha=1.0)
    with pytest.raises(ValueError, match="inputs"):
        mixup_posterior(classes, torch.tensor([[0.0, float("nan")]]), alpha=1.0)
    for alpha in (0.0, -1.0, float("inf"), True):
        with pytest.raises(ValueError, match="alpha"):
            mixup_posterior(classes, x, alpha=alpha)
    with pytest.raises(ValueError, match="num_nodes"):
        mixup_posterior(classes, x, alpha=1.0, num_nodes=0)

"""Tests for xenthelpers.data.gaussian_classes."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import MultivariateNormal

from tests.unit.bayes import gaussian_posterior
from tests.unit.devices import DEVICES
from xenthelpers.data.gaussian_classes import GaussianClasses, make_gaussian_classes

FEW = settings(max_examples=30, deadline=None)


def _reference_posterior(classes: GaussianClasses, x: torch.Tensor) -> torch.Tensor:
    """Bayes' rule with torch.distributions, independently of the class under test."""
    return gaussian_posterior(classes.means, classes.priors.tolist(), classes.scale, x)


# ---------------------------------------------------------------- make_gaussian_classes


@pytest.mark.parametrize("num_classes", [2, 3, 4, 7])
@pytest.mark.parametrize("dim", [2, 5])
def test_means_lie_on_a_circle_in_the_first_two_coordinates(num_classes, dim):
    classes = make_gaussian_classes(num_classes, dim=dim, radius=2.5)
    assert classes.means.shape == (num_classes, dim)
    torch.testing.assert_close(
        classes.means[:, :2].norm(dim=1), torch.full((num_classes,), 2.5)
    )
    assert bool((classes.means[:, 2:] == 0).all())
    angles = torch.atan2(classes.means[:, 1], classes.means[:, 0]) % (2 * math.pi)
    expected = 2 * math.pi * torch.arange(num_classes) / num_classes
    torch.testing.assert_close(angles, expected.float(), atol=1e-6, rtol=0)


def test_four_classes_are_axis_aligned_exactly():
    means = make_gaussian_classes(4, radius=3.0).means
    assert torch.equal(means, torch.tensor([[3.0, 0.0], [0.0, 3.0], [-3.0, 0.0], [0.0, -3.0]]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_is_used_for_means_and_samples(dtype):
    classes = make_gaussian_classes(3, dim=4, dtype=dtype)
    x, y = classes.sample(10, generator=torch.Generator().manual_seed(0))
    assert classes.means.dtype == dtype and x.dtype == dtype
    assert y.dtype == torch.int64


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 2.0}, "num_classes"),
        ({"num_classes": 3, "dim": 1}, "dim"),
        ({"num_classes": 3, "radius": 0.0}, "radius"),
        ({"num_classes": 3, "scale": -1.0}, "scale"),
        ({"num_classes": 3, "priors": torch.tensor([0.5, 0.5])}, "priors"),
        ({"num_classes": 3, "dtype": torch.int64}, "dtype"),
    ],
)
def test_make_gaussian_classes_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_gaussian_classes(**kwargs)


# ---------------------------------------------------------------- GaussianClasses.sample


def test_sampling_is_reproducible_with_a_generator():
    classes = make_gaussian_classes(4, dim=3)
    first = classes.sample(50, generator=torch.Generator().manual_seed(7))
    second = classes.sample(50, generator=torch.Generator().manual_seed(7))
    other = classes.sample(50, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[0], other[0])


def test_samples_follow_the_priors_means_and_scale():
    priors = torch.tensor([0.5, 0.3, 0.2])
    classes = make_gaussian_classes(3, dim=3, radius=4.0, scale=0.5, priors=priors)
    x, y = classes.sample(60_000, generator=torch.Generator().manual_seed(0))
    frequencies = torch.bincount(y, minlength=3) / len(y)
    torch.testing.assert_close(frequencies, priors, atol=0.01, rtol=0)
    for k in range(3):
        inside = x[y == k]
        torch.testing.assert_close(inside.mean(0), classes.means[k], atol=0.02, rtol=0)
        torch.testing.assert_close(inside.std(0), torch.full((3,), 0.5), atol=0.02, rtol=0)


def test_sample_rejects_a_bad_size():
    classes = make_gaussian_classes(2)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="num_samples"):
            classes.sample(bad)


# ---------------------------------------------------------------- densities and posterior


@FEW
@given(
    num_classes=st.integers(2, 6),
    dim=st.integers(2, 5),
    radius=st.floats(0.1, 5.0),
    scale=st.floats(0.3, 3.0),
    seed=st.integers(0, 2**16),
)
def test_posterior_matches_bayes_rule(num_classes, dim, radius, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    priors = torch.softmax(torch.randn(num_classes, generator=gen, dtype=torch.float64), 0)
    classes = make_gaussian_classes(
        num_classes, dim=dim, radius=radius, scale=scale, priors=priors, dtype=torch.float64
    )
    x = 3 * torch.randn(20, dim, generator=gen, dtype=torch.float64)
    posterior = classes.posterior(x)
    torch.testing.assert_close(posterior, _reference_posterior(classes, x))
    torch.testing.assert_close(posterior.sum(1), torch.ones(20, dtype=torch.float64))


def test_log_density_matches_torch_distributions():
    classes = make_gaussian_classes(3, dim=4, radius=1.5, scale=0.7, dtype=torch.float64)
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    cov = 0.49 * torch.eye(4, dtype=torch.float64)
    expected = torch.stack(
        [MultivariateNormal(m, covariance_matrix=cov).log_prob(x) for m in classes.means], dim=1
    )
    torch.testing.assert_close(classes.log_density(x), expected)


def test_posterior_logits_give_the_posterior():
    classes = make_gaussian_classes(5, dim=3)
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(
        torch.softmax(classes.posterior_logits(x), dim=1), classes.posterior(x)
    )


def test_two_symmetric_classes_are_even_at_the_midpoint_and_priors_tilt_it():
    even = GaussianClasses(torch.tensor([[-1.0], [1.0]]))
    torch.testing.assert_close(even.posterior(torch.zeros(1, 1)), torch.tensor([[0.5, 0.5]]))
    tilted = GaussianClasses(torch.tensor([[-1.0], [1.0]]), priors=torch.tensor([0.8, 0.2]))
    torch.testing.assert_close(tilted.posterior(torch.zeros(1, 1)), torch.tensor([[0.8, 0.2]]))


def test_the_bayes_posterior_has_the_lowest_expected_cross_entropy():
    classes = make_gaussian_classes(4, dim=2, radius=1.5, dtype=torch.float64)
    x, y = classes.sample(20_000, generator=torch.Generator().manual_seed(3))
    logits = classes.posterior_logits(x)
    bayes = torch.nn.functional.cross_entropy(logits, y)
    for temperature in (0.5, 0.8, 1.25, 2.0):
        assert torch.nn.functional.cross_entropy(logits / temperature, y) > bayes


def test_the_bayes_accuracy_matches_the_argmax_of_the_posterior():
    classes = make_gaussian_classes(2, dim=2, radius=1.0)
    x, y = classes.sample(40_000, generator=torch.Generator().manual_seed(4))
    accuracy = (classes.posterior(x).argmax(1) == y).float().mean()
    # Two classes at distance 2 with unit scale: the Bayes accuracy is Phi(1).
    phi_1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    assert abs(accuracy.item() - phi_1) < 0.01


@pytest.mark.parametrize("device", DEVICES)
def test_posterior_follows_the_device_and_dtype_of_the_inputs(device):
    classes = make_gaussian_classes(3, dim=2)
    x = torch.randn(5, 2, dtype=torch.float64, device=device)
    posterior = classes.posterior(x)
    assert posterior.device.type == device and posterior.dtype == torch.float64
    torch.testing.assert_close(posterior.cpu(), classes.posterior(x.cpu()))


def test_inputs_of_the_wrong_shape_or_dtype_are_rejected():
    classes = make_gaussian_classes(3, dim=4)
    with pytest.raises(ValueError, match="inputs"):
        classes.posterior(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="inputs"):
        classes.log_density(torch.zeros(4))
    with pytest.raises(ValueError, match="inputs"):
        classes.posterior(torch.zeros(5, 4, dtype=torch.int64))
    with pytest.raises(TypeError, match="inputs"):
        classes.posterior([[0.0] * 4])


@pytest.mark.parametrize(
    "means, kwargs, match",
    [
        (torch.zeros(3), {}, "means"),
        (torch.zeros(0, 2), {}, "means"),
        (torch.zeros(2, 2, dtype=torch.int64), {}, "means"),
        (torch.tensor([[0.0, float("nan")]]), {}, "means"),
        (torch.zeros(2, 2), {"scale": 0.0}, "scale"),
        (torch.zeros(2, 2), {"priors": torch.tensor([0.7, 0.7])}, "priors"),
        (torch.zeros(2, 2), {"priors": torch.tensor([1.0])}, "priors"),
    ],
)
def test_gaussian_classes_rejects_bad_arguments(means, kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianClasses(means, **kwargs)


def test_the_class_keeps_its_own_copy_of_the_means():
    means = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    classes = GaussianClasses(means)
    means += 100
    assert classes.means.abs().max() == 1.0

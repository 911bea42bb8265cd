"""Tests for xenthelpers.data.rare_positives."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.bayes import gaussian_log_joint
from tests.unit.devices import DEVICES
from xenthelpers.data.rare_positives import COMPONENTS, RarePositives, RarePositivesSample

FEW = settings(max_examples=30, deadline=None)


def _reference_logits(data: RarePositives, x: torch.Tensor) -> torch.Tensor:
    """Bayes' rule with torch.distributions in float64, independently of the class."""
    log_joint = gaussian_log_joint(data.means, data.weights.tolist(), data.scale, x)
    return log_joint[:, 0] - torch.logsumexp(log_joint[:, 1:], dim=1)


def _draw(data: RarePositives, n: int, seed: int = 0) -> RarePositivesSample:
    return data.sample(n, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------- geometry


def test_means_are_origin_then_first_axis_then_second_axis():
    data = RarePositives(hard_distance=1.5, easy_distance=4.0, dim=4)
    expected = torch.zeros(3, 4)
    expected[1, 0], expected[2, 1] = 1.5, 4.0
    assert torch.equal(data.means, expected)
    assert data.dim == 4 and len(COMPONENTS) == 3


def test_weights_are_the_mixture_probabilities():
    data = RarePositives(positive_rate=0.01, hard_fraction=0.2)
    torch.testing.assert_close(
        data.weights, torch.tensor([0.01, 0.99 * 0.2, 0.99 * 0.8], dtype=torch.float64)
    )
    assert math.isclose(data.weights.sum().item(), 1.0, abs_tol=1e-15)


def test_repr_names_the_parameters():
    text = repr(RarePositives(positive_rate=0.01, dim=3))
    assert "positive_rate=0.01" in text and "dim=3" in text


# ------------------------------------------------------------------------- sampling


def test_sample_shapes_dtypes_and_labels():
    x, y, component = _draw(RarePositives(dim=3), 1000)
    assert x.shape == (1000, 3) and y.shape == (1000,) and component.shape == (1000,)
    assert x.dtype == y.dtype == torch.float32 and component.dtype == torch.int64
    assert torch.equal(y, (component == 0).float())
    assert set(component.unique().tolist()) <= {0, 1, 2}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_is_used_for_means_inputs_and_targets(dtype):
    data = RarePositives(dtype=dtype)
    sample = _draw(data, 10)
    assert data.means.dtype == sample.inputs.dtype == sample.target.dtype == dtype


def test_sample_is_reproducible_from_the_generator():
    data = RarePositives()
    first, again, other = _draw(data, 500, 3), _draw(data, 500, 3), _draw(data, 500, 4)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first.inputs, other.inputs)


def test_component_frequencies_match_the_weights():
    data = RarePositives(positive_rate=0.02, hard_fraction=0.1)
    n = 200_000
    counts = torch.bincount(_draw(data, n).component, minlength=3).double()
    weights = data.weights
    sd = (n * weights * (1 - weights)).sqrt()  # binomial standard deviations
    assert bool(((counts - n * weights).abs() < 5 * sd).all())


def test_each_component_is_an_isotropic_gaussian_around_its_mean():
    data = RarePositives(positive_rate=0.3, hard_fraction=0.5, dim=3, scale=0.7,
                         dtype=torch.float64)
    x, _, component = _draw(data, 60_000)
    for k in range(3):
        rows = x[component == k]
        n = rows.shape[0]
        assert bool(((rows.mean(0) - data.means[k]).abs() < 5 * 0.7 / math.sqrt(n)).all())
        # the sd of a sample variance of n normal draws is sigma^2 sqrt(2 / (n - 1))
        tol = 5 * 0.49 * math.sqrt(2 / (n - 1))
        assert bool(((rows.var(0) - 0.49).abs() < tol).all())


# ------------------------------------------------------------------------- posterior


@FEW
@given(
    positive_rate=st.floats(1e-4, 0.9),
    hard_fraction=st.floats(0.0, 1.0),
    hard_distance=st.floats(0.0, 5.0),
    easy_distance=st.floats(0.5, 10.0),
    dim=st.integers(2, 4),
    scale=st.floats(0.3, 3.0),
    seed=st.integers(0, 2**16),
)
def test_posterior_matches_bayes_rule_with_torch_distributions(
    positive_rate, hard_fraction, hard_distance, easy_distance, dim, scale, seed
):
    data = RarePositives(
        positive_rate=positive_rate, hard_fraction=hard_fraction,
        hard_distance=hard_distance, easy_distance=easy_distance, dim=dim, scale=scale,
        dtype=torch.float64,
    )
    x = _draw(data, 64, seed).inputs
    torch.testing.assert_close(
        data.posterior_logits(x), _reference_logits(data, x), rtol=1e-9, atol=1e-9
    )


def test_posterior_is_calibrated_on_average():
    # E[y - p(y = 1 | x)] = 0: the law of total probability, checked to 5 sampling sd.
    data = RarePositives(positive_rate=0.01, dtype=torch.float64)
    x, y, _ = _draw(data, 200_000)
    residual = y - data.posterior(x)
    assert residual.mean().abs() < 5 * residual.std() / math.sqrt(len(y))


def test_posterior_ignores_the_noise_coordinates():
    data = RarePositives(dim=5, dtype=torch.float64)
    x = _draw(data, 100).inputs
    shifted = x.clone()
    shifted[:, 2:] += torch.randn(100, 3, generator=torch.Generator().manual_seed(1),
                                  dtype=torch.float64)
    torch.testing.assert_close(data.posterior_logits(shifted), data.posterior_logits(x),
                               rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_posterior_logits_stay_finite_far_from_every_mean(dtype):
    data = RarePositives(dtype=dtype)
    x = torch.tensor([[1e3, 0.0], [0.0, 1e3], [-1e3, -1e3], [0.0, 0.0]], dtype=dtype)
    logits = data.posterior_logits(x)
    assert bool(torch.isfinite(logits).all())
    torch.testing.assert_close(logits.double(), _reference_logits(data, x.double()),
                               rtol=1e-5, atol=1e-3)
    probs = data.posterior(x)
    assert bool(((probs >= 0) & (probs <= 1)).all())


@pytest.mark.parametrize("hard_fraction", [0.0, 1.0])
def test_posterior_with_an_empty_negative_cluster(hard_fraction):
    data = RarePositives(hard_fraction=hard_fraction, dtype=torch.float64)
    x = _draw(data, 200).inputs
    logits = data.posterior_logits(x)
    assert bool(torch.isfinite(logits).all())
    torch.testing.assert_close(logits, _reference_logits(data, x), rtol=1e-9, atol=1e-9)


def test_posterior_logits_gradcheck():
    data = RarePositives(dim=3, dtype=torch.float64)
    x = (2 * torch.randn(6, 3, generator=torch.Generator().manual_seed(0),
                         dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(data.posterior_logits, (x,))


@pytest.mark.parametrize("device", DEVICES)
def test_posterior_on_the_device_of_the_inputs(device):
    data = RarePositives()
    x = _draw(data, 50).inputs
    logits = data.posterior_logits(x.to(device))
    assert logits.device.type == device
    torch.testing.assert_close(logits.cpu(), data.posterior_logits(x))


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize("value", [0.0, 1.0, -0.1, float("nan")])
def test_positive_rate_must_lie_strictly_inside_the_unit_interval(value):
    with pytest.raises(ValueError, match="positive_rate"):
        RarePositives(positive_rate=value)


@pytest.mark.parametrize("value", [-0.1, 1.1, float("nan")])
def test_hard_fraction_must_lie_in_the_unit_interval(value):
    with pytest.raises(ValueError, match="hard_fraction"):
        RarePositives(hard_fraction=value)


@pytest.mark.parametrize("value", [-1.0, float("inf"), float("nan")])
def test_hard_distance_must_be_finite_and_non_negative(value):
    with pytest.raises(ValueError, match="hard_distance"):
        RarePositives(hard_distance=value)


@pytest.mark.parametrize("value", [0.0, -2.0, float("inf")])
def test_easy_distance_must_be_positive(value):
    with pytest.raises(ValueError, match="easy_distance"):
        RarePositives(easy_distance=value)


@pytest.mark.parametrize("value", [1, 0, 2.5, True])
def test_dim_must_be_an_integer_of_at_least_two(value):
    with pytest.raises(ValueError, match="dim"):
        RarePositives(dim=value)


@pytest.mark.parametrize("value", [0.0, -1.0, float("inf")])
def test_scale_must_be_positive(value):
    with pytest.raises(ValueError, match="scale"):
        RarePositives(scale=value)


@pytest.mark.parametrize("value", [torch.int64, "float32"])
def test_dtype_must_be_a_floating_point_dtype(value):
    with pytest.raises(ValueError, match="dtype"):
        RarePositives(dtype=value)


@pytest.mark.parametrize("value", [0, -3, 2.0])
def test_num_samples_must_be_a_positive_integer(value):
    with pytest.raises(ValueError, match="num_samples"):
        RarePositives().sample(value)


@pytest.mark.parametrize("shape", [(5, 3), (5,), (2, 5, 2)])
def test_inputs_must_have_shape_n_by_d(shape):
    with pytest.raises(ValueError, match="inputs"):
        RarePositives().posterior_logits(torch.zeros(shape))


def test_inputs_must_be_floating_point():
    with pytest.raises(ValueError, match="inputs"):
        RarePositives().posterior(torch.zeros(4, 2, dtype=torch.long))

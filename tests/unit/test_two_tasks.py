"""Tests for xenthelpers.data.two_tasks."""

from __future__ import annotations

import math
from itertools import pairwise

import mpmath
import pytest
import torch

from tests.unit.devices import DEVICES
from xenthelpers import sample_per_seed
from xenthelpers.data.two_tasks import TwoTasks, TwoTasksSample


def _draw(tasks: TwoTasks, n: int, seed: int = 0) -> TwoTasksSample:
    return tasks.sample(n, generator=torch.Generator().manual_seed(seed))


def _reference_entropy(slope: float) -> float:
    """E h(sigma(slope z)) for z ~ N(0, 1), with mpmath at 30 digits."""
    with mpmath.workdps(30):

        def integrand(z: mpmath.mpf) -> mpmath.mpf:
            p = 1 / (1 + mpmath.exp(-slope * z))
            q = 1 / (1 + mpmath.exp(slope * z))  # 1 - p, without rounding it to zero
            return mpmath.npdf(z) * (-p * mpmath.log(p) - q * mpmath.log(q))

        return float(mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf]))


# ------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("alignment", [-1.0, -0.3, 0.0, 0.5, 1.0])
def test_directions_are_unit_vectors_with_the_given_cosine(alignment):
    tasks = TwoTasks(dim=4, alignment=alignment, dtype=torch.float64)
    u, v = tasks.label_direction, tasks.response_direction
    assert torch.equal(u, torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64))
    assert math.isclose(v.norm().item(), 1.0, abs_tol=1e-15)
    assert math.isclose((u @ v).item(), alignment, abs_tol=1e-15)
    assert torch.equal(v[2:], torch.zeros(2, dtype=torch.float64))


def test_logits_and_means_by_hand():
    tasks = TwoTasks(dim=3, slope=2.0, amplitude=5.0, alignment=0.6, dtype=torch.float64)
    x = torch.tensor([[1.0, 0.0, 7.0], [0.0, 1.0, -7.0], [2.0, -1.0, 0.0]], dtype=torch.float64)
    expected_logits = torch.tensor([2.0, 0.0, 4.0], dtype=torch.float64)
    expected_means = 5.0 * torch.tensor([0.6, 0.8, 1.2 - 0.8], dtype=torch.float64)
    torch.testing.assert_close(tasks.label_logits(x), expected_logits, rtol=0, atol=1e-15)
    torch.testing.assert_close(tasks.response_mean(x), expected_means, rtol=0, atol=1e-14)


def test_noise_variance_and_repr():
    tasks = TwoTasks(noise=1.5, alignment=0.25)
    assert tasks.noise_variance == 2.25
    text = repr(tasks)
    assert "noise=1.5" in text and "alignment=0.25" in text and "dim=6" in text


# ------------------------------------------------------------------------- the label floor


@pytest.mark.parametrize("slope", [0.3, 1.0, 3.0, 10.0, 50.0])
def test_label_entropy_matches_a_high_precision_reference(slope):
    assert math.isclose(
        TwoTasks(slope=slope).label_entropy, _reference_entropy(slope), rel_tol=1e-11
    )


def test_label_entropy_is_log_2_for_coin_flips_and_falls_with_the_slope():
    assert math.isclose(TwoTasks(slope=0.0).label_entropy, math.log(2), rel_tol=1e-14)
    values = [TwoTasks(slope=s).label_entropy for s in (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 100.0)]
    assert all(a > b for a, b in pairwise(values))
    assert values[-1] > 0


def test_label_entropy_is_the_mean_entropy_of_the_true_posterior():
    tasks = TwoTasks(slope=2.0, dtype=torch.float64)
    logits = tasks.label_logits(_draw(tasks, 200_000).inputs)
    p = torch.sigmoid(logits)
    per_point = torch.nn.functional.binary_cross_entropy_with_logits(logits, p, reduction="none")
    se = per_point.std().item() / math.sqrt(len(per_point))
    assert abs(per_point.mean().item() - tasks.label_entropy) < 5 * se


# ------------------------------------------------------------------------- sampling


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sample_shapes_dtypes_and_labels(dtype):
    sample = _draw(TwoTasks(dim=5, dtype=dtype), 1000)
    assert isinstance(sample, TwoTasksSample)
    assert sample.inputs.shape == (1000, 5)
    assert sample.label.shape == sample.response.shape == (1000,)
    assert sample.inputs.dtype == sample.label.dtype == sample.response.dtype == dtype
    assert set(sample.label.unique().tolist()) == {0.0, 1.0}


def test_sample_is_reproducible_from_the_generator():
    tasks = TwoTasks()
    first, again, other = _draw(tasks, 300, 3), _draw(tasks, 300, 3), _draw(tasks, 300, 4)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first.inputs, other.inputs)


def test_labels_follow_the_logistic_model():
    tasks = TwoTasks(slope=1.5, dtype=torch.float64)
    sample = _draw(tasks, 200_000)
    p = torch.sigmoid(tasks.label_logits(sample.inputs))
    residual = sample.label - p  # mean 0, variance E p(1 - p)
    se = math.sqrt((p * (1 - p)).mean().item() / len(p))
    assert abs(residual.mean().item()) < 5 * se
    for j in range(tasks.dim):  # uncorrelated with every input coordinate
        assert abs((residual * sample.inputs[:, j]).mean().item()) < 5 * se * 1.5


def test_response_noise_has_the_stated_variance_and_is_independent_of_the_inputs():
    tasks = TwoTasks(noise=2.0, amplitude=3.0, dtype=torch.float64)
    n = 200_000
    sample = _draw(tasks, n)
    noise = sample.response - tasks.response_mean(sample.inputs)
    se_var = tasks.noise_variance * math.sqrt(2 / n)
    assert abs(noise.square().mean().item() - tasks.noise_variance) < 5 * se_var
    se_cov = tasks.noise / math.sqrt(n)
    assert (noise[:, None] * sample.inputs).mean(0).abs().max().item() < 5 * se_cov


def test_sample_per_seed_stacks_named_samples():
    x, label, response = sample_per_seed(TwoTasks(dim=3), range(4), num_samples=10)
    assert x.shape == (10, 4, 3) and label.shape == response.shape == (10, 4)


@pytest.mark.parametrize("device", DEVICES)
def test_logits_follow_the_inputs_device_and_dtype(device):
    tasks = TwoTasks(dim=3)
    x = torch.randn(5, 3, dtype=torch.float64, device=device)
    for out in (tasks.label_logits(x), tasks.response_mean(x)):
        assert out.device == x.device and out.dtype == torch.float64 and out.shape == (5,)


# ------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"dim": 1}, "dim"),
        ({"dim": 2.0}, "dim"),
        ({"slope": -1.0}, "slope"),
        ({"slope": "3"}, "slope"),
        ({"slope": math.inf}, "slope"),
        ({"amplitude": -0.5}, "amplitude"),
        ({"amplitude": True}, "amplitude"),
        ({"noise": 0.0}, "noise"),
        ({"noise": math.nan}, "noise"),
        ({"alignment": 1.5}, "alignment"),
        ({"alignment": -1.01}, "alignment"),
        ({"dtype": torch.int64}, "dtype"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        TwoTasks(**kwargs)


def test_bad_inputs_are_named():
    tasks = TwoTasks(dim=3)
    with pytest.raises(ValueError, match="`num_samples`"):
        tasks.sample(0)
    with pytest.raises(ValueError, match="`inputs`"):
        tasks.label_logits(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="`inputs`"):
        tasks.response_mean(torch.zeros(4, 3, dtype=torch.int64))

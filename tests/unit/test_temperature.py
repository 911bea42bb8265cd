"""Tests for xenthelpers.metrics.temperature."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from tests.unit.devices import DEVICES
from tests.unit.host_reads import NEEDS_CUDA, cuda_synchronisations
from xenthelpers.metrics import fit_temperature


def _sampled_problem(n=5000, k=10, seed=0, scale=1.5):
    """Logits whose softmax is the true label distribution, and labels drawn from it."""
    gen = torch.Generator().manual_seed(seed)
    true_logits = scale * torch.randn(n, k, generator=gen, dtype=torch.float64)
    labels = torch.multinomial(torch.softmax(true_logits, dim=1), 1, generator=gen).squeeze(1)
    return true_logits, labels


def _nll(logits, target, temperature):
    return float(F.cross_entropy(logits.double() / temperature, target))


# Over 8 seeds with n=5000 the estimate's relative spread is about 1%; 5% is five sigma.
RELATIVE_TOLERANCE = 0.05


def test_recovers_the_temperature_of_an_overconfident_model():
    true_logits, labels = _sampled_problem()
    temperature = fit_temperature(3 * true_logits, labels)
    assert temperature == pytest.approx(3.0, rel=RELATIVE_TOLERANCE)


def test_calibrated_model_gets_temperature_one():
    true_logits, labels = _sampled_problem(seed=1)
    assert fit_temperature(true_logits, labels) == pytest.approx(1.0, rel=RELATIVE_TOLERANCE)


def test_underconfident_model_gets_temperature_below_one():
    true_logits, labels = _sampled_problem(seed=2)
    assert fit_temperature(true_logits / 2, labels) == pytest.approx(0.5, rel=RELATIVE_TOLERANCE)


@pytest.mark.parametrize("seed", [0, 3])
def test_is_the_minimiser_found_by_scipy(seed):
    true_logits, labels = _sampled_problem(n=800, seed=seed)
    logits = 2.5 * true_logits
    ours = fit_temperature(logits, labels)
    reference = minimize_scalar(
        lambda log_t: _nll(logits, labels, math.exp(log_t)),
        bounds=(math.log(1e-2), math.log(1e2)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert ours == pytest.approx(math.exp(reference.x), rel=1e-5)
    assert _nll(logits, labels, ours) <= reference.fun + 1e-12


def test_gradient_of_nll_vanishes_at_the_optimum():
    true_logits, labels = _sampled_problem(n=1000, seed=4)
    logits = 4 * true_logits
    temperature = torch.tensor(fit_temperature(logits, labels), dtype=torch.float64,
                               requires_grad=True)
    F.cross_entropy(logits / temperature, labels).backward()
    assert abs(float(temperature.grad)) < 1e-8


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 40),
    k=st.integers(2, 6),
    scale=st.floats(0.01, 20.0),
    seed=st.integers(0, 2**16),
)
def test_never_worse_than_no_scaling_and_locally_optimal(n, k, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, k, generator=gen, dtype=torch.float64)
    target = torch.randint(k, (n,), generator=gen)
    temperature = fit_temperature(logits, target)
    assert 1e-2 <= temperature <= 1e2
    best = _nll(logits, target, temperature)
    assert best <= _nll(logits, target, 1.0) + 1e-12
    for nearby in (temperature * 1.01, temperature / 1.01):
        if 1e-2 <= nearby <= 1e2:
            assert best <= _nll(logits, target, nearby) + 1e-12


def test_closed_form_two_class_example():
    # Three of four correct at logit gap 4: the optimum puts probability 3/4 on the top class.
    logits = torch.tensor([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [0.0, 4.0]])
    target = torch.tensor([0, 1, 0, 0])
    assert fit_temperature(logits, target) == pytest.approx(4 / math.log(3), rel=1e-10)


def test_deterministic_and_dtype_independent():
    true_logits, labels = _sampled_problem(n=2000, seed=5)
    logits = 2 * true_logits
    first = fit_temperature(logits, labels)
    assert fit_temperature(logits, labels) == first
    assert fit_temperature(logits.float(), labels) == pytest.approx(first, rel=1e-6)


def test_spatial_logits_match_flattened_rows():
    gen = torch.Generator().manual_seed(6)
    logits = 3 * torch.randn(4, 5, 6, 7, generator=gen)
    target = torch.randint(5, (4, 6, 7), generator=gen)
    flat = fit_temperature(logits.movedim(1, -1).reshape(-1, 5), target.reshape(-1))
    assert fit_temperature(logits, target) == pytest.approx(flat, rel=1e-12)


def test_optimum_outside_bounds_returns_the_nearer_bound():
    true_logits, labels = _sampled_problem(n=2000, seed=7)
    assert fit_temperature(3 * true_logits, labels, bounds=(0.5, 2.0)) == pytest.approx(2.0)
    assert fit_temperature(true_logits / 3, labels, bounds=(0.5, 2.0)) == pytest.approx(0.5)


def test_anticorrelated_logits_get_the_largest_temperature():
    # Logits that point away from the labels are best flattened as far as allowed.
    true_logits, labels = _sampled_problem(n=500, seed=8, scale=3.0)
    assert fit_temperature(-true_logits, labels) == pytest.approx(100.0)


def test_constant_logits_give_temperature_one():
    assert fit_temperature(torch.full((5, 3), 2.0), torch.tensor([0, 1, 2, 0, 1])) == 1.0


def test_extreme_logits_give_a_finite_temperature():
    logits = torch.tensor([[1e4, -1e4], [-1e4, 1e4], [1e4, -1e4], [-1e4, 1e4]])
    target = torch.tensor([0, 1, 0, 0])
    temperature = fit_temperature(logits, target)
    # The optimum 2e4 / log 3 (closed form as above) exceeds the default upper bound.
    assert temperature == 100.0
    wide = fit_temperature(logits, target, bounds=(1.0, 1e5))
    assert wide == pytest.approx(2e4 / math.log(3), rel=1e-8)


@pytest.mark.parametrize("device", DEVICES)
def test_runs_on_the_inputs_device(device):
    true_logits, labels = _sampled_problem(n=500, seed=9)
    on_device = fit_temperature(2 * true_logits.to(device), labels.to(device))
    assert on_device == pytest.approx(fit_temperature(2 * true_logits, labels), rel=1e-9)


def test_logits_are_not_modified_and_get_no_gradient():
    true_logits, labels = _sampled_problem(n=100, seed=10)
    logits = true_logits.clone().requires_grad_(True)
    fit_temperature(logits, labels)
    assert logits.grad is None
    assert torch.equal(logits.detach(), true_logits)


# ------------------------------------------------------------------ validation


def test_bounds_validated():
    logits, target = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    for bounds in ((0.0, 1.0), (2.0, 1.0), (1.0, 1.0), (1.0, math.inf), (-1.0, 1.0), (1.0,)):
        with pytest.raises(ValueError, match="bounds"):
            fit_temperature(logits, target, bounds=bounds)


def test_tol_and_max_iter_validated():
    logits, target = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    for tol in (0.0, -1e-3, math.nan):
        with pytest.raises(ValueError, match="tol"):
            fit_temperature(logits, target, tol=tol)
    for max_iter in (0, 2.5):
        with pytest.raises(ValueError, match="max_iter"):
            fit_temperature(logits, target, max_iter=max_iter)


def test_logits_validated():
    target = torch.tensor([0, 1])
    with pytest.raises(ValueError, match="logits"):
        fit_temperature(torch.tensor([[1.0, math.nan], [0.0, 1.0]]), target)
    with pytest.raises(ValueError, match="logits"):
        fit_temperature(torch.tensor([[1.0, math.inf], [0.0, 1.0]]), target)
    with pytest.raises(ValueError, match="logits"):
        fit_temperature(torch.tensor([1.0, 2.0]), target)
    with pytest.raises(ValueError, match="logits"):
        fit_temperature(torch.tensor([[1, 0], [0, 1]]), target)
    with pytest.raises(ValueError, match="logits"):
        fit_temperature(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))


def test_target_validated():
    logits = torch.randn(3, 4)
    with pytest.raises(ValueError, match="target"):
        fit_temperature(logits, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="target"):
        fit_temperature(logits, torch.tensor([0, 1, 4]))
    with pytest.raises(ValueError, match="target"):
        fit_temperature(logits, torch.tensor([0.0, 1.0, 2.0]))



# --------------------------------------------------------------- validate_args


@pytest.mark.parametrize(
    "scale, bounds",
    [(3.0, (1e-2, 1e2)), (0.5, (1e-2, 1e2)), (3.0, (0.5, 2.0)), (1 / 3, (0.5, 2.0))],
    ids=["inside", "sharpen", "upper-bound", "lower-bound"],
)
def test_without_validation_the_value_is_the_same(scale, bounds):
    true_logits, labels = _sampled_problem(n=500, seed=11)
    checked = fit_temperature(scale * true_logits, labels, bounds=bounds, validate_args=True)
    unchecked = fit_temperature(scale * true_logits, labels, bounds=bounds, validate_args=False)
    assert unchecked == checked


def test_cannot_run_on_the_meta_device():
    pytest.skip(
        "fit_temperature returns a Python float found by a search that reads the "
        "derivative of the NLL at each step: it needs the values of the logits"
    )


def test_without_validation_only_the_value_checks_are_skipped():
    logits, target = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match="bounds"):
        fit_temperature(logits, target, bounds=(2.0, 1.0), validate_args=False)
    with pytest.raises(ValueError, match="bounds"):
        fit_temperature(logits, target, bounds=(torch.tensor(0.5), 2.0), validate_args=False)
    with pytest.raises(ValueError, match="tol"):
        fit_temperature(logits, target, tol=True, validate_args=False)
    with pytest.raises(ValueError, match="max_iter"):
        fit_temperature(logits, target, max_iter=2.0, validate_args=False)
    with pytest.raises(ValueError, match="target"):
        fit_temperature(logits, target[:3], validate_args=False)
    with pytest.raises(ValueError, match="logits"):
        fit_temperature(logits.long(), target, validate_args=False)


def test_value_checks_name_the_argument_with_validation():
    logits, target = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match="`target`"):
        fit_temperature(logits, torch.tensor([0, 1, 3, 0]), validate_args=True)
    bad = logits.clone()
    bad[2, 1] = math.nan
    with pytest.raises(ValueError, match="`logits`"):
        fit_temperature(bad, target, validate_args=True)


@NEEDS_CUDA
def test_validation_costs_one_host_read_and_the_search_one_per_step():
    true_logits, labels = _sampled_problem(n=500, seed=12)
    logits, target = (3 * true_logits).cuda(), labels.cuda()
    unchecked = cuda_synchronisations(lambda: fit_temperature(logits, target, validate_args=False))
    checked = cuda_synchronisations(lambda: fit_temperature(logits, target, validate_args=True))
    assert checked == unchecked + 1
    # The bracket, then at most max_iter steps of the search.
    small = cuda_synchronisations(
        lambda: fit_temperature(logits, target, max_iter=3, validate_args=False)
    )
    assert 1 <= small <= 1 + 3

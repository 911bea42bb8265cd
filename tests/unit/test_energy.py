"""Tests for xenthelpers.metrics.energy."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from tests.unit.devices import DEVICES
from tests.unit.host_reads import NEEDS_CUDA, cuda_synchronisations
from xenthelpers.metrics import energy_score


def _logits(n=6, k=5, seed=0, dtype=torch.float64):
    return 3 * torch.randn(n, k, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 7.0])
def test_matches_scipy(temperature):
    logits = _logits()
    expected = -temperature * logsumexp(logits.numpy() / temperature, axis=1)
    torch.testing.assert_close(energy_score(logits, temperature=temperature),
                               torch.from_numpy(expected))


def test_hand_computed():
    energy = energy_score(torch.tensor([[0.0, 0.0], [math.log(3), 0.0]], dtype=torch.float64))
    torch.testing.assert_close(energy, torch.tensor([-math.log(2), -math.log(4)],
                                                    dtype=torch.float64))


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 8),
    seed=st.integers(0, 2**16),
    temperature=st.floats(1e-3, 1e3),
    shift=st.floats(-100.0, 100.0),
)
def test_bounds_and_shift(k, seed, temperature, shift):
    logits = _logits(k=k, seed=seed)
    energy = energy_score(logits, temperature=temperature)
    top = logits.amax(dim=1)
    # -max z - T log K <= E <= -max z
    assert bool((energy <= -top + 1e-9).all())
    assert bool((energy >= -top - temperature * math.log(k) - 1e-9).all())
    # Adding a constant to every logit lowers the energy by that constant.
    torch.testing.assert_close(energy_score(logits + shift, temperature=temperature),
                               energy - shift)


def test_small_temperature_tends_to_minus_max_logit():
    logits = _logits()
    torch.testing.assert_close(energy_score(logits, temperature=1e-4), -logits.amax(dim=1),
                               rtol=0, atol=1e-4 * math.log(5))


def test_gradient_is_minus_softmax():
    logits = _logits().requires_grad_(True)
    energy_score(logits, temperature=2.0).sum().backward()
    torch.testing.assert_close(logits.grad, -torch.softmax(logits.detach() / 2.0, dim=1))


@pytest.mark.parametrize("temperature", [0.3, 1.0, 4.0])
def test_gradcheck(temperature):
    logits = _logits(n=3, k=4).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: energy_score(z, temperature=temperature), (logits,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_finite_value_and_gradient(dtype):
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype, requires_grad=True)
    energy = energy_score(logits, temperature=0.5)
    assert bool(torch.isfinite(energy).all())
    torch.testing.assert_close(energy.detach(), torch.tensor([-1e4, 1e4 - 0.5 * math.log(3)],
                                                             dtype=dtype))
    energy.sum().backward()
    assert bool(torch.isfinite(logits.grad).all())


def test_dim_for_spatial_logits():
    logits = torch.randn(2, 5, 3, 4, generator=torch.Generator().manual_seed(1))
    energy = energy_score(logits, dim=1)
    assert energy.shape == (2, 3, 4)
    torch.testing.assert_close(energy, energy_score(logits.movedim(1, -1)))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device(device, dtype):
    logits = _logits(dtype=dtype).to(device)
    energy = energy_score(logits)
    assert energy.dtype == dtype and energy.device.type == device and energy.shape == (6,)


def test_validation():
    logits = _logits()
    for temperature in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="temperature"):
            energy_score(logits, temperature=temperature)
    for bad_value in (math.nan, math.inf):
        bad = logits.clone()
        bad[1, 2] = bad_value
        with pytest.raises(ValueError, match="logits"):
            energy_score(bad)
    with pytest.raises(ValueError, match="logits"):
        energy_score(logits.long())
    with pytest.raises(ValueError, match="logits"):
        energy_score(torch.tensor(1.0))
    with pytest.raises(ValueError, match="logits"):
        energy_score(torch.zeros(3, 0))
    for dim in (2, -3):
        with pytest.raises(ValueError, match="dim"):
            energy_score(logits, dim=dim)


# --------------------------------------------------------------- validate_args


@pytest.mark.parametrize("temperature", [0.5, 1.0, 7.0])
@pytest.mark.parametrize("dim", [-1, 0])
def test_without_validation_the_value_is_the_same(temperature, dim):
    logits = _logits()
    torch.testing.assert_close(
        energy_score(logits, temperature=temperature, dim=dim, validate_args=False),
        energy_score(logits, temperature=temperature, dim=dim, validate_args=True),
        rtol=0,
        atol=0,
    )


def test_runs_on_the_meta_device_without_validation():
    logits = torch.empty(2, 5, 3, 4, device="meta", requires_grad=True)
    energy = energy_score(logits, temperature=2.0, dim=1, validate_args=False)
    assert energy.device.type == "meta" and energy.shape == (2, 3, 4)
    energy.sum().backward()


def test_without_validation_only_the_value_checks_are_skipped():
    bad = _logits()
    bad[1, 2] = math.nan
    assert bool(energy_score(bad, validate_args=False)[1].isnan())
    for temperature in (0.0, math.inf, True, "1"):
        with pytest.raises(ValueError, match="temperature"):
            energy_score(_logits(), temperature=temperature, validate_args=False)
    with pytest.raises(ValueError, match="dim"):
        energy_score(_logits(), dim=2, validate_args=False)
    with pytest.raises(ValueError, match="dim"):
        energy_score(_logits(), dim=1.0, validate_args=False)
    with pytest.raises(ValueError, match="logits"):
        energy_score(torch.zeros(3, 0), validate_args=False)


def test_value_checks_name_the_argument_with_validation():
    bad = _logits()
    bad[0, 0] = -math.inf
    with pytest.raises(ValueError, match="`logits`"):
        energy_score(bad, validate_args=True)


@NEEDS_CUDA
@pytest.mark.parametrize("validate_args, most", [(False, 0), (True, 1)])
def test_host_synchronisations_per_call(validate_args, most):
    logits = _logits().cuda()
    reads = cuda_synchronisations(lambda: energy_score(logits, validate_args=validate_args))
    assert reads <= most

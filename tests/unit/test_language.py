"""Tests for xenthelpers.metrics.language."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics.functional.text import perplexity as torchmetrics_perplexity

from tests.unit.devices import DEVICES
from tests.unit.host_reads import NEEDS_CUDA, cuda_synchronisations
from xenthelpers.metrics import bits_per_character, perplexity


def _tokens(batch=3, length=7, vocabulary=11, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(batch, length, vocabulary, generator=gen, dtype=dtype)
    target = torch.randint(vocabulary, (batch, length), generator=gen)
    return logits, target


# ------------------------------------------------------------------ perplexity


@pytest.mark.parametrize("vocabulary", [1, 2, 50, 1000])
def test_uniform_model_has_perplexity_vocabulary_size(vocabulary):
    logits = torch.full((2, 5, vocabulary), 3.7, dtype=torch.float64)
    target = torch.randint(vocabulary, (2, 5), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(perplexity(logits, target),
                               torch.tensor(float(vocabulary), dtype=torch.float64),
                               rtol=1e-13, atol=0)


def test_matches_exponential_of_cross_entropy_with_padding():
    logits, target = _tokens()
    target[0, 4:] = -100
    expected = F.cross_entropy(logits.reshape(-1, 11), target.reshape(-1)).exp()
    torch.testing.assert_close(perplexity(logits, target), expected)


@pytest.mark.parametrize("ignore_index", [None, 3])
def test_matches_torchmetrics(ignore_index):
    logits, target = _tokens(dtype=torch.float32)
    if ignore_index is None:
        ours = perplexity(logits, target)
    else:
        ours = perplexity(logits, target, ignore_index=ignore_index)
    theirs = torchmetrics_perplexity(logits, target, ignore_index=ignore_index)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=0)


def test_ignored_positions_do_not_matter():
    logits, target = _tokens()
    target[:, -2:] = 0
    changed = logits.clone()
    changed[:, -2:] = 100 * torch.randn_like(changed[:, -2:])
    torch.testing.assert_close(perplexity(logits, target, ignore_index=0),
                               perplexity(changed, target, ignore_index=0))
    kept = target[:, :-2] != 0
    expected = F.cross_entropy(logits[:, :-2][kept], target[:, :-2][kept]).exp()
    torch.testing.assert_close(perplexity(logits, target, ignore_index=0), expected)


@pytest.mark.parametrize("shape", [(9,), (4, 9), (2, 3, 9)])
def test_any_leading_shape(shape):
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(*shape, generator=gen, dtype=torch.float64)
    target = torch.randint(9, shape[:-1], generator=gen)
    expected = F.cross_entropy(logits.reshape(-1, 9), target.reshape(-1)).exp()
    torch.testing.assert_close(perplexity(logits, target), expected)


@settings(max_examples=30, deadline=None)
@given(vocabulary=st.integers(2, 30), seed=st.integers(0, 2**16), scale=st.floats(0.0, 20.0))
def test_at_least_one_and_at_most_inverse_of_smallest_true_probability(vocabulary, seed, scale):
    gen = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(2, 6, vocabulary, generator=gen, dtype=torch.float64)
    target = torch.randint(vocabulary, (2, 6), generator=gen)
    value = float(perplexity(logits, target))
    true_probs = torch.softmax(logits, dim=-1).gather(-1, target.unsqueeze(-1))
    assert 1.0 - 1e-12 <= value <= float(1 / true_probs.min()) * (1 + 1e-9)


def test_gradcheck():
    logits, target = _tokens(batch=2, length=3, vocabulary=4)
    target[1, 2] = -100
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: perplexity(z, target), (logits,))


def test_extreme_logits():
    target = torch.tensor([[0, 1, 1]])
    logits = (1e4 * (2 * F.one_hot(target, 3).float() - 1)).requires_grad_(True)
    value = perplexity(logits, target)
    assert float(value.detach()) == 1.0
    value.backward()
    assert bool(torch.isfinite(logits.grad).all())
    # A confidently wrong model overflows to inf, never NaN.
    assert math.isinf(float(perplexity(-logits.detach(), target)))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device(device, dtype):
    logits, target = _tokens(dtype=dtype)
    value = perplexity(logits.to(device), target.to(device).int())
    assert value.dtype == dtype and value.device.type == device and value.dim() == 0
    torch.testing.assert_close(value.cpu(), perplexity(logits, target))


def test_perplexity_validation():
    logits, target = _tokens()
    with pytest.raises(ValueError, match="target"):
        perplexity(logits, target[:, :-1])
    with pytest.raises(ValueError, match="target"):
        perplexity(logits.transpose(1, 2), target)  # class dimension must be last
    with pytest.raises(ValueError, match="target"):
        perplexity(logits, target + 11)
    with pytest.raises(ValueError, match="target"):
        perplexity(logits, target - 11)
    with pytest.raises(ValueError, match="target"):
        perplexity(logits, target.double())
    with pytest.raises(ValueError, match="target"):
        perplexity(logits, torch.full_like(target, -100))
    with pytest.raises(ValueError, match="logits"):
        perplexity(logits.long(), target)
    with pytest.raises(ValueError, match="logits"):
        perplexity(torch.tensor(1.0), torch.tensor(0))
    bad = logits.clone()
    bad[0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="logits"):
        perplexity(bad, target)


@pytest.mark.parametrize("device", DEVICES)
def test_out_of_range_target_raises_value_error_on_every_device(device):
    logits, target = _tokens()
    with pytest.raises(ValueError, match="target"):
        perplexity(logits.to(device), (target + 20).to(device))


# ---------------------------------------------------------- bits_per_character


def test_bits_per_character_values():
    assert bits_per_character(0.0, 5) == 0.0
    assert bits_per_character(100 * math.log(2), 100) == pytest.approx(1.0, rel=1e-15)
    assert bits_per_character(3.0, 2) == pytest.approx(1.5 / math.log(2), rel=1e-15)
    assert isinstance(bits_per_character(3, 2), float)


def test_character_model_bits_are_mean_loss_over_ln2():
    gen = torch.Generator().manual_seed(2)
    logits = torch.randn(40, 27, generator=gen, dtype=torch.float64)
    target = torch.randint(27, (40,), generator=gen)
    total = F.cross_entropy(logits, target, reduction="sum")
    torch.testing.assert_close(bits_per_character(total, 40),
                               F.cross_entropy(logits, target) / math.log(2))


def test_bits_per_character_keeps_tensor_and_gradient():
    total = torch.tensor(10.0, dtype=torch.float64, requires_grad=True)
    bits = bits_per_character(total, 4)
    assert isinstance(bits, torch.Tensor) and bits.dtype == torch.float64
    bits.backward()
    assert float(total.grad) == pytest.approx(1 / (4 * math.log(2)))


def test_bits_per_character_validation():
    for characters in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="num_characters"):
            bits_per_character(1.0, characters)
    for nats in (-0.1, math.nan, math.inf, torch.tensor(-1.0), torch.tensor(math.nan)):
        with pytest.raises(ValueError, match="total_nats"):
            bits_per_character(nats, 3)
    with pytest.raises(ValueError, match="total_nats"):
        bits_per_character(torch.tensor([1.0, 2.0]), 3)
    with pytest.raises(ValueError, match="total_nats"):
        bits_per_character(torch.tensor(3), 3)


# --------------------------------------------------------------- validate_args


@pytest.mark.parametrize("ignore_index", [-100, 0])
def test_perplexity_without_validation_is_the_same(ignore_index):
    logits, target = _tokens()
    target[0, 4:] = ignore_index
    torch.testing.assert_close(
        perplexity(logits, target, ignore_index=ignore_index, validate_args=False),
        perplexity(logits, target, ignore_index=ignore_index, validate_args=True),
        rtol=0,
        atol=0,
    )


def test_bits_per_character_without_validation_is_the_same():
    total = torch.tensor(693.1472, dtype=torch.float64)
    assert torch.equal(
        bits_per_character(total, 500, validate_args=False),
        bits_per_character(total, 500, validate_args=True),
    )
    assert bits_per_character(3.0, 2, validate_args=False) == bits_per_character(3.0, 2)


def test_runs_on_the_meta_device_without_validation():
    logits = torch.empty(3, 7, 11, device="meta", requires_grad=True)
    target = torch.empty(3, 7, dtype=torch.long, device="meta")
    value = perplexity(logits, target, validate_args=False)
    assert value.device.type == "meta" and value.shape == ()
    value.backward()
    bits = bits_per_character(torch.empty((), device="meta"), 40, validate_args=False)
    assert bits.device.type == "meta" and bits.shape == ()


def test_without_validation_only_the_value_checks_are_skipped():
    logits, target = _tokens()
    bad = logits.clone()
    bad[0, 0, 0] = math.nan
    assert math.isnan(float(perplexity(bad, target, validate_args=False)))
    # Nothing left to score: the mean over no token is NaN, as in F.cross_entropy.
    nothing = torch.full_like(target, -100)
    assert math.isnan(float(perplexity(logits, nothing, validate_args=False)))
    assert float(bits_per_character(torch.tensor(-1.0), 2, validate_args=False)) < 0
    with pytest.raises(ValueError, match="target"):
        perplexity(logits, target[:, :-1], validate_args=False)
    with pytest.raises(ValueError, match="target"):
        perplexity(logits, target.double(), validate_args=False)
    with pytest.raises(ValueError, match="ignore_index"):
        perplexity(logits, target, ignore_index=-100.0, validate_args=False)
    with pytest.raises(ValueError, match="total_nats"):
        bits_per_character(-1.0, 2, validate_args=False)  # a Python number costs nothing
    with pytest.raises(ValueError, match="total_nats"):
        bits_per_character(torch.tensor([1.0, 2.0]), 2, validate_args=False)
    with pytest.raises(ValueError, match="num_characters"):
        bits_per_character(1.0, True, validate_args=False)


def test_value_checks_name_the_argument_with_validation():
    logits, target = _tokens()
    bad = logits.clone()
    bad[1, 2, 3] = math.inf
    with pytest.raises(ValueError, match="`logits`"):
        perplexity(bad, target, validate_args=True)
    with pytest.raises(ValueError, match="`target`"):
        perplexity(logits, target + 11, validate_args=True)
    with pytest.raises(ValueError, match="`target`"):
        perplexity(logits, torch.full_like(target, -100), validate_args=True)
    for nats in (torch.tensor(-1.0), torch.tensor(math.inf)):
        with pytest.raises(ValueError, match="`total_nats`"):
            bits_per_character(nats, 2, validate_args=True)


@NEEDS_CUDA
@pytest.mark.parametrize("validate_args, most", [(False, 0), (True, 1)])
def test_host_synchronisations_per_call(validate_args, most):
    logits, target = (t.cuda() for t in _tokens())
    total = torch.tensor(10.0, device="cuda")
    reads = cuda_synchronisations(lambda: perplexity(logits, target, validate_args=validate_args))
    assert reads <= most
    reads = cuda_synchronisations(lambda: bits_per_character(total, 4, validate_args=validate_args))
    assert reads <= most

"""Binary cross-entropy over observed labels only."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from xenthelpers import masked_binary_cross_entropy

REDUCTIONS = ["mean", "sum", "none"]


def _batch(shape=(6, 4), seed=0, missing=0.3, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(shape, generator=generator, dtype=dtype)
    target = torch.randint(0, 2, shape, generator=generator).to(dtype)
    mask = torch.rand(shape, generator=generator) >= missing
    return logits, target.masked_fill(~mask, math.nan), mask


# --- identities -------------------------------------------------------------------------


@settings(max_examples=30)
@given(seed=st.integers(0, 2**16), missing=st.floats(0.0, 0.9))
def test_equals_bce_over_the_observed_entries(seed, missing):
    logits, target, mask = _batch(seed=seed, missing=missing)
    if not mask.any():
        return
    observed = F.binary_cross_entropy_with_logits(logits[mask], target[mask], reduction="none")
    ours = masked_binary_cross_entropy(logits, target, mask, reduction="none")
    torch.testing.assert_close(ours[mask], observed)
    assert (ours[~mask] == 0).all()
    torch.testing.assert_close(masked_binary_cross_entropy(logits, target, mask), observed.mean())
    torch.testing.assert_close(
        masked_binary_cross_entropy(logits, target, mask, reduction="sum"), observed.sum()
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_full_mask_is_plain_bce_with_soft_targets(reduction):
    logits, _, _ = _batch()
    target = torch.rand(logits.shape, generator=torch.Generator().manual_seed(1)).double()
    mask = torch.ones_like(logits, dtype=torch.bool)
    torch.testing.assert_close(
        masked_binary_cross_entropy(logits, target, mask, reduction=reduction),
        F.binary_cross_entropy_with_logits(logits, target, reduction=reduction),
    )


@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8, torch.int64, torch.float32])
def test_mask_may_be_boolean_or_zero_one(dtype):
    logits, target, mask = _batch(seed=2)
    expected = masked_binary_cross_entropy(logits, target, mask)
    converted = masked_binary_cross_entropy(logits, target, mask.to(dtype))
    torch.testing.assert_close(converted, expected)


def test_unobserved_targets_may_hold_any_value():
    logits, target, mask = _batch(seed=3)
    expected = masked_binary_cross_entropy(logits, target, mask)
    for filler in (-1.0, 7.0, math.inf):
        other = target.masked_fill(~mask, filler)
        torch.testing.assert_close(masked_binary_cross_entropy(logits, other, mask), expected)


# --- gradients --------------------------------------------------------------------------


def test_gradient_is_exactly_zero_at_unobserved_entries():
    logits, target, mask = _batch(seed=4)
    assert torch.isnan(target[~mask]).all() and (~mask).any()
    logits.requires_grad_()
    masked_binary_cross_entropy(logits, target, mask).backward()
    assert torch.equal(logits.grad[~mask], torch.zeros_like(logits.grad[~mask]))
    expected = (torch.sigmoid(logits.detach()) - target) / mask.sum()
    torch.testing.assert_close(logits.grad[mask], expected[mask])


@pytest.mark.parametrize("shape", [(3, 2), (0, 2)], ids=["nothing-observed", "empty"])
def test_nothing_to_average_reduces_as_cross_entropy_does(shape):
    """A mean over no observed label is 0/0 = NaN and a sum is 0, as for F.cross_entropy
    when every target is ignored; the gradient is zero either way."""
    logits = torch.randn(shape, requires_grad=True)
    target = torch.full(shape, math.nan)
    mask = torch.zeros(shape, dtype=torch.bool)
    ignored = torch.full((shape[0],), -100)
    for reduction in ("mean", "sum"):
        loss = masked_binary_cross_entropy(logits, target, mask, reduction=reduction)
        reference = F.cross_entropy(logits, ignored, reduction=reduction)
        torch.testing.assert_close(loss, reference, equal_nan=True)
        logits.grad = None
        loss.backward()
        assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_gradcheck():
    logits, target, mask = _batch((3, 3), seed=5)
    logits.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x: masked_binary_cross_entropy(x, target, mask), (logits,)
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_give_finite_loss_and_gradient(dtype):
    logits = torch.tensor([1e4, -1e4, 1e4, -1e4], dtype=dtype, requires_grad=True)
    target = torch.tensor([1.0, 1.0, math.nan, 0.0], dtype=dtype)
    mask = torch.tensor([True, True, False, True])
    loss = masked_binary_cross_entropy(logits, target, mask, reduction="none")
    assert torch.isfinite(loss).all()
    torch.testing.assert_close(loss, torch.tensor([0.0, 1e4, 0.0, 0.0], dtype=dtype))
    loss.sum().backward()
    assert torch.isfinite(logits.grad).all()


# --- validation -------------------------------------------------------------------------


def _call(logits=None, target=None, mask=None, **kwargs):
    logits = torch.zeros(2, 2) if logits is None else logits
    target = torch.zeros(2, 2) if target is None else target
    mask = torch.ones(2, 2, dtype=torch.bool) if mask is None else mask
    return masked_binary_cross_entropy(logits, target, mask, **kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"logits": torch.zeros(2, 2, dtype=torch.long)}, "logits"),
        ({"logits": torch.tensor([[0.0, math.nan], [0.0, 0.0]])}, "logits"),
        ({"target": torch.zeros(2, 2, dtype=torch.long)}, "target"),
        ({"target": torch.zeros(2, 3)}, "target"),
        ({"target": torch.tensor([[0.0, math.nan], [0.0, 0.0]])}, "target"),
        ({"target": torch.tensor([[0.0, 1.5], [0.0, 0.0]])}, "target"),
        ({"target": torch.tensor([[0.0, -0.5], [0.0, 0.0]])}, "target"),
        ({"mask": torch.ones(2, 3, dtype=torch.bool)}, "mask"),
        ({"mask": torch.tensor([[1, 2], [0, 1]])}, "mask"),
        ({"mask": torch.tensor([[1.0, 0.5], [0.0, 1.0]])}, "mask"),
        ({"mask": torch.tensor([[1.0, math.nan], [0.0, 1.0]])}, "mask"),
        ({"mask": torch.ones(2, 2, dtype=torch.complex64)}, "mask"),
        ({"reduction": "batchmean"}, "reduction"),
    ],
)
def test_invalid_inputs_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        _call(**kwargs)


def test_nan_logits_at_an_unobserved_entry_still_raise():
    # Its loss is masked out, but its NaN would reach the gradient of the logits.
    logits = torch.tensor([[0.0, math.nan], [0.0, 0.0]])
    mask = torch.tensor([[True, False], [True, True]])
    with pytest.raises(ValueError, match="logits"):
        _call(logits=logits, mask=mask)


def test_a_bad_mask_is_reported_before_the_targets_it_would_select():
    mask = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    target = torch.tensor([[0.0, 5.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="mask"):
        _call(target=target, mask=mask)

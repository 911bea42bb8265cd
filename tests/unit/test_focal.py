"""The softmax focal loss."""

import math

import kornia.losses
import mpmath
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.devices import DEVICES
from xenthelpers import focal_loss
from xenthelpers.losses.focal import _FocalTerm

REDUCTIONS = ["mean", "sum", "none"]


def _reference(logits, target, gamma, alpha=None, ignore_index=-100):
    """The element losses from probabilities, in float64, written independently."""
    logits = logits.double()
    probs = logits.softmax(dim=1)
    valid = target != ignore_index
    safe = torch.where(valid, target, 0)
    p_y = probs.gather(1, safe.unsqueeze(1)).squeeze(1)
    weight = torch.ones_like(p_y) if alpha is None else alpha.double()[safe]
    loss = -weight * (1 - p_y) ** gamma * torch.log(p_y)
    return torch.where(valid, loss, 0.0), valid


def _batch(shape, num_classes, dtype=torch.float64, seed=0, ignore_fraction=0.2):
    generator = torch.Generator().manual_seed(seed)
    n, *rest = shape
    logits = 3 * torch.randn(n, num_classes, *rest, generator=generator, dtype=dtype)
    target = torch.randint(0, num_classes, (n, *rest), generator=generator)
    ignored = torch.rand(target.shape, generator=generator) < ignore_fraction
    return logits, target.masked_fill(ignored, -100)


# --- identities -------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(16,), (4, 3, 5)], ids=["flat", "spatial"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gamma_zero_is_cross_entropy_with_ignore_index(reduction, shape, dtype):
    logits, target = _batch(shape, 7, dtype)
    assert (target == -100).any() and (target != -100).any()
    ours_input = logits.clone().requires_grad_()
    torch_input = logits.clone().requires_grad_()
    ours = focal_loss(ours_input, target, gamma=0.0, reduction=reduction)
    expected = F.cross_entropy(torch_input, target, reduction=reduction)
    torch.testing.assert_close(ours, expected)
    ours.sum().backward()
    expected.sum().backward()
    torch.testing.assert_close(ours_input.grad, torch_input.grad)


def test_gamma_zero_with_an_ignore_index_inside_the_class_range():
    logits, target = _batch((32,), 4, ignore_fraction=0.0)
    for reduction in REDUCTIONS:
        torch.testing.assert_close(
            focal_loss(logits, target, gamma=0.0, ignore_index=2, reduction=reduction),
            F.cross_entropy(logits, target, ignore_index=2, reduction=reduction),
        )


@settings(max_examples=40)
@given(
    gamma=st.floats(0.0, 5.0),
    num_classes=st.integers(2, 6),
    n=st.integers(1, 8),
    seed=st.integers(0, 2**16),
    weighted=st.booleans(),
)
def test_matches_the_probability_formula(gamma, num_classes, n, seed, weighted):
    logits, target = _batch((n,), num_classes, seed=seed)
    generator = torch.Generator().manual_seed(seed + 1)
    alpha = torch.rand(num_classes, generator=generator, dtype=torch.float64) if weighted else None
    expected, valid = _reference(logits, target, gamma, alpha)
    ours = focal_loss(logits, target, gamma=gamma, weight=alpha, reduction="none")
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)
    mean = focal_loss(logits, target, gamma=gamma, weight=alpha)
    # With every target ignored the mean is 0/0 = NaN, as for F.cross_entropy.
    torch.testing.assert_close(mean, expected.sum() / valid.sum(), equal_nan=True)


@settings(max_examples=30)
@given(gamma=st.floats(0.0, 4.0), seed=st.integers(0, 2**16))
def test_focal_is_at_most_cross_entropy_and_falls_with_gamma(gamma, seed):
    logits, target = _batch((12,), 5, seed=seed)
    ce = F.cross_entropy(logits, target, reduction="none")
    focal = focal_loss(logits, target, gamma=gamma, reduction="none")
    stronger = focal_loss(logits, target, gamma=gamma + 0.5, reduction="none")
    assert (focal >= 0).all()
    assert (focal <= ce + 1e-12).all()
    assert (stronger <= focal + 1e-12).all()


@pytest.mark.parametrize("shape", [(24,), (3, 2, 4)], ids=["flat", "spatial"])
def test_matches_kornia_with_class_weights(shape):
    logits, target = _batch(shape, 5, ignore_fraction=0.0)
    alpha = torch.tensor([0.1, 0.5, 1.0, 2.0, 0.0], dtype=torch.float64)
    theirs = kornia.losses.focal_loss(
        logits, target, alpha=None, gamma=1.5, reduction="none", weight=alpha
    )
    ours = focal_loss(logits, target, gamma=1.5, weight=alpha, reduction="none")
    torch.testing.assert_close(ours, theirs.sum(dim=1))


def test_weighted_mean_divides_by_the_count_not_the_weight_sum():
    logits, target = _batch((40,), 3)
    alpha = torch.tensor([0.2, 1.0, 3.0], dtype=torch.float64)
    valid = target != -100
    weight_sum = alpha[target[valid]].sum()
    summed = focal_loss(logits, target, gamma=0.0, weight=alpha, reduction="sum")
    torch_sum = F.cross_entropy(logits, target, weight=alpha, reduction="sum")
    torch.testing.assert_close(summed, torch_sum)
    mean = focal_loss(logits, target, gamma=0.0, weight=alpha)
    torch.testing.assert_close(mean, summed / valid.sum())
    torch_mean = F.cross_entropy(logits, target, weight=alpha)
    torch.testing.assert_close(torch_mean, summed / weight_sum)
    assert not torch.isclose(mean, torch_mean)


def test_ignored_elements_are_zero_and_get_no_gradient():
    logits, target = _batch((20,), 4)
    ignored = target == -100
    logits.requires_grad_()
    loss = focal_loss(logits, target, gamma=2.0, reduction="none")
    assert (loss[ignored] == 0).all() and (loss[~ignored] > 0).all()
    loss.sum().backward()
    assert (logits.grad[ignored] == 0).all()
    assert (logits.grad[~ignored] != 0).any(dim=1).all()


def test_empty_and_all_ignored_inputs_reduce_as_cross_entropy_does():
    for logits, target in [
        (torch.randn(5, 3, requires_grad=True), torch.full((5,), -100)),
        (torch.randn(0, 3, requires_grad=True), torch.zeros(0, dtype=torch.long)),
    ]:
        for reduction in ("mean", "sum"):
            ours = focal_loss(logits, target, gamma=2.0, reduction=reduction)
            theirs = F.cross_entropy(logits, target, reduction=reduction)
            torch.testing.assert_close(ours, theirs, equal_nan=True)
        focal_loss(logits, target, reduction="sum").backward()
        assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_accepts_int32_targets_and_keeps_the_logits_dtype():
    logits, target = _batch((10,), 3, dtype=torch.float32, ignore_fraction=0.0)
    loss = focal_loss(logits, target.int())
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, focal_loss(logits, target))


# --- gradients --------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("shape", [(6,), (3, 2, 2)], ids=["flat", "spatial"])
def test_gradcheck(gamma, shape):
    logits, target = _batch(shape, 4, seed=3)
    alpha = torch.tensor([0.5, 1.0, 2.0, 0.25], dtype=torch.float64)
    logits.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda z: focal_loss(z, target, gamma=gamma, weight=alpha, reduction="sum"), (logits,)
    )


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_gradgradcheck(gamma):
    logits, target = _batch((4,), 3, seed=5)
    logits.requires_grad_()
    assert torch.autograd.gradgradcheck(
        lambda z: focal_loss(z, target, gamma=gamma, reduction="sum"), (logits,)
    )


def _exact_log_p_derivative(log_p, gamma):
    """d/d(log p) of -(1 - p)**gamma * log p, in 60-digit arithmetic."""
    with mpmath.workdps(60):
        log_p = mpmath.mpf(log_p)
        one_minus_p = -mpmath.expm1(log_p)
        p = mpmath.exp(log_p)
        if one_minus_p == 0:
            return -1.0 if gamma == 0 else 0.0
        value = -(one_minus_p**gamma) + gamma * one_minus_p ** (gamma - 1) * p * log_p
        return float(value)


@pytest.mark.parametrize("gamma", [0.0, 0.1, 0.5, 1.0, 2.0])
def test_focal_term_derivative_is_exact_up_to_p_equal_one(gamma):
    log_p = [-30.0, -1.0, -1e-3, -1e-8, -1e-20, -1e-300, -5e-324, 0.0]
    nll = torch.tensor([-v for v in log_p], dtype=torch.float64).requires_grad_()
    _FocalTerm.apply(nll, gamma).sum().backward()
    # The term is a function of nll = -log p, so its derivative changes sign.
    expected = torch.tensor([-_exact_log_p_derivative(v, gamma) for v in log_p], dtype=torch.float64)
    torch.testing.assert_close(nll.grad, expected, rtol=1e-12, atol=0.0)


def _exact_logit_gradient(margin, gamma, num_classes):
    """d loss / d z for logits (margin, 0, ..., 0) and target 0, in 60-digit arithmetic."""
    with mpmath.workdps(60):
        rest = num_classes - 1
        one_minus_p = rest / (mpmath.exp(margin) + rest)
        log_p = -mpmath.log1p(rest * mpmath.exp(-margin))
        d_log_p = mpmath.mpf(_exact_log_p_derivative(log_p, gamma))
        # The softmax Jacobian: d log p / d z = e_0 - softmax(z).
        return [float(d_log_p * one_minus_p)] + [float(-d_log_p * one_minus_p / rest)] * rest


@pytest.mark.parametrize("gamma", [0.1, 0.5, 2.0])
@pytest.mark.parametrize("margin", [2.0, 10.0, 30.0, 200.0])
def test_logit_gradient_as_p_goes_to_one(gamma, margin):
    logits = torch.tensor([[margin, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    focal_loss(logits, torch.tensor([0]), gamma=gamma).backward()
    expected = torch.tensor([_exact_logit_gradient(margin, gamma, 3)], dtype=torch.float64)
    # log_softmax itself loses relative precision in 1 - p once p is within 1e-13 of 1,
    # hence the absolute tolerance.
    torch.testing.assert_close(logits.grad, expected, rtol=1e-6, atol=1e-15)


def test_naive_autograd_is_nan_where_ours_is_finite():
    logits = torch.tensor([[200.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    p = logits.softmax(dim=1)[0, 0]
    (-(1 - p) ** 0.5 * torch.log(p)).backward()
    assert torch.isnan(logits.grad).any()
    logits.grad = None
    focal_loss(logits, torch.tensor([0]), gamma=0.5).backward()
    assert torch.isfinite(logits.grad).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("gamma", [0.0, 0.25, 0.5, 1.0, 2.0])
def test_extreme_logits_give_finite_loss_and_gradient(dtype, gamma):
    logits = torch.tensor(
        [[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [1e4, 1e4, -1e4], [0.0, 0.0, 0.0]],
        dtype=dtype,
        requires_grad=True,
    )
    target = torch.tensor([0, 0, 2, 1])
    loss = focal_loss(logits, target, gamma=gamma, reduction="none")
    assert torch.isfinite(loss).all()
    # Confident and right: no loss; confident and wrong: a margin of 2e4 nats.
    assert loss[0].item() == 0.0
    torch.testing.assert_close(loss[1], torch.tensor(2e4, dtype=dtype))
    loss.sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_minus_inf_masks_a_class_that_is_not_the_target():
    logits = torch.tensor([[2.0, float("-inf"), 0.0]], requires_grad=True)
    loss = focal_loss(logits, torch.tensor([0]))
    loss.backward()
    expected = focal_loss(torch.tensor([[2.0, 0.0]]), torch.tensor([0]))
    torch.testing.assert_close(loss, expected)
    assert torch.isfinite(logits.grad).all() and logits.grad[0, 1] == 0


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bad", [3, -1])
def test_class_index_out_of_range(device, bad):
    logits = torch.zeros(2, 3, device=device)
    with pytest.raises(ValueError, match="target"):
        focal_loss(logits, torch.tensor([0, bad], device=device))


@pytest.mark.parametrize(
    "logits, target, kwargs, name",
    [
        (torch.zeros(3, 2, dtype=torch.long), torch.zeros(3, dtype=torch.long), {}, "logits"),
        (torch.zeros(3), torch.zeros(3, dtype=torch.long), {}, "logits"),
        (torch.zeros(3, 2), torch.zeros(4, dtype=torch.long), {}, "target"),
        (torch.zeros(3, 2), torch.zeros(3), {}, "target"),
        (torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), {"gamma": -0.5}, "gamma"),
        (torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), {"gamma": math.nan}, "gamma"),
        (torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), {"reduction": "avg"}, "reduction"),
        (torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), {"weight": torch.ones(3)}, "weight"),
        (
            torch.zeros(3, 2),
            torch.zeros(3, dtype=torch.long),
            {"weight": torch.ones(1, 2)},
            "weight",
        ),
        (
            torch.zeros(3, 2),
            torch.zeros(3, dtype=torch.long),
            {"weight": torch.tensor([1.0, -0.1])},
            "weight",
        ),
        (
            torch.zeros(3, 2),
            torch.zeros(3, dtype=torch.long),
            {"weight": torch.tensor([1.0, math.inf])},
            "weight",
        ),
        (
            torch.zeros(3, 2),
            torch.zeros(3, dtype=torch.long),
            {"weight": torch.tensor([1, 2])},
            "weight",
        ),
    ],
)
def test_invalid_inputs_name_the_argument(logits, target, kwargs, name):
    with pytest.raises(ValueError, match=name):
        focal_loss(logits, target, **kwargs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("value", [math.nan, math.inf], ids=["nan", "inf"])
def test_poisoned_logits_raise(device, value):
    logits = torch.zeros(2, 3, device=device)
    logits[0, 2] = value
    target = torch.tensor([0, -100], device=device)
    with pytest.raises(ValueError, match="logits"):
        focal_loss(logits, target)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_ignored_rows_may_hold_anything(device, value):
    """Padding rows change neither the loss nor the other rows' gradient."""
    clean = torch.randn(4, 3, dtype=torch.float64, device=device)
    target = torch.tensor([0, -100, 2, -100], device=device)
    padded = clean.clone()
    padded[1] = value
    padded[3, 0] = value
    losses, grads = [], []
    for logits in (clean, padded):
        logits = logits.clone().requires_grad_(True)
        loss = focal_loss(logits, target, gamma=2.0)
        loss.backward()
        losses.append(loss)
        grads.append(logits.grad[target != -100])
    torch.testing.assert_close(losses[1], losses[0])
    torch.testing.assert_close(grads[1], grads[0])


def test_minus_inf_at_the_target_raises():
    logits = torch.tensor([[float("-inf"), 0.0, 0.0]])
    with pytest.raises(ValueError, match="logits"):
        focal_loss(logits, torch.tensor([0]))

"""The sigmoid (binary, multi-label) focal loss."""

import math

import kornia.losses
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from xenthelpers import sigmoid_focal_loss

REDUCTIONS = ["mean", "sum", "none"]


def _reference(logits, target, gamma, alpha):
    """torchvision's semantics from probabilities, in float64, written independently."""
    x, t = logits.double(), target.double()
    p = torch.sigmoid(x)
    ce = -(t * torch.log(p) + (1 - t) * torch.log1p(-p))
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = loss * (alpha * t + (1 - alpha) * (1 - t))
    return loss


def _batch(shape, seed=0, soft=False, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(shape, generator=generator, dtype=dtype)
    if soft:
        target = torch.rand(shape, generator=generator, dtype=dtype)
    else:
        target = torch.randint(0, 2, shape, generator=generator).to(dtype)
    return logits, target


# --- identities and cross-checks -----------------------------------------------------------


@settings(max_examples=40)
@given(
    gamma=st.floats(0.0, 5.0),
    alpha=st.one_of(st.none(), st.floats(0.0, 1.0)),
    soft=st.booleans(),
    seed=st.integers(0, 2**16),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_matches_the_probability_formula(gamma, alpha, soft, seed, reduction):
    logits, target = _batch((5, 3), seed, soft)
    expected = _reference(logits, target, gamma, alpha)
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    ours = sigmoid_focal_loss(logits, target, gamma=gamma, alpha=alpha, reduction=reduction)
    torch.testing.assert_close(ours, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("soft", [False, True])
def test_gamma_zero_without_alpha_is_binary_cross_entropy(reduction, soft):
    logits, target = _batch((4, 6), soft=soft)
    torch.testing.assert_close(
        sigmoid_focal_loss(logits, target, gamma=0.0, alpha=None, reduction=reduction),
        F.binary_cross_entropy_with_logits(logits, target, reduction=reduction),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (0.5, 0.8), (1.0, None)])
def test_matches_kornia_for_hard_targets(reduction, gamma, alpha):
    logits, target = _batch((3, 4, 5))
    theirs = kornia.losses.binary_focal_loss_with_logits(
        logits, target, alpha=alpha, gamma=gamma, reduction=reduction
    )
    ours = sigmoid_focal_loss(logits, target, gamma=gamma, alpha=alpha, reduction=reduction)
    torch.testing.assert_close(ours, theirs)


def test_differs_from_kornia_for_soft_targets_as_documented():
    logits, target = _batch((3, 4), soft=True)
    theirs = kornia.losses.binary_focal_loss_with_logits(
        logits, target, alpha=None, gamma=2.0, reduction="none"
    )
    ours = sigmoid_focal_loss(logits, target, gamma=2.0, alpha=None, reduction="none")
    # kornia modulates each term separately: t (1 - p)^g (-log p) + (1 - t) p^g (-log(1 - p)).
    p = torch.sigmoid(logits)
    kornia_formula = -(
        target * (1 - p) ** 2 * torch.log(p) + (1 - target) * p**2 * torch.log1p(-p)
    )
    torch.testing.assert_close(theirs, kornia_formula)
    assert not torch.allclose(ours, theirs, rtol=1e-3)


@settings(max_examples=30)
@given(gamma=st.floats(0.0, 4.0), soft=st.booleans(), seed=st.integers(0, 2**16))
def test_bounded_by_cross_entropy_and_falls_with_gamma(gamma, soft, seed):
    logits, target = _batch((10,), seed, soft)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    focal = sigmoid_focal_loss(logits, target, gamma=gamma, alpha=None, reduction="none")
    stronger = sigmoid_focal_loss(logits, target, gamma=gamma + 1, alpha=None, reduction="none")
    assert (focal >= 0).all() and (focal <= bce + 1e-12).all()
    assert (stronger <= focal + 1e-12).all()


def test_alpha_weights_positives_and_negatives():
    logits = torch.zeros(2, dtype=torch.float64)
    target = torch.tensor([1.0, 0.0], dtype=torch.float64)
    plain = sigmoid_focal_loss(logits, target, alpha=None, reduction="none")
    weighted = sigmoid_focal_loss(logits, target, alpha=0.25, reduction="none")
    torch.testing.assert_close(weighted, plain * torch.tensor([0.25, 0.75], dtype=torch.float64))


# --- gradients --------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("soft", [False, True])
def test_gradcheck(gamma, soft):
    logits, target = _batch((3, 4), seed=2, soft=soft)
    logits.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x: sigmoid_focal_loss(x, target, gamma=gamma, alpha=0.3, reduction="sum"), (logits,)
    )


def test_gradient_with_respect_to_a_soft_target():
    logits, target = _batch((6,), seed=4, soft=True)
    target = target.clamp(0.05, 0.95).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda t: sigmoid_focal_loss(logits, t, gamma=1.5, reduction="sum"), (target,)
    )


def _exact_positive_gradient(x, gamma, alpha):
    """d/dx of alpha * sigmoid(-x)**gamma * softplus(-x) (target 1), in float64."""
    x = torch.tensor(x, dtype=torch.float64)
    s_neg, s_pos = torch.sigmoid(-x), torch.sigmoid(x)
    return -alpha * s_neg**gamma * (gamma * s_pos * F.softplus(-x) + s_neg)


@pytest.mark.parametrize("gamma", [0.1, 0.5])
@pytest.mark.parametrize("x", [5.0, 20.0, 40.0, 80.0, 300.0])
def test_gradient_of_confident_right_predictions_with_small_gamma(gamma, x):
    logits = torch.tensor([x, -x], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([1.0, 0.0], dtype=torch.float64)
    sigmoid_focal_loss(logits, target, gamma=gamma, alpha=0.5, reduction="sum").backward()
    expected = _exact_positive_gradient(x, gamma, 0.5)
    assert expected != 0
    torch.testing.assert_close(logits.grad, torch.stack([expected, -expected]), rtol=1e-9, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("gamma", [0.0, 0.1, 0.5, 2.0])
def test_extreme_logits_give_finite_loss_and_gradient(dtype, gamma):
    logits = torch.tensor([1e4, -1e4, 1e4, -1e4, 1e4, -1e4], dtype=dtype, requires_grad=True)
    target = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.3, 0.7], dtype=dtype)
    loss = sigmoid_focal_loss(logits, target, gamma=gamma, alpha=None, reduction="none")
    assert torch.isfinite(loss).all()
    assert loss[0].item() == 0.0 and loss[1].item() == 0.0
    torch.testing.assert_close(loss[2], torch.tensor(1e4, dtype=dtype))
    loss.sum().backward()
    assert torch.isfinite(logits.grad).all()


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "logits, target, kwargs, name",
    [
        (torch.zeros(3, dtype=torch.long), torch.zeros(3), {}, "logits"),
        (torch.zeros(3), torch.zeros(3, dtype=torch.long), {}, "target"),
        (torch.zeros(3), torch.zeros(4), {}, "target"),
        (torch.zeros(3), torch.tensor([0.0, 1.5, 1.0]), {}, "target"),
        (torch.zeros(3), torch.tensor([0.0, -0.5, 1.0]), {}, "target"),
        (torch.zeros(3), torch.tensor([0.0, math.nan, 1.0]), {}, "target"),
        (torch.zeros(3), torch.zeros(3), {"gamma": -1.0}, "gamma"),
        (torch.zeros(3), torch.zeros(3), {"gamma": math.inf}, "gamma"),
        (torch.zeros(3), torch.zeros(3), {"gamma": True}, "gamma"),
        (torch.zeros(3), torch.zeros(3), {"alpha": "0.25"}, "alpha"),
        (torch.zeros(3), torch.zeros(3), {"alpha": 1.5}, "alpha"),
        (torch.zeros(3), torch.zeros(3), {"alpha": -0.1}, "alpha"),
        (torch.zeros(3), torch.zeros(3), {"alpha": math.nan}, "alpha"),
        (torch.zeros(3), torch.zeros(3), {"reduction": "batchmean"}, "reduction"),
        (torch.tensor([0.0, math.nan, 1.0]), torch.zeros(3), {}, "logits"),
        (torch.tensor([0.0, math.inf, 1.0]), torch.ones(3), {}, "logits"),
    ],
)
def test_invalid_inputs_name_the_argument(logits, target, kwargs, name):
    with pytest.raises(ValueError, match=name):
        sigmoid_focal_loss(logits, target, **kwargs)


def test_empty_input_reduces_as_binary_cross_entropy_does():
    logits = torch.zeros(0, 3, requires_grad=True)
    target = torch.zeros(0, 3)
    for reduction in REDUCTIONS:
        ours = sigmoid_focal_loss(logits, target, reduction=reduction)
        theirs = F.binary_cross_entropy_with_logits(logits, target, reduction=reduction)
        torch.testing.assert_close(ours, theirs, equal_nan=True)  # mean NaN, sum 0
    sigmoid_focal_loss(logits, target, reduction="sum").backward()
    assert logits.grad.shape == (0, 3)


def test_without_validation_bad_values_pass_through_unchecked():
    logits = torch.tensor([0.0, math.nan, 1.0])
    target = torch.tensor([0.0, 1.0, 1.0])
    loss = sigmoid_focal_loss(logits, target, reduction="none", validate_args=False)
    assert loss[1].isnan() and torch.isfinite(loss[[0, 2]]).all()

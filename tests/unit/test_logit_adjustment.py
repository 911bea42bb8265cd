"""Logit adjustment: the logit-adjusted loss and the post-hoc correction."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.devices import DEVICES
from xenthelpers import adjust_logits, logit_adjusted_cross_entropy

REDUCTIONS = ["mean", "sum", "none"]
PRIOR = torch.tensor([0.6, 0.25, 0.1, 0.05], dtype=torch.float64)


def _batch(shape=(10,), seed=0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    n, *rest = shape
    logits = 2 * torch.randn(n, 4, *rest, generator=generator, dtype=dtype)
    target = torch.randint(0, 4, (n, *rest), generator=generator)
    return logits, target


# --- identities -------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(10,), (3, 2, 5)], ids=["flat", "spatial"])
@pytest.mark.parametrize("tau", [0.0, 0.5, 1.0, 2.0])
def test_is_cross_entropy_of_shifted_logits(reduction, shape, tau):
    logits, target = _batch(shape)
    shift = (tau * PRIOR.log()).view(-1, *([1] * (len(shape) - 1)))
    expected = F.cross_entropy(logits + shift, target, reduction=reduction)
    ours = logit_adjusted_cross_entropy(logits, target, PRIOR, tau=tau, reduction=reduction)
    torch.testing.assert_close(ours, expected)


def test_tau_zero_and_a_uniform_prior_give_plain_cross_entropy():
    logits, target = _batch()
    plain = F.cross_entropy(logits, target)
    torch.testing.assert_close(logit_adjusted_cross_entropy(logits, target, PRIOR, tau=0.0), plain)
    uniform = torch.full((4,), 0.25, dtype=torch.float64)
    torch.testing.assert_close(logit_adjusted_cross_entropy(logits, target, uniform), plain)


def test_optimum_is_the_log_likelihood_ratio():
    # For one input with label distribution p, the expected loss is minimised where
    # softmax(z + log prior) = p, i.e. z = log p - log prior (up to a constant).
    p = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    z = (p.log() - PRIOR.log()).requires_grad_()
    targets = torch.arange(4)
    losses = logit_adjusted_cross_entropy(z.expand(4, 4), targets, PRIOR, reduction="none")
    (losses * p).sum().backward()
    torch.testing.assert_close(z.grad, torch.zeros(4, dtype=torch.float64), atol=1e-12, rtol=0)


def test_adjust_logits_subtracts_the_scaled_log_prior():
    logits, _ = _batch((3, 5))
    adjusted = adjust_logits(logits, PRIOR, tau=0.7)
    torch.testing.assert_close(adjusted, logits - 0.7 * PRIOR.log().view(4, 1))


@settings(max_examples=30)
@given(seed=st.integers(0, 2**16), tau=st.floats(0.0, 3.0))
def test_adjust_logits_undoes_the_prior_in_the_posterior(seed, tau):
    # A model that learned log p(x | y) + log prior recovers p(x | y) up to normalisation.
    logits, _ = _batch(seed=seed)
    trained = logits + tau * PRIOR.log()
    recovered = adjust_logits(trained, PRIOR, tau=tau)
    torch.testing.assert_close(recovered.softmax(dim=1), logits.softmax(dim=1))


def test_prior_is_moved_to_the_dtype_of_the_logits():
    logits, target = _batch(dtype=torch.float32)
    assert logit_adjusted_cross_entropy(logits, target, PRIOR).dtype == torch.float32
    assert adjust_logits(logits, PRIOR).dtype == torch.float32


# --- gradients --------------------------------------------------------------------------


def test_gradcheck():
    logits, target = _batch((4, 3))
    logits.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda z: logit_adjusted_cross_entropy(z, target, PRIOR, tau=1.5), (logits,)
    )


def test_gradient_is_adjusted_softmax_minus_one_hot():
    logits, target = _batch()
    logits.requires_grad_()
    logit_adjusted_cross_entropy(logits, target, PRIOR, reduction="sum").backward()
    expected = (logits.detach() + PRIOR.log()).softmax(dim=1) - F.one_hot(target, 4)
    torch.testing.assert_close(logits.grad, expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_give_finite_loss_and_gradient(dtype):
    logits = torch.tensor([[1e4, -1e4, 0.0, 0.0], [-1e4, 1e4, 0.0, 0.0]], dtype=dtype)
    logits.requires_grad_()
    loss = logit_adjusted_cross_entropy(logits, torch.tensor([0, 0]), PRIOR, reduction="none")
    assert torch.isfinite(loss).all()
    assert loss[0].item() == 0.0
    torch.testing.assert_close(
        loss[1], torch.tensor(2e4 + math.log(0.25 / 0.6), dtype=dtype), rtol=1e-6, atol=0
    )
    loss.sum().backward()
    assert torch.isfinite(logits.grad).all()


# --- validation -------------------------------------------------------------------------


BAD_PRIORS = [
    (torch.tensor([0.5, 0.5]), "prior"),
    (torch.tensor([0.5, 0.5, 0.0, 0.0]), "prior"),
    (torch.tensor([0.7, 0.5, -0.1, -0.1]), "prior"),
    (torch.tensor([0.4, 0.3, 0.2, 0.2]), "prior"),
    (torch.full((1, 4), 0.25), "prior"),
    (torch.tensor([math.nan, 0.5, 0.25, 0.25]), "prior"),
    (torch.tensor([1, 1, 1, 1]), "prior"),
]


@pytest.mark.parametrize("prior, name", BAD_PRIORS)
def test_invalid_prior_is_rejected_by_both_functions(prior, name):
    logits, target = _batch()
    with pytest.raises(ValueError, match=name):
        logit_adjusted_cross_entropy(logits, target, prior)
    with pytest.raises(ValueError, match=name):
        adjust_logits(logits, prior)


@pytest.mark.parametrize(
    "logits, target, kwargs, name",
    [
        (torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, dtype=torch.long), {}, "logits"),
        (torch.zeros(4), torch.zeros(1, dtype=torch.long), {}, "logits"),
        (torch.zeros(2, 4), torch.tensor([0, 4]), {}, "target"),
        (torch.zeros(2, 4), torch.zeros(2), {}, "target"),
        (torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), {"tau": -1.0}, "tau"),
        (torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), {"tau": math.inf}, "tau"),
        (torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), {"tau": "1"}, "tau"),
        (torch.zeros(2, 4), torch.tensor([0, -100]), {}, "target"),
        (torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), {"reduction": "avg"}, "reduction"),
        (torch.tensor([[0.0, math.nan, 0, 0]]), torch.zeros(1, dtype=torch.long), {}, "logits"),
    ],
)
def test_invalid_loss_inputs_name_the_argument(logits, target, kwargs, name):
    with pytest.raises(ValueError, match=name):
        logit_adjusted_cross_entropy(logits, target, PRIOR, **kwargs)


@pytest.mark.parametrize(
    "logits, kwargs, name",
    [
        (torch.zeros(4), {}, "logits"),
        (torch.zeros(2, 4, dtype=torch.long), {}, "logits"),
        (torch.tensor([[0.0, math.nan, 0, 0]]), {}, "logits"),
        (torch.zeros(2, 3), {}, "prior"),
        (torch.zeros(2, 4), {"tau": -0.5}, "tau"),
    ],
)
def test_invalid_adjust_logits_inputs_name_the_argument(logits, kwargs, name):
    with pytest.raises(ValueError, match=name):
        adjust_logits(logits, PRIOR, **kwargs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch_reduces_as_cross_entropy_does(reduction):
    logits = torch.zeros(0, 4, dtype=torch.float64, requires_grad=True)
    target = torch.zeros(0, dtype=torch.long)
    ours = logit_adjusted_cross_entropy(logits, target, PRIOR, reduction=reduction)
    theirs = F.cross_entropy(logits, target, reduction=reduction)
    torch.testing.assert_close(ours, theirs, equal_nan=True)  # mean NaN, sum 0


@pytest.mark.parametrize("device", DEVICES)
def test_a_prior_on_the_cpu_serves_logits_on_any_device(device):
    logits, target = _batch()
    loss = logit_adjusted_cross_entropy(logits.to(device), target.to(device), PRIOR)
    torch.testing.assert_close(loss.cpu(), logit_adjusted_cross_entropy(logits, target, PRIOR))
    torch.testing.assert_close(
        adjust_logits(logits.to(device), PRIOR).cpu(), adjust_logits(logits, PRIOR)
    )
    with pytest.raises(ValueError, match="prior"):
        logit_adjusted_cross_entropy(logits.to(device), target.to(device), 2 * PRIOR)


def test_adjust_logits_without_validation_lets_nan_through():
    logits = torch.tensor([[0.0, math.nan, 0.0, 0.0]], dtype=torch.float64)
    assert adjust_logits(logits, PRIOR, validate_args=False)[0, 1].isnan()

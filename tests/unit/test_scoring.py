"""Tests for xenthelpers.metrics.scoring."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import entropy
from sklearn.metrics import brier_score_loss, log_loss

from tests.unit.devices import DEVICES
from tests.unit.host_reads import NEEDS_CUDA, cuda_synchronisations
from xenthelpers.metrics import brier_score, log_score, spherical_score

SCORES = [brier_score, log_score, spherical_score]
FEW = settings(max_examples=40, deadline=None)


def _rows(n=50, k=4, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(n, k, generator=gen, dtype=dtype), dim=1)


def _labels(n=50, k=4, seed=0):
    return torch.randint(k, (n,), generator=torch.Generator().manual_seed(seed + 100))


# ----------------------------------------------------------- cross-checks


def test_brier_is_twice_sklearn_binary_brier():
    probs, target = _rows(k=2), _labels(k=2)
    ours = brier_score(probs, target)
    sklearn_binary = brier_score_loss(target.numpy(), probs[:, 1].numpy())
    assert float(ours) == pytest.approx(2 * sklearn_binary, rel=1e-12)


def test_brier_matches_sklearn_multiclass_without_halving():
    probs, target = _rows(k=5), _labels(k=5)
    sklearn_multi = brier_score_loss(
        target.numpy(), probs.numpy(), labels=list(range(5)), scale_by_half=False
    )
    assert float(brier_score(probs, target)) == pytest.approx(sklearn_multi, rel=1e-12)


@pytest.mark.parametrize("k", [2, 3, 7])
def test_log_score_is_negative_sklearn_log_loss(k):
    probs, target = _rows(k=k), _labels(k=k)
    sklearn_loss = log_loss(target.numpy(), probs.numpy(), labels=list(range(k)))
    assert float(log_score(probs, target)) == pytest.approx(-sklearn_loss, rel=1e-12)


def test_spherical_score_matches_numpy():
    probs, target = _rows(), _labels()
    p = probs.numpy()
    expected = np.mean(p[np.arange(len(p)), target.numpy()] / np.linalg.norm(p, axis=1))
    assert float(spherical_score(probs, target)) == pytest.approx(expected, rel=1e-12)


def test_hand_computed_values():
    probs = torch.tensor([[0.5, 0.3, 0.2]])
    target = torch.tensor([1])
    assert float(brier_score(probs, target)) == pytest.approx(0.25 + 0.49 + 0.04)
    assert float(log_score(probs, target)) == pytest.approx(math.log(0.3))
    assert float(spherical_score(probs, target)) == pytest.approx(0.3 / math.sqrt(0.38))


# ----------------------------------------------------- propriety identities


@pytest.mark.parametrize("score", SCORES)
def test_probability_target_is_expected_score_over_outcomes(score):
    probs, outcome_probs = _rows(n=20, seed=1), _rows(n=20, seed=2)
    per_class = torch.stack(
        [score(probs, torch.full((20,), k), reduction="none") for k in range(4)], dim=1
    )
    torch.testing.assert_close(
        score(probs, outcome_probs, reduction="none"), (outcome_probs * per_class).sum(dim=1)
    )


@pytest.mark.parametrize("score", SCORES)
def test_one_hot_probability_target_equals_index_target(score):
    probs, target = _rows(), _labels()
    one_hot = torch.nn.functional.one_hot(target, 4).double()
    torch.testing.assert_close(score(probs, one_hot, reduction="none"),
                               score(probs, target, reduction="none"))


@FEW
@given(k=st.integers(2, 6), seed=st.integers(0, 2**16), spread=st.floats(0.1, 5.0))
def test_excess_scores_are_the_known_divergences(k, seed, spread):
    gen = torch.Generator().manual_seed(seed)
    q = torch.softmax(spread * torch.randn(8, k, generator=gen, dtype=torch.float64), dim=1)
    p = torch.softmax(spread * torch.randn(8, k, generator=gen, dtype=torch.float64), dim=1)
    # Brier: excess is the squared distance; its entropy is the Gini impurity 1 - |q|^2.
    brier_excess = brier_score(p, q, reduction="none") - brier_score(q, q, reduction="none")
    torch.testing.assert_close(brier_excess, (p - q).square().sum(dim=1))
    torch.testing.assert_close(brier_score(q, q, reduction="none"), 1 - q.square().sum(dim=1))
    # Log score: excess is KL(q || p); its entropy is Shannon's.
    log_excess = log_score(q, q, reduction="none") - log_score(p, q, reduction="none")
    torch.testing.assert_close(log_excess, torch.from_numpy(entropy(q.numpy(), p.numpy(), axis=1)))
    torch.testing.assert_close(log_score(q, q, reduction="none"),
                               -torch.from_numpy(entropy(q.numpy(), axis=1)))
    # Spherical: best at p = q (Cauchy-Schwarz), with value |q|.
    torch.testing.assert_close(spherical_score(q, q, reduction="none"),
                               torch.linalg.vector_norm(q, dim=1))
    assert bool((spherical_score(p, q, reduction="none")
                 <= spherical_score(q, q, reduction="none") + 1e-12).all())


# ---------------------------------------------------------------- mechanics


@pytest.mark.parametrize("score", SCORES)
def test_reductions(score):
    probs, target = _rows(), _labels()
    per_example = score(probs, target, reduction="none")
    assert per_example.shape == (50,)
    torch.testing.assert_close(score(probs, target, reduction="sum"), per_example.sum())
    torch.testing.assert_close(score(probs, target), per_example.mean())
    assert score(probs, target).dim() == 0


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("soft", [False, True])
def test_gradcheck(score, soft):
    probs = _rows(n=5, k=3, seed=3).clamp_min(0.05)
    probs = (probs / probs.sum(dim=1, keepdim=True)).requires_grad_(True)
    target = _rows(n=5, k=3, seed=4) if soft else _labels(n=5, k=3)
    assert torch.autograd.gradcheck(lambda p: score(p, target, reduction="none"), (probs,))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("score", SCORES)
def test_dtype_and_device(score, dtype, device):
    probs, target = _rows(dtype=dtype).to(device), _labels().to(device)
    value = score(probs, target)
    assert value.dtype == dtype and value.device.type == device
    torch.testing.assert_close(value.cpu().double(), score(probs.cpu().double(), target.cpu()),
                               rtol=1e-5, atol=1e-6)


def test_zero_probability_on_outcome():
    probs = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    target = torch.tensor([1, 0])
    assert log_score(probs, target, reduction="none").tolist() == [-math.inf, math.log(0.5)]
    assert float(spherical_score(probs, target, reduction="none")[0]) == 0.0
    assert float(brier_score(probs, target, reduction="none")[0]) == 2.0


def test_zero_target_mass_on_zero_probability_contributes_nothing():
    probs = torch.tensor([[0.0, 0.25, 0.75]])
    q = torch.tensor([[0.0, 0.5, 0.5]])
    value = log_score(probs, q)
    assert math.isfinite(float(value))
    assert float(value) == pytest.approx(0.5 * math.log(0.25) + 0.5 * math.log(0.75))


def test_perfect_prediction_scores():
    probs = torch.eye(3)
    target = torch.arange(3)
    assert float(brier_score(probs, target)) == 0.0
    assert float(log_score(probs, target)) == 0.0
    assert float(spherical_score(probs, target)) == 1.0


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("score", SCORES)
class TestValidation:
    def test_reduction(self, score):
        with pytest.raises(ValueError, match="reduction"):
            score(_rows(), _labels(), reduction="avg")

    def test_probs_not_rows(self, score):
        with pytest.raises(ValueError, match="probs"):
            score(_rows() * 1.1, _labels())
        with pytest.raises(ValueError, match="probs"):
            score(torch.tensor([[1.5, -0.5]]), torch.tensor([0]))
        bad = _rows()
        bad[0, 0] = math.nan
        with pytest.raises(ValueError, match="probs"):
            score(bad, _labels())

    def test_probs_shape_and_dtype(self, score):
        with pytest.raises(ValueError, match="probs"):
            score(torch.tensor([0.2, 0.8]), torch.tensor([1]))
        with pytest.raises(ValueError, match="probs"):
            score(torch.tensor([[0, 1]]), torch.tensor([1]))

    def test_index_target(self, score):
        with pytest.raises(ValueError, match="target"):
            score(_rows(), _labels()[:-1])
        bad = _labels()
        bad[3] = 4
        with pytest.raises(ValueError, match="target"):
            score(_rows(), bad)

    def test_probability_target(self, score):
        with pytest.raises(ValueError, match="target"):
            score(_rows(), _rows(seed=5)[:, :3])
        with pytest.raises(ValueError, match="target"):
            score(_rows(), 0.5 * _rows(seed=5))


@pytest.mark.parametrize("device", DEVICES)
def test_out_of_range_target_raises_value_error_on_every_device(device):
    with pytest.raises(ValueError, match="target"):
        brier_score(_rows().to(device), (_labels() + 4).to(device))


# --------------------------------------------------------------- validate_args

TARGETS = ["indices", "rows"]


def _target(kind, device="cpu"):
    target = _labels() if kind == "indices" else _rows(seed=7)
    return target.to(device)


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("kind", TARGETS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_without_validation_the_value_is_the_same(score, kind, reduction):
    probs, target = _rows(), _target(kind)
    torch.testing.assert_close(
        score(probs, target, reduction=reduction, validate_args=False),
        score(probs, target, reduction=reduction, validate_args=True),
        rtol=0,
        atol=0,
    )


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("kind", TARGETS)
def test_runs_on_the_meta_device_without_validation(score, kind):
    probs = torch.empty(50, 4, device="meta", dtype=torch.float64, requires_grad=True)
    value = score(probs, _target(kind, device="meta"), validate_args=False)
    assert value.device.type == "meta" and value.shape == ()
    per_example = score(probs, _target(kind, device="meta"), reduction="none", validate_args=False)
    assert per_example.shape == (50,)
    value.backward()


@pytest.mark.parametrize("score", SCORES)
def test_without_validation_only_the_value_checks_are_skipped(score):
    score(_rows() * 1.1, _labels(), validate_args=False)  # rows off by 10%: not read
    score(_rows(), _labels() + 4, validate_args=False)  # out of range: a zero row, no assert
    with pytest.raises(ValueError, match="target"):
        score(_rows(), _labels()[:-1], validate_args=False)
    with pytest.raises(ValueError, match="target"):
        score(_rows(), _rows(seed=5)[:, :3], validate_args=False)
    with pytest.raises(ValueError, match="probs"):
        score(torch.tensor([0.2, 0.8]), torch.tensor([1]), validate_args=False)
    with pytest.raises(ValueError, match="reduction"):
        score(_rows(), _labels(), reduction="avg", validate_args=False)


@pytest.mark.parametrize("score", SCORES)
def test_value_checks_name_the_argument_with_validation(score):
    with pytest.raises(ValueError, match="`probs`"):
        score(_rows() * 1.1, _labels(), validate_args=True)
    with pytest.raises(ValueError, match="`target`"):
        score(_rows(), _labels() + 4, validate_args=True)
    with pytest.raises(ValueError, match="`target`"):
        score(_rows(), 0.5 * _rows(seed=5), validate_args=True)


@NEEDS_CUDA
@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("kind", TARGETS)
@pytest.mark.parametrize("validate_args, most", [(False, 0), (True, 1)])
def test_host_synchronisations_per_call(score, kind, validate_args, most):
    probs, target = _rows().cuda(), _target(kind, device="cuda")
    reads = cuda_synchronisations(lambda: score(probs, target, validate_args=validate_args))
    assert reads <= most

"""evaluate_members: ECE, NLL, accuracy and confidence of every ensemble member."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.devices import DEVICES
from xenthelpers import MLPEnsemble, evaluate_members, expected_calibration_error, predict_logits

KEYS = ["ECE", "NLL", "accuracy", "confidence"]


def _logits(n=300, num_classes=4, num_members=3, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(n, num_classes, num_members, generator=g, dtype=dtype)
    target = torch.randint(0, num_classes, (n,), generator=g)
    return logits, target


def _member_alone(logits, target, n_bins=15):
    """Each metric computed on one member's (N, K) logits, independently of the helper."""
    probs = logits.softmax(dim=1)
    return {
        "ECE": expected_calibration_error(probs, target, n_bins=n_bins),
        "NLL": F.cross_entropy(logits, target),
        "accuracy": (probs.argmax(1) == target).double().mean(),
        "confidence": probs.amax(1).mean(),
    }


@settings(max_examples=30)
@given(
    n=st.integers(1, 60),
    num_classes=st.integers(2, 6),
    num_members=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    per_member=st.booleans(),
)
def test_each_member_scores_as_if_evaluated_alone(n, num_classes, num_members, seed, per_member):
    logits, target = _logits(n, num_classes, num_members, seed, dtype=torch.float64)
    if per_member:
        target = torch.randint(0, num_classes, (n, num_members),
                               generator=torch.Generator().manual_seed(seed + 1))
    metrics = evaluate_members(logits, target)
    assert list(metrics) == KEYS
    for m in range(num_members):
        alone = _member_alone(logits[..., m], target[:, m] if per_member else target)
        for key in KEYS:
            assert metrics[key].shape == (num_members,)
            torch.testing.assert_close(metrics[key][m], alone[key], rtol=1e-12, atol=1e-15)


def test_values_are_those_of_the_direct_computation_bit_for_bit():
    # The chapters computed these per member before; the helper must not move a digit.
    logits, y = _logits()
    y_all = y[:, None].expand(-1, logits.shape[2])
    probs = logits.softmax(dim=1)
    metrics = evaluate_members(logits, y)
    assert torch.equal(metrics["NLL"], F.cross_entropy(logits, y_all, reduction="none").mean(0))
    assert torch.equal(metrics["accuracy"], (probs.argmax(1) == y_all).double().mean(0))
    assert torch.equal(metrics["confidence"], probs.amax(1).mean(0))
    ece = [expected_calibration_error(probs[..., i], y).item() for i in range(3)]
    assert metrics["ECE"].tolist() == ece


def test_dtypes_follow_the_logits_except_accuracy():
    for dtype in (torch.float32, torch.float64):
        metrics = evaluate_members(*_logits(dtype=dtype))
        assert metrics["NLL"].dtype == metrics["confidence"].dtype == metrics["ECE"].dtype == dtype
        assert metrics["accuracy"].dtype == torch.float64


def test_n_bins_reaches_the_calibration_error():
    logits, target = _logits()
    few = evaluate_members(logits, target, n_bins=3)["ECE"]
    alone = expected_calibration_error(logits[..., 1].softmax(1), target, n_bins=3)
    assert few[1] == alone and not torch.equal(few, evaluate_members(logits, target)["ECE"])


def test_works_on_a_trained_ensemble_without_gradients():
    torch.manual_seed(0)
    model = MLPEnsemble(2, (3, 8, 4))
    x, y = torch.randn(50, 3), torch.randint(0, 4, (50,))
    metrics = evaluate_members(model(x), y)  # logits that require grad
    assert not any(v.requires_grad for v in metrics.values())
    assert torch.equal(metrics["NLL"], evaluate_members(predict_logits(model, x), y)["NLL"])


def test_a_perfect_member_scores_perfectly():
    target = torch.tensor([0, 1, 2, 1])
    logits = 50 * F.one_hot(target, 3).double()[:, :, None]  # (N, K, 1), sure and right
    metrics = evaluate_members(logits, target)
    assert metrics["accuracy"].item() == 1.0 and metrics["confidence"].item() == pytest.approx(1)
    assert metrics["NLL"].item() < 1e-20 and metrics["ECE"].item() < 1e-20


@pytest.mark.parametrize("device", DEVICES)
def test_runs_on_the_device_of_the_logits(device):
    logits, target = _logits()
    on_device = evaluate_members(logits.to(device), target.to(device))
    on_cpu = evaluate_members(logits, target)
    for key in KEYS:
        assert on_device[key].device.type == device
        torch.testing.assert_close(on_device[key].cpu(), on_cpu[key], rtol=1e-5, atol=1e-6)


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logits", "target", "match"),
    [
        (torch.zeros(5, 3), torch.zeros(5, dtype=torch.long), "logits.*shape"),
        (torch.zeros(5, 3, 2, 1), torch.zeros(5, dtype=torch.long), "logits.*shape"),
        (torch.zeros(0, 3, 2), torch.zeros(0, dtype=torch.long), "logits.*shape"),
        (torch.zeros(5, 3, 2, dtype=torch.long), torch.zeros(5, dtype=torch.long), "logits"),
        (torch.zeros(5, 3, 2), torch.zeros(5), "target"),
        (torch.zeros(5, 3, 2), torch.zeros(4, dtype=torch.long), r"target.*\(5,\) or \(5, 2\)"),
        (torch.zeros(5, 3, 2), torch.zeros(5, 3, dtype=torch.long), "target.*shape"),
        (torch.zeros(5, 3, 2), torch.full((5,), 3), r"target.*\[0, 3\)"),
        (torch.zeros(5, 3, 2), torch.full((5, 2), -1), r"target.*\[0, 3\)"),
    ],
)
def test_rejects_bad_input(logits, target, match):
    with pytest.raises(ValueError, match=match):
        evaluate_members(logits, target)


@pytest.mark.parametrize("n_bins", [0, 2.5, True])
def test_rejects_bad_n_bins(n_bins):
    with pytest.raises(ValueError, match="n_bins"):
        evaluate_members(*_logits(), n_bins=n_bins)

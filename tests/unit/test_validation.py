"""The shared input checks and the reduction helper."""

import pytest
import torch

from xenthelpers._reduction import reduce_loss
from xenthelpers._validation import (
    check_class_logits,
    check_distribution,
    check_positive,
    check_unit_interval,
)


def test_class_logits_accepts_spatial_shapes():
    assert check_class_logits(torch.zeros(2, 5, 3, 4), torch.zeros(2, 3, 4, dtype=torch.long)) == 5


@pytest.mark.parametrize(
    "logits, target, message",
    [
        (torch.zeros(4), torch.zeros(4, dtype=torch.long), "logits"),
        (torch.zeros(4, 3), torch.zeros(5, dtype=torch.long), "target"),
        (torch.zeros(4, 3), torch.zeros(4), "target"),
        (torch.zeros(4, 3), torch.tensor([0, 1, 2, 3]), r"\[0, 3\)"),
        (torch.zeros(4, 3), torch.tensor([0, -1, 2, 1]), "target"),
        (torch.zeros(4, 3, dtype=torch.long), torch.zeros(4, dtype=torch.long), "logits"),
    ],
)
def test_class_logits_names_the_bad_argument(logits, target, message):
    with pytest.raises(ValueError, match=message):
        check_class_logits(logits, target)


def test_ignore_index_is_exempt_from_the_range_check():
    check_class_logits(torch.zeros(3, 2), torch.tensor([0, -100, 1]), ignore_index=-100)


@pytest.mark.parametrize(
    "probs, message",
    [
        (torch.tensor([[0.5, 0.6]]), "sum to 1"),
        (torch.tensor([[1.5, -0.5]]), "non-negative"),
        (torch.tensor([[float("nan"), 1.0]]), "NaN"),
    ],
)
def test_probabilities_are_checked(probs, message):
    with pytest.raises(ValueError, match=message):
        check_distribution(probs, "probs")


@pytest.mark.parametrize("value", [0.0, -1.0, float("inf"), float("nan")])
def test_positive_rejects(value):
    with pytest.raises(ValueError, match="temperature"):
        check_positive(value, "temperature")


@pytest.mark.parametrize("value", [-0.1, 1.1, float("nan")])
def test_unit_interval_rejects(value):
    with pytest.raises(ValueError, match="alpha"):
        check_unit_interval(value, "alpha")


def test_reduce_loss_matches_pytorch_semantics():
    loss = torch.tensor([1.0, 0.0, 3.0])
    assert reduce_loss(loss, "none") is loss
    assert reduce_loss(loss, "sum").item() == 4.0
    assert reduce_loss(loss, "mean").item() == pytest.approx(4.0 / 3.0)
    counts = torch.tensor([True, False, True]).sum()  # the middle element does not count
    assert reduce_loss(loss, "mean", count=counts).item() == 2.0
    empty = torch.zeros(0)
    assert reduce_loss(empty, "sum").item() == 0.0
    assert reduce_loss(empty, "mean").isnan()  # as F.cross_entropy on an empty batch

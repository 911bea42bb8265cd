"""Tests for xenthelpers.metrics.expected_cost."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix

from xenthelpers.metrics import bayes_threshold, expected_cost_curve

MISS_TEN = [[0.0, 10.0], [1.0, 0.0]]  # [[C_TN, C_FN], [C_FP, C_TP]]


@pytest.mark.parametrize(
    "costs, expected",
    [
        (MISS_TEN, 1 / 11),
        ([[0.0, 1.0], [1.0, 0.0]], 0.5),
        ([[0.0, 2.0], [1.0, 0.0]], 1 / 3),
        ([[1.0, 7.0], [3.0, 2.0]], 2 / 7),  # (3 - 1) / ((3 - 1) + (7 - 2))
        ([[0.0, 5.0], [0.0, 0.0]], 0.0),  # a false alarm is free: call everything positive
        ([[0.0, 0.0], [4.0, 0.0]], 1.0),  # a miss is free: call everything negative
        (torch.tensor([[0, 3], [1, 0]]), 0.25),  # an integer tensor
        (np.array([[0.0, 3.0], [1.0, 0.0]]), 0.25),
    ],
)
def test_hand_computed_thresholds(costs, expected):
    assert bayes_threshold(costs) == pytest.approx(expected, rel=1e-15)


def test_threshold_depends_only_on_the_two_differences():
    base = torch.tensor([[0.5, 4.0], [2.0, 1.5]], dtype=torch.float64)
    shifted = base + torch.tensor([[3.0, -1.0]], dtype=torch.float64)  # a constant per column
    assert bayes_threshold(shifted) == pytest.approx(bayes_threshold(base), rel=1e-14)
    assert bayes_threshold(7.5 * base) == pytest.approx(bayes_threshold(base), rel=1e-14)


@pytest.mark.parametrize("seed", range(10))
def test_both_actions_cost_the_same_at_the_threshold(seed):
    g = torch.Generator().manual_seed(seed)
    correct = torch.rand(2, generator=g, dtype=torch.float64)  # C_TN, C_TP
    extra = torch.rand(2, generator=g, dtype=torch.float64) * 10  # what an error adds
    costs = torch.stack([torch.stack([correct[0], correct[1] + extra[1]]),
                         torch.stack([correct[0] + extra[0], correct[1]])])
    t = bayes_threshold(costs)
    beliefs = torch.tensor([1 - t, t], dtype=torch.float64)
    cost_negative, cost_positive = (costs @ beliefs).tolist()
    assert cost_negative == pytest.approx(cost_positive, abs=1e3 * 2.2e-16 * 10)
    # just above t* calling positive is cheaper, just below it is dearer
    for p, cheaper in ((min(t + 1e-3, 1.0), 1), (max(t - 1e-3, 0.0), 0)):
        expected = costs @ torch.tensor([1 - p, p], dtype=torch.float64)
        assert int(expected.argmin()) == cheaper


def test_hand_computed_curve():
    probabilities = torch.tensor([0.05, 0.2, 0.6, 0.9])
    labels = torch.tensor([0, 1, 0, 1])
    curve = expected_cost_curve(probabilities, labels, torch.tensor([0.0, 0.1, 0.5, 0.95]),
                                MISS_TEN)
    # t = 0: two false alarms; 0.1: one; 0.5: one false alarm and one miss; 0.95: two misses
    expected = torch.tensor([2 / 4, 1 / 4, 11 / 4, 20 / 4], dtype=torch.float64)
    assert curve.dtype == torch.float64
    assert torch.equal(curve, expected)


def test_a_probability_equal_to_the_threshold_is_called_positive():
    curve = expected_cost_curve(torch.tensor([0.5]), torch.tensor([0]), 0.5, MISS_TEN)
    assert curve.shape == () and curve.item() == 1.0  # a false alarm


def _reference(probabilities, labels, threshold, costs):
    """Counts from sklearn's confusion matrix (rows: truth, columns: prediction)."""
    predicted = (probabilities >= threshold).astype(int)
    counts = confusion_matrix(labels, predicted, labels=[0, 1])
    return float((counts * np.asarray(costs).T).sum() / len(labels))


@pytest.mark.parametrize("seed", range(5))
def test_matches_a_confusion_matrix_reference(seed):
    g = torch.Generator().manual_seed(seed)
    probabilities = torch.rand(200, 3, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 2, (200,), generator=g)
    thresholds = torch.linspace(0, 1, 21, dtype=torch.float64)
    costs = [[0.2, 6.0], [1.5, 0.1]]
    curve = expected_cost_curve(probabilities, labels, thresholds, costs)
    assert curve.shape == (21, 3)
    for j, t in enumerate(thresholds.tolist()):
        for column in range(3):
            expected = _reference(probabilities[:, column].numpy(), labels.numpy(), t, costs)
            assert curve[j, column].item() == pytest.approx(expected, rel=1e-12)


def test_labels_per_column_and_of_any_dtype():
    g = torch.Generator().manual_seed(0)
    probabilities = torch.rand(50, 4, generator=g)
    labels = torch.randint(0, 2, (50, 4), generator=g)
    thresholds = torch.tensor([[0.2, 0.4], [0.6, 0.8]])
    curve = expected_cost_curve(probabilities, labels, thresholds, MISS_TEN)
    assert curve.shape == (2, 2, 4)
    for as_type in (labels.bool(), labels.double()):
        assert torch.equal(expected_cost_curve(probabilities, as_type, thresholds, MISS_TEN),
                           curve)
    column = expected_cost_curve(probabilities[:, 1], labels[:, 1], thresholds, MISS_TEN)
    assert torch.equal(column, curve[..., 1])


def test_without_validation_the_values_are_not_read():
    probabilities = torch.tensor([0.2, 1.5])  # out of range, but not checked
    curve = expected_cost_curve(probabilities, torch.tensor([1, 0]), torch.tensor([0.5]),
                                MISS_TEN, validate_args=False)
    assert curve.tolist() == [(10 + 1) / 2]


@pytest.mark.parametrize(
    "costs, match",
    [
        ([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0]], r"`costs` must be a 2x2 matrix"),
        ([0.0, 1.0, 1.0, 0.0], r"`costs` must be a 2x2 matrix"),
        (torch.zeros(2, 2, 1), r"`costs` must be a 2x2 matrix"),
        ("cheap", r"`costs` must be a 2x2 matrix of real numbers"),
        ([[0.0, "a"], [1.0, 0.0]], r"`costs` must be a 2x2 matrix of real numbers"),
        (torch.eye(2, dtype=torch.bool), r"`costs` must be a 2x2 matrix of real numbers"),
        ([[0.0, float("inf")], [1.0, 0.0]], r"`costs` contains NaN or infinite"),
        ([[0.0, float("nan")], [1.0, 0.0]], r"`costs` contains NaN or infinite"),
        ([[2.0, 10.0], [1.0, 0.0]], r"`costs`: a false positive must cost at least"),
        ([[0.0, 1.0], [1.0, 3.0]], r"`costs`: a false negative must cost at least"),
        ([[1.0, 2.0], [1.0, 2.0]], r"`costs`: some error must cost more"),
    ],
)
def test_bad_cost_matrices_are_named(costs, match):
    with pytest.raises(ValueError, match=match):
        bayes_threshold(costs)
    with pytest.raises(ValueError, match=match):
        expected_cost_curve(torch.tensor([0.5]), torch.tensor([1]), 0.5, costs)


@pytest.mark.parametrize(
    "probabilities, labels, thresholds, match",
    [
        (torch.tensor([0.2, 1.2]), torch.tensor([0, 1]), 0.5,
         r"`probabilities` must hold probabilities in \[0, 1\]"),
        (torch.tensor([-0.1, 0.5]), torch.tensor([0, 1]), 0.5,
         r"`probabilities` must hold probabilities in \[0, 1\]"),
        (torch.tensor([float("nan"), 0.5]), torch.tensor([0, 1]), 0.5,
         r"`probabilities` contains NaN"),
        (torch.tensor([1, 0]), torch.tensor([0, 1]), 0.5,
         r"`probabilities` must be a floating-point tensor"),
        (torch.zeros(0), torch.zeros(0), 0.5, r"`probabilities` must hold at least one"),
        (torch.tensor(0.5), torch.tensor(1), 0.5, r"`probabilities` must hold at least one"),
        (torch.tensor([0.2, 0.5]), torch.tensor([0, 2]), 0.5,
         r"`labels` must be boolean or hold only the values 0 and 1"),
        (torch.tensor([0.2, 0.5]), torch.tensor([0.0, 0.5]), 0.5,
         r"`labels` must be boolean or hold only the values 0 and 1"),
        (torch.tensor([0.2, 0.5]), torch.tensor([0, 1, 1]), 0.5,
         r"`labels` must have shape \(2,\) or \(2,\)"),
        (torch.tensor([0.2, 0.5]), [0, 1], 0.5, r"`labels` must be a torch.Tensor"),
        (torch.tensor([0.2, 0.5]), torch.tensor([0, 1]), 1.5,
         r"`thresholds` must lie in \[0, 1\]"),
        (torch.tensor([0.2, 0.5]), torch.tensor([0, 1]), -0.1,
         r"`thresholds` must lie in \[0, 1\]"),
        (torch.tensor([0.2, 0.5]), torch.tensor([0, 1]), torch.tensor([0.5, 1.1]),
         r"`thresholds` must hold probabilities in \[0, 1\]"),
        (torch.tensor([0.2, 0.5]), torch.tensor([0, 1]), torch.tensor([1, 0]),
         r"`thresholds` must be a floating-point tensor"),
        (torch.tensor([0.2, 0.5]), torch.tensor([0, 1]), "half",
         r"`thresholds` must be a real number"),
    ],
)
def test_bad_inputs_are_named(probabilities, labels, thresholds, match):
    with pytest.raises((ValueError, TypeError), match=match):
        expected_cost_curve(probabilities, labels, thresholds, MISS_TEN)

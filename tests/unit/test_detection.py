"""Tests for xenthelpers.metrics.detection."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_curve

from xenthelpers.metrics import fpr_at_tpr


def _sklearn_fpr_at_tpr(positive, negative, tpr, drop_intermediate):
    """The reference: roc_curve's FPR at the first point with TPR >= tpr."""
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    fpr, rates, _ = roc_curve(labels, np.r_[positive, negative],
                              drop_intermediate=drop_intermediate)
    return fpr[np.argmax(rates >= tpr)]


def test_hand_computed():
    positives = torch.tensor([4.0, 3.0, 2.0, 1.0])
    negatives = torch.tensor([3.5, 2.5, 0.5])
    # tpr 0.5: threshold 3 accepts 3.5 only; tpr 0.75: threshold 2 accepts 3.5, 2.5
    assert fpr_at_tpr(positives, negatives, tpr=0.5).item() == pytest.approx(1 / 3)
    assert fpr_at_tpr(positives, negatives, tpr=0.75).item() == pytest.approx(2 / 3)
    assert fpr_at_tpr(positives, negatives, tpr=0.26).item() == pytest.approx(1 / 3)
    assert fpr_at_tpr(positives, negatives, tpr=0.25).item() == 0.0
    assert fpr_at_tpr(positives, negatives, tpr=1.0).item() == pytest.approx(2 / 3)


def test_ties_count_as_accepted():
    # threshold 1.0 (k = 1) also accepts the tied positive and the tied negative
    positives = torch.tensor([1.0, 1.0, 0.0])
    negatives = torch.tensor([1.0, 0.0])
    assert fpr_at_tpr(positives, negatives, tpr=0.3).item() == 0.5


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("tpr", [0.95, 0.5, 0.9, 1.0, 0.01])
@pytest.mark.parametrize("drop_intermediate", [False, True])
def test_matches_sklearn_roc_curve(seed, tpr, drop_intermediate):
    g = torch.Generator().manual_seed(seed)
    n_pos, n_neg = (int(v) for v in torch.randint(1, 120, (2,), generator=g))
    if seed % 2:  # integer scores: many ties within and across the classes
        positive = torch.randint(0, 8, (n_pos,), generator=g).double()
        negative = torch.randint(-3, 5, (n_neg,), generator=g).double()
    else:
        positive = torch.randn(n_pos, generator=g, dtype=torch.float64) + 1
        negative = torch.randn(n_neg, generator=g, dtype=torch.float64)
    expected = _sklearn_fpr_at_tpr(positive.numpy(), negative.numpy(), tpr, drop_intermediate)
    assert fpr_at_tpr(positive, negative, tpr=tpr).item() == expected


def test_exact_fraction_of_positives():
    # 95 of 100 positives is exactly 0.95: the threshold is the 95th score, not the 96th
    positive = torch.arange(100, dtype=torch.float64)  # the 95th largest is 5.0
    negative = torch.tensor([5.0, 4.5], dtype=torch.float64)
    assert fpr_at_tpr(positive, negative).item() == 0.5


def test_batch_dimensions_are_independent():
    g = torch.Generator().manual_seed(0)
    positive, negative = torch.randn(50, 3, 2, generator=g) + 1, torch.randn(40, 3, 2, generator=g)
    result = fpr_at_tpr(positive, negative)
    assert result.shape == (3, 2) and result.dtype == torch.float64
    for i in range(3):
        for j in range(2):
            assert result[i, j] == fpr_at_tpr(positive[:, i, j], negative[:, i, j])


def test_infinite_scores_are_allowed():
    positive = torch.tensor([float("inf"), 1.0])
    negative = torch.tensor([float("-inf"), 2.0])
    assert fpr_at_tpr(positive, negative, tpr=0.5).item() == 0.0
    assert fpr_at_tpr(positive, negative, tpr=1.0).item() == 0.5


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"positive_scores": torch.tensor([1, 2])}, "positive_scores"),
        ({"negative_scores": torch.zeros(0)}, "negative_scores"),
        ({"positive_scores": torch.tensor(1.0)}, "positive_scores"),
        ({"negative_scores": torch.zeros(3, 2)}, "positive_scores"),
        ({"tpr": 0.0}, "tpr"),
        ({"tpr": 1.5}, "tpr"),
        ({"tpr": True}, "tpr"),
        ({"tpr": "0.95"}, "tpr"),
        ({"positive_scores": torch.tensor([1.0, float("nan")])}, "positive_scores"),
        ({"negative_scores": torch.tensor([float("nan")])}, "negative_scores"),
    ],
)
def test_bad_inputs_are_named(kwargs, name):
    arguments = {"positive_scores": torch.tensor([1.0, 2.0]),
                 "negative_scores": torch.tensor([0.0, 1.5]), **kwargs}
    with pytest.raises(ValueError, match=f"`{name}`"):
        fpr_at_tpr(**arguments)


def test_validate_args_false_skips_the_nan_check():
    result = fpr_at_tpr(torch.tensor([1.0, 2.0]), torch.tensor([float("nan")]),
                        validate_args=False)
    assert result.item() == 0.0

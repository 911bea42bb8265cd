"""Tests for xenthelpers.crowds.majority."""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.devices import DEVICES
from tests.unit.host_reads import NEEDS_CUDA, cuda_synchronisations
from xenthelpers.crowds import majority_vote, majority_vote_labels

FEW = settings(max_examples=30, deadline=None)


@st.composite
def annotation_sets(draw):
    """Random long-format (tasks, labels) with every task id in [0, N) used at least once."""
    num_tasks = draw(st.integers(1, 6))
    num_classes = draw(st.integers(1, 4))
    extra = draw(st.lists(st.integers(0, num_tasks - 1), max_size=20))
    tasks = list(range(num_tasks)) + extra
    labels = draw(st.lists(st.integers(0, num_classes - 1), min_size=len(tasks),
                           max_size=len(tasks)))
    return torch.tensor(tasks), torch.tensor(labels), num_classes


def test_worked_example():
    tasks = torch.tensor([0, 0, 0, 1, 1, 2])
    labels = torch.tensor([2, 2, 0, 1, 0, 1])
    expected = torch.tensor([[1 / 3, 0.0, 2 / 3], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0]],
                            dtype=torch.float64)
    torch.testing.assert_close(
        majority_vote(tasks, labels, dtype=torch.float64), expected, rtol=0, atol=1e-15
    )
    assert majority_vote_labels(tasks, labels).tolist() == [2, 0, 1]


@FEW
@given(annotation_sets())
def test_matches_counting_by_hand(data):
    tasks, labels, num_classes = data
    fractions = majority_vote(tasks, labels, num_classes=num_classes, dtype=torch.float64)
    hard = majority_vote_labels(tasks, labels, num_classes=num_classes)
    for task in range(fractions.shape[0]):
        votes = Counter(labels[tasks == task].tolist())
        total = sum(votes.values())
        expected = [votes[k] / total for k in range(num_classes)]
        torch.testing.assert_close(fractions[task], torch.tensor(expected, dtype=torch.float64))
        most = max(votes.values())
        assert hard[task].item() == min(k for k, count in votes.items() if count == most)


@FEW
@given(annotation_sets(), st.randoms(use_true_random=False))
def test_rows_are_distributions_invariant_to_row_order(data, rng):
    tasks, labels, num_classes = data
    order = list(range(tasks.numel()))
    rng.shuffle(order)
    order = torch.tensor(order)
    fractions = majority_vote(tasks, labels, num_classes=num_classes)
    shuffled = majority_vote(tasks[order], labels[order], num_classes=num_classes)
    torch.testing.assert_close(shuffled, fractions, rtol=0, atol=0)
    assert bool((fractions >= 0).all())
    torch.testing.assert_close(fractions.sum(dim=1), torch.ones(fractions.shape[0]))


def test_ties_go_to_the_lowest_class_index():
    tasks = torch.tensor([0, 0, 1, 1, 1, 1, 2, 2, 2])
    labels = torch.tensor([3, 1, 2, 0, 0, 2, 2, 1, 0])
    assert majority_vote_labels(tasks, labels).tolist() == [1, 0, 0]


def test_task_without_annotations_is_uniform_and_labelled_zero():
    tasks = torch.tensor([0, 0, 2])
    labels = torch.tensor([1, 1, 2])
    fractions = majority_vote(tasks, labels, num_classes=4, num_tasks=4)
    assert fractions.shape == (4, 4)
    torch.testing.assert_close(fractions[1], torch.full((4,), 0.25))
    torch.testing.assert_close(fractions[3], torch.full((4,), 0.25))
    assert majority_vote_labels(tasks, labels, num_classes=4, num_tasks=4).tolist() == [1, 0, 2, 0]


def test_defaults_infer_sizes_and_dtype():
    tasks = torch.tensor([0, 1, 1])
    labels = torch.tensor([0, 0, 1])
    fractions = majority_vote(tasks, labels)
    assert fractions.shape == (2, 2)
    assert fractions.dtype == torch.get_default_dtype()
    assert majority_vote(tasks, labels, dtype=torch.float64).dtype == torch.float64
    assert majority_vote_labels(tasks, labels).dtype == torch.long


@pytest.mark.parametrize("device", DEVICES)
def test_result_lives_on_the_input_device(device):
    tasks = torch.tensor([0, 0, 1], device=device)
    labels = torch.tensor([1, 1, 0], device=device)
    assert majority_vote(tasks, labels).device == tasks.device
    assert majority_vote_labels(tasks, labels).device == tasks.device


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_matches_crowdkit_majority_vote():
    from crowdkit.aggregation import MajorityVote

    gen = torch.Generator().manual_seed(0)
    tasks = torch.arange(300).repeat_interleave(3)
    workers = torch.randint(0, 7, tasks.shape, generator=gen)
    labels = torch.randint(0, 4, tasks.shape, generator=gen)
    frame = pd.DataFrame({"task": tasks.numpy(), "worker": workers.numpy(),
                          "label": labels.numpy()})
    theirs = MajorityVote().fit_predict_proba(frame).reindex(columns=range(4), fill_value=0.0)
    ours = majority_vote(tasks, labels, num_classes=4, dtype=torch.float64)
    torch.testing.assert_close(ours, torch.tensor(theirs.sort_index().to_numpy()))


# ---------------------------------------------------------------- validation

GOOD_TASKS = torch.tensor([0, 0, 1])
GOOD_LABELS = torch.tensor([0, 1, 1])


@pytest.mark.parametrize("function", [majority_vote, majority_vote_labels])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tasks": GOOD_TASKS.float()}, "tasks"),
        ({"tasks": GOOD_TASKS.int()}, "tasks"),
        ({"tasks": GOOD_TASKS.view(3, 1)}, "tasks"),
        ({"labels": GOOD_LABELS[:2]}, "labels"),
        ({"tasks": torch.tensor([0, -1, 1])}, "tasks"),
        ({"labels": torch.tensor([0, -2, 1])}, "labels"),
        ({"labels": torch.tensor([0, 1, 3]), "num_classes": 3}, "labels"),
        ({"num_classes": 0}, "num_classes"),
        ({"num_tasks": 1}, "num_tasks"),
        ({"num_tasks": 2.0}, "num_tasks"),
        ({"tasks": GOOD_TASKS[:0], "labels": GOOD_LABELS[:0]}, "`tasks` must hold at least one"),
        ({"labels": GOOD_LABELS.to("meta")}, "`labels` must be on the same device"),
        ({"tasks": np.array([0.0, 0.0, 1.0])}, "`tasks` must hold integer ids, got dtype float"),
        ({"labels": pd.Series(["a", "b", "b"])}, "`labels` must hold integer ids.*factorize"),
        ({"labels": pd.Series([0, None, 1], dtype="Int64")}, "`labels` must hold integer ids"),
        ({"tasks": np.array([True, False, True])}, "`tasks` must hold integer ids"),
        ({"tasks": np.zeros((3, 1), dtype=np.int64)}, "`tasks` must be 1-D"),
        ({"labels": [0, 1]}, "`labels` must have the same length"),
        ({"labels": np.array([0, 1, 3]), "num_classes": 3}, "`labels` must hold ids smaller"),
        ({"num_tasks": np.int64(1)}, "`tasks` must hold ids smaller than `num_tasks` = 1"),
        ({"num_tasks": True}, "num_tasks"),
    ],
)
def test_rejects_bad_input(function, kwargs, match):
    arguments = {"tasks": GOOD_TASKS, "labels": GOOD_LABELS, **kwargs}
    with pytest.raises(ValueError, match=match):
        function(**arguments)


def test_rejects_non_floating_dtype():
    with pytest.raises(ValueError, match="dtype"):
        majority_vote(GOOD_TASKS, GOOD_LABELS, dtype=torch.long)


# ---------------------------------------------------------------- table columns


@pytest.mark.parametrize("function", [majority_vote, majority_vote_labels])
@pytest.mark.parametrize(
    "convert",
    [
        np.asarray,
        lambda column: np.asarray(column, dtype=np.int16),
        lambda column: np.asarray(column, dtype=np.uint32),
        pd.Series,
        lambda column: pd.Series(column, dtype="Int64"),
        lambda column: pd.Index(column),
        lambda column: column.tolist(),
    ],
    ids=["int64", "int16", "uint32", "series", "nullable", "index", "list"],
)
def test_takes_table_columns(function, convert):
    gen = torch.Generator().manual_seed(1)
    tasks = torch.arange(40).repeat_interleave(3)
    labels = torch.randint(0, 4, tasks.shape, generator=gen)
    expected = function(tasks, labels)
    result = function(convert(tasks.numpy()), convert(labels.numpy()))
    assert isinstance(result, torch.Tensor) and result.device == torch.device("cpu")
    torch.testing.assert_close(result, expected, rtol=0, atol=0)


def test_columns_of_a_data_frame():
    frame = pd.DataFrame({"item": ["b", "a", "a", "b", "b"], "label": [2, 0, 0, 1, 2]})
    tasks, names = pd.factorize(frame["item"])
    votes = majority_vote(tasks, frame["label"], num_classes=3)
    assert names.tolist() == ["b", "a"]
    torch.testing.assert_close(votes, torch.tensor([[0, 1 / 3, 2 / 3], [1.0, 0, 0]]))


# ---------------------------------------------------------------- validate_args


@pytest.mark.parametrize("function", [majority_vote, majority_vote_labels])
def test_value_checks_are_read_back_once(monkeypatch, function):
    module = sys.modules["xenthelpers.crowds.majority"]
    calls = []
    original = module.run_deferred
    monkeypatch.setattr(module, "run_deferred", lambda *c: calls.append(len(c)) or original(*c))
    function(GOOD_TASKS, GOOD_LABELS, num_classes=2, num_tasks=2)
    function(GOOD_TASKS, GOOD_LABELS, validate_args=False)
    assert calls == [2]


@pytest.mark.parametrize("function", [majority_vote, majority_vote_labels])
def test_no_host_read_with_counts_given_and_validate_args_false(monkeypatch, function):
    expected = function(GOOD_TASKS, GOOD_LABELS, num_classes=2, num_tasks=2)

    def read(*args, **kwargs):
        raise AssertionError("a tensor was read back to the host")

    for method in ("tolist", "item", "__bool__", "__int__", "__float__", "__index__"):
        monkeypatch.setattr(torch.Tensor, method, read)
    result = function(GOOD_TASKS, GOOD_LABELS, num_classes=2, num_tasks=2,
                      validate_args=False)
    with pytest.raises(AssertionError, match="read back"):  # the patch works
        function(GOOD_TASKS, GOOD_LABELS, num_classes=2, num_tasks=2)
    monkeypatch.undo()
    torch.testing.assert_close(result, expected, rtol=0, atol=0)


@NEEDS_CUDA
@pytest.mark.parametrize("function", [majority_vote, majority_vote_labels])
def test_one_synchronisation_to_validate_none_without(function):
    tasks, labels = GOOD_TASKS.cuda(), GOOD_LABELS.cuda()
    counts = {"num_classes": 2, "num_tasks": 2}
    assert cuda_synchronisations(lambda: function(tasks, labels, **counts)) == 1
    assert cuda_synchronisations(lambda: function(tasks, labels, **counts,
                                                  validate_args=False)) == 0


def test_default_counts_read_the_ids_even_without_validation():
    # num_tasks=None means tasks.max() + 1: the ids decide the shape of the result.
    tasks = torch.tensor([0, 4])
    labels = torch.tensor([1, 0])
    assert majority_vote(tasks, labels, validate_args=False).shape == (5, 2)

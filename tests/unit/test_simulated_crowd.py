"""Tests for xenthelpers.data.simulated_crowd."""

from __future__ import annotations

import pytest
import torch

from xenthelpers.data import SimulatedCrowd, simulate_crowd, worker_confusion_matrix

KINDS = ["reliable", "noisy", "spammer", "adversarial"]


def crowd(num_tasks=1000, num_classes=3, kinds=KINDS, *, per_task=3, seed=0, **options):
    gen = torch.Generator().manual_seed(seed)
    return simulate_crowd(num_tasks, num_classes, kinds, annotations_per_task=per_task,
                          generator=gen, **options)


# ---------------------------------------------------------------- worker_confusion_matrix


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_classes", [2, 3, 7])
def test_confusion_rows_are_distributions(kind, num_classes):
    matrix = worker_confusion_matrix(kind, num_classes)
    assert matrix.shape == (num_classes, num_classes)
    assert bool((matrix >= 0).all())
    torch.testing.assert_close(matrix.sum(dim=1), torch.ones(num_classes))


def test_confusion_matrices_of_each_kind():
    eye = torch.eye(4)
    torch.testing.assert_close(worker_confusion_matrix("reliable", 4),
                               0.9 * eye + 0.1 / 3 * (1 - eye))
    torch.testing.assert_close(worker_confusion_matrix("noisy", 4),
                               0.6 * eye + 0.4 / 3 * (1 - eye))
    torch.testing.assert_close(worker_confusion_matrix("spammer", 4), torch.full((4, 4), 0.25))
    adversarial = worker_confusion_matrix("adversarial", 4)
    assert adversarial.argmax(dim=1).tolist() == [1, 2, 3, 0]
    torch.testing.assert_close(adversarial.amax(dim=1), torch.full((4,), 0.9))


def test_two_class_adversary_swaps_the_labels():
    torch.testing.assert_close(worker_confusion_matrix("adversarial", 2),
                               torch.tensor([[0.1, 0.9], [0.9, 0.1]]))


# ---------------------------------------------------------------- simulate_crowd


def test_shapes_dtypes_and_layout():
    result = crowd(500, 4, KINDS * 2, per_task=5)
    assert isinstance(result, SimulatedCrowd)
    assert result.true_labels.shape == (500,)
    for column in (result.tasks, result.workers, result.labels):
        assert column.shape == (2500,) and column.dtype == torch.long
    assert result.tasks.tolist() == [task for task in range(500) for _ in range(5)]
    assert int(result.workers.max()) < 8 and int(result.labels.max()) < 4
    assert int(result.true_labels.max()) < 4 and int(result.true_labels.min()) >= 0
    expected = torch.stack([worker_confusion_matrix(kind, 4) for kind in KINDS * 2])
    torch.testing.assert_close(result.confusions, expected)


def test_each_task_gets_distinct_workers_spread_evenly():
    result = crowd(6000, 3, KINDS * 2, per_task=4)
    per_task = result.workers.view(6000, 4).sort(dim=1).values
    assert bool((per_task[:, 1:] != per_task[:, :-1]).all())
    # Each worker labels a task with probability 4/8: 3000 +- 39 (one standard deviation).
    shares = torch.bincount(result.workers, minlength=8)
    assert int((shares - 3000).abs().max()) < 200


def test_labels_follow_the_confusion_matrices():
    # 30000 tasks x 2 of 4 workers: about 5000 annotations per (worker, true class) row,
    # a binomial standard error of at most sqrt(0.25 / 5000) = 0.007; 5 of those bound all
    # 36 entries.
    result = crowd(30_000, 3, KINDS, per_task=2, seed=1)
    counts = torch.zeros(4, 3, 3)
    index = (result.workers, result.true_labels[result.tasks], result.labels)
    counts.index_put_(index, torch.ones(result.labels.shape), accumulate=True)
    empirical = counts / counts.sum(dim=2, keepdim=True)
    assert float((empirical - result.confusions).abs().max()) < 0.035


def test_true_labels_follow_the_class_prior():
    prior = torch.tensor([0.7, 0.2, 0.1])
    result = crowd(20_000, 3, KINDS, class_prior=prior)
    frequencies = torch.bincount(result.true_labels, minlength=3) / 20_000
    # Standard error at most sqrt(0.25 / 20000) = 0.0035.
    assert float((frequencies - prior).abs().max()) < 0.018
    uniform = torch.bincount(crowd(20_000, 3, KINDS).true_labels, minlength=3) / 20_000
    assert float((uniform - 1 / 3).abs().max()) < 0.018


def test_a_seeded_generator_reproduces_the_draw():
    first, again, other = crowd(seed=7), crowd(seed=7), crowd(seed=8)
    for a, b in zip(first, again):
        assert torch.equal(a, b)
    assert not torch.equal(first.labels, other.labels)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"num_tasks": 0}, "num_tasks"),
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 2.0}, "num_classes"),
        ({"worker_kinds": []}, "worker_kinds"),
        ({"worker_kinds": "reliable"}, "worker_kinds"),
        ({"worker_kinds": ["reliable", "expert"]}, "worker_kinds"),
        ({"annotations_per_task": 0}, "annotations_per_task"),
        ({"annotations_per_task": 5}, "annotations_per_task"),
        ({"class_prior": torch.tensor([0.5, 0.5])}, "class_prior"),
        ({"class_prior": torch.tensor([0.5, 0.2, 0.2])}, "class_prior"),
        ({"class_prior": torch.tensor([1.2, -0.1, -0.1])}, "class_prior"),
        ({"class_prior": torch.tensor([1, 0, 0])}, "class_prior"),
    ],
)
def test_rejects_bad_input(changes, match):
    arguments = {"num_tasks": 10, "num_classes": 3, "worker_kinds": KINDS,
                 "annotations_per_task": 2, **changes}
    with pytest.raises(ValueError, match=match):
        simulate_crowd(**arguments)


@pytest.mark.parametrize(("kind", "num_classes", "match"),
                         [("expert", 3, "kind"), ("noisy", 1, "num_classes")])
def test_confusion_matrix_rejects_bad_input(kind, num_classes, match):
    with pytest.raises(ValueError, match=match):
        worker_confusion_matrix(kind, num_classes)

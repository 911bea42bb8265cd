"""Tests for xenthelpers.crowds.dawid_skene."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from tests.unit.devices import DEVICES
from xenthelpers.crowds import (
    DawidSkeneResult,
    dawid_skene,
    majority_vote,
    majority_vote_labels,
)
from xenthelpers.data import simulate_crowd

FEW = settings(max_examples=25, deadline=None)
F64 = {"dtype": torch.float64}
# A tolerance no real iteration meets, to run exactly `max_iter` EM iterations.
NEVER = 1e-300


@st.composite
def annotation_sets(draw):
    """Random long-format annotations; every task id in [0, N) is annotated at least once."""
    num_tasks = draw(st.integers(1, 6))
    num_workers = draw(st.integers(1, 4))
    num_classes = draw(st.integers(2, 4))
    extra = draw(st.lists(st.integers(0, num_tasks - 1), max_size=18))
    tasks = list(range(num_tasks)) + extra
    size = len(tasks)
    workers = draw(st.lists(st.integers(0, num_workers - 1), min_size=size, max_size=size))
    labels = draw(st.lists(st.integers(0, num_classes - 1), min_size=size, max_size=size))
    return torch.tensor(tasks), torch.tensor(workers), torch.tensor(labels), num_classes


def simulated(num_tasks, kinds, *, num_classes=3, per_task=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return simulate_crowd(num_tasks, num_classes, kinds, annotations_per_task=per_task,
                          generator=gen)


def reference_em(tasks, workers, labels, num_classes, num_iter, *, prior_strength=None,
                 smoothing=None, num_workers=None):
    """Dawid–Skene EM written plainly, one annotation at a time, in NumPy.

    The M-step adds `smoothing` to every confusion cell when it is given; otherwise it
    mixes each worker's frequencies with the pooled rows mu, with weight
    K s / (n_w + K s) on mu for a worker with n_w annotations.
    Returns posteriors, confusions, priors, log-likelihood and mu.
    """
    tasks, workers, labels = (np.asarray(x) for x in (tasks, workers, labels))
    num_tasks = tasks.max() + 1
    num_workers = num_workers or workers.max() + 1
    label_shares = np.bincount(labels, minlength=num_classes) / len(labels)
    worker_sizes = np.bincount(workers, minlength=num_workers)
    posteriors = np.zeros((num_tasks, num_classes))
    for task, label in zip(tasks, labels):
        posteriors[task, label] += 1
    posteriors /= posteriors.sum(axis=1, keepdims=True)
    for _ in range(num_iter):
        counts = np.zeros((num_workers, num_classes, num_classes))  # worker, true, reported
        for task, worker, label in zip(tasks, workers, labels):
            counts[worker, :, label] += posteriors[task]
        if smoothing is not None:
            counts += smoothing
            confusions = counts / counts.sum(axis=2, keepdims=True)
            mu = None
        else:
            s = prior_strength
            pooled = counts.sum(axis=0)
            mu = (pooled + s * label_shares) / (pooled.sum(axis=1, keepdims=True) + s)
            confusions = np.empty_like(counts)
            for worker in range(num_workers):
                pull = num_classes * s / (worker_sizes[worker] + num_classes * s)
                for k in range(num_classes):
                    mass = counts[worker, k].sum()
                    own = counts[worker, k] / mass if mass > 0 else mu[k]
                    confusions[worker, k] = (1 - pull) * own + pull * mu[k]
        priors = posteriors.mean(axis=0)
        log_joint = np.tile(np.log(priors), (num_tasks, 1))
        for task, worker, label in zip(tasks, workers, labels):
            log_joint[task] += np.log(confusions[worker, :, label])
        log_evidence = logsumexp(log_joint, axis=1, keepdims=True)
        posteriors = np.exp(log_joint - log_evidence)
    return posteriors, confusions, priors, float(log_evidence.sum()), mu


def overlap_case(num_workers):
    """crowd-kit's `test_dawid_skene_overlap`: every worker labels the three tasks and
    answers "no" (0) on task `worker % 3`, "yes" (1) on the other two. The answers say
    nothing about which task is which: each task gets one "no" in three."""
    workers = np.repeat(np.arange(num_workers), 3)
    tasks = np.tile(np.arange(3), num_workers)
    labels = np.where((workers - tasks) % 3 != 0, 1, 0)
    return tasks, workers, labels


def oracle_confusions(crowd):
    """Each worker's empirical confusion matrix, counted against the true labels."""
    num_workers, num_classes, _ = crowd.confusions.shape
    counts = torch.zeros(num_workers, num_classes, num_classes, dtype=torch.float64)
    index = (crowd.workers, crowd.true_labels[crowd.tasks], crowd.labels)
    counts.index_put_(index, torch.ones(crowd.labels.shape, dtype=torch.float64),
                      accumulate=True)
    return counts / counts.sum(dim=2, keepdim=True)


# ---------------------------------------------------------------- the algorithm itself


@pytest.mark.parametrize("num_iter", [1, 2, 5])
@pytest.mark.parametrize("prior_strength", [1e-3, 1.0, 7.0])
def test_matches_a_plain_loop_implementation(num_iter, prior_strength):
    crowd = simulated(40, ["reliable", "noisy", "spammer", "adversarial"], per_task=3, seed=1)
    columns = (crowd.tasks, crowd.workers, crowd.labels)
    # Worker 4 gave no answer: its matrix is the pooled one.
    expected = reference_em(*columns, 3, num_iter, prior_strength=prior_strength, num_workers=5)
    result = dawid_skene(*columns, max_iter=num_iter, num_workers=5, tol=NEVER,
                         prior_strength=prior_strength, **F64)
    assert result.num_iter == num_iter and not result.converged
    for ours, theirs in zip(result[:3], expected[:3]):
        torch.testing.assert_close(ours, torch.from_numpy(theirs), rtol=1e-10, atol=1e-12)
    assert result.log_likelihood == pytest.approx(expected[3], rel=1e-12)
    torch.testing.assert_close(result.confusions[4], torch.from_numpy(expected[4]),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("num_iter", [1, 2, 5])
@pytest.mark.parametrize("smoothing", [1e-3, 0.5])
def test_deprecated_smoothing_keeps_the_former_prior(num_iter, smoothing):
    crowd = simulated(40, ["reliable", "noisy", "spammer", "adversarial"], per_task=3, seed=1)
    expected = reference_em(crowd.tasks, crowd.workers, crowd.labels, 3, num_iter,
                            smoothing=smoothing)
    with pytest.warns(DeprecationWarning, match="`smoothing`.*`prior_strength`"):
        result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, max_iter=num_iter,
                             tol=NEVER, smoothing=smoothing, **F64)
    assert result.num_iter == num_iter and not result.converged
    for ours, theirs in zip(result[:3], expected[:3]):
        torch.testing.assert_close(ours, torch.from_numpy(theirs), rtol=1e-10, atol=1e-12)
    assert result.log_likelihood == pytest.approx(expected[3], rel=1e-12)


@FEW
@given(annotation_sets())
def test_outputs_are_distributions(data):
    tasks, workers, labels, num_classes = data
    result = dawid_skene(tasks, workers, labels, num_classes=num_classes, max_iter=30, **F64)
    assert isinstance(result, DawidSkeneResult)
    num_tasks, num_workers = int(tasks.max()) + 1, int(workers.max()) + 1
    assert result.posteriors.shape == (num_tasks, num_classes)
    assert result.confusions.shape == (num_workers, num_classes, num_classes)
    for probabilities in (result.posteriors, result.confusions, result.priors):
        assert bool(torch.isfinite(probabilities).all())
        assert bool((probabilities >= 0).all())
        torch.testing.assert_close(probabilities.sum(dim=-1),
                                   torch.ones(probabilities.shape[:-1], **F64))
    assert math.isfinite(result.log_likelihood) and result.log_likelihood <= 0
    assert 1 <= result.num_iter <= 30


@settings(max_examples=15, deadline=None)
@given(annotation_sets())
@pytest.mark.filterwarnings("ignore:`smoothing`:DeprecationWarning")
def test_em_with_the_former_prior_never_decreases_its_objective(data):
    # With a fixed pseudo-count alpha, each M-step maximises the expected complete
    # log-likelihood plus alpha * sum(log theta), so EM climbs l(theta, pi) + alpha *
    # sum(log theta). (The default prior moves its centre with the posteriors, so it has
    # no such fixed objective.)
    tasks, workers, labels, num_classes = data
    smoothing = 0.3
    objectives = []
    for num_iter in range(1, 6):
        result = dawid_skene(tasks, workers, labels, num_classes=num_classes, tol=NEVER,
                             max_iter=num_iter, smoothing=smoothing, **F64)
        penalty = smoothing * float(result.confusions.log().sum())
        objectives.append(result.log_likelihood + penalty)
    for before, after in zip(objectives, objectives[1:]):
        assert after >= before - 1e-9 * (1 + abs(before))


@settings(max_examples=25, deadline=None)
@given(annotation_sets())
def test_converges_on_small_random_crowds(data):
    tasks, workers, labels, num_classes = data
    result = dawid_skene(tasks, workers, labels, num_classes=num_classes, tol=1e-8,
                         max_iter=10_000, **F64)
    assert result.converged


@pytest.mark.parametrize("tol", [1e-3, 1e-5, 1e-7])
def test_stops_at_the_first_small_change_of_log_likelihood_per_annotation(tol):
    crowd = simulated(400, ["reliable", "noisy", "noisy", "spammer", "adversarial"], per_task=3)
    columns = (crowd.tasks, crowd.workers, crowd.labels)
    result = dawid_skene(*columns, tol=tol, max_iter=1000, **F64)
    assert result.converged and result.num_iter >= 3
    last_three = [
        dawid_skene(*columns, max_iter=result.num_iter - back, tol=NEVER, **F64).log_likelihood
        for back in (2, 1, 0)
    ]
    assert last_three[2] == result.log_likelihood
    num_annotations = crowd.tasks.numel()
    assert abs(last_three[2] - last_three[1]) / num_annotations < tol
    assert abs(last_three[1] - last_three[0]) / num_annotations >= tol


def test_invariant_to_the_order_of_annotation_rows():
    crowd = simulated(500, ["reliable"] * 3 + ["spammer", "adversarial"], per_task=3)
    order = torch.randperm(crowd.tasks.numel(), generator=torch.Generator().manual_seed(1))
    result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, **F64)
    shuffled = dawid_skene(crowd.tasks[order], crowd.workers[order], crowd.labels[order], **F64)
    assert shuffled.num_iter == result.num_iter
    for ours, theirs in zip(shuffled[:3], result[:3]):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)


def test_equivariant_to_renaming_tasks_workers_and_classes():
    crowd = simulated(300, ["reliable", "noisy", "noisy", "spammer", "adversarial"], per_task=3)
    gen = torch.Generator().manual_seed(2)
    task_names = torch.randperm(300, generator=gen)
    worker_names = torch.randperm(5, generator=gen)
    class_names = torch.tensor([2, 0, 1])
    result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, tol=1e-12, **F64)
    renamed = dawid_skene(task_names[crowd.tasks], worker_names[crowd.workers],
                          class_names[crowd.labels], tol=1e-12, **F64)
    expected_posteriors = torch.empty_like(result.posteriors)
    expected_posteriors[task_names[:, None], class_names] = result.posteriors
    expected_confusions = torch.empty_like(result.confusions)
    expected_confusions[worker_names[:, None, None], class_names[:, None], class_names] = (
        result.confusions
    )
    torch.testing.assert_close(renamed.posteriors, expected_posteriors, rtol=0, atol=1e-9)
    torch.testing.assert_close(renamed.confusions, expected_confusions, rtol=0, atol=1e-9)
    torch.testing.assert_close(renamed.priors[class_names], result.priors, rtol=0, atol=1e-9)


# ---------------------------------------------------------------- what it recovers


def test_recovers_the_true_confusion_matrices():
    # 20000 tasks x 5 annotations over 10 workers and 3 classes: about 3333 annotations per
    # (worker, true class) row, so each estimated entry has a binomial standard error of at
    # most sqrt(0.25 / 3333) = 0.0087; 5 of those (0.043) bound the sampling error of all 90
    # entries. Not knowing the true labels costs less than 0.01 more: the estimate stays
    # within 0.02 of the confusions counted against the true labels.
    kinds = ["reliable"] * 3 + ["noisy"] * 3 + ["spammer"] * 2 + ["adversarial"] * 2
    crowd = simulated(20_000, kinds)
    result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, tol=1e-8, **F64)
    assert result.converged
    truth = crowd.confusions.to(torch.float64)
    assert float((result.confusions - truth).abs().max()) < 0.05
    assert float((result.confusions - oracle_confusions(crowd)).abs().max()) < 0.02
    assert float((result.priors - 1 / 3).abs().max()) < 0.02


def test_beats_majority_vote_with_spammers_and_adversaries():
    # Majority vote is right on under two thirds of the tasks with this crowd, Dawid-Skene on
    # about 95% (3000 tasks: a standard error under 0.01 on each accuracy).
    kinds = ["reliable"] * 3 + ["noisy"] * 2 + ["spammer"] * 3 + ["adversarial"] * 2
    crowd = simulated(3000, kinds, seed=3)
    result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels)
    ds_accuracy = (result.posteriors.argmax(dim=1) == crowd.true_labels).double().mean()
    mv_labels = majority_vote_labels(crowd.tasks, crowd.labels, num_classes=3)
    mv_accuracy = (mv_labels == crowd.true_labels).double().mean()
    assert ds_accuracy > 0.9
    assert ds_accuracy > mv_accuracy + 0.15


def test_reads_an_adversarial_worker_backwards():
    crowd = simulated(3000, ["reliable"] * 4 + ["adversarial"], num_classes=2, per_task=3)
    result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels)
    adversary = result.confusions[4]
    assert adversary[0, 1] > 0.85 and adversary[1, 0] > 0.85


# ---------------------------------------------------------------- cross-check with crowd-kit


def crowdkit_arrays(model, num_workers, num_classes):
    """crowd-kit's posteriors, confusions (true class x reported label) and priors."""
    errors = model.errors_.reindex(columns=range(num_classes))  # rows (worker, reported)
    confusions = np.zeros((num_workers, num_classes, num_classes))
    for (worker, reported), row in errors.iterrows():
        confusions[worker, :, reported] = row.to_numpy()
    posteriors = model.probas_.reindex(columns=range(num_classes)).sort_index()
    priors = model.priors_.reindex(range(num_classes))
    return posteriors.to_numpy(copy=True), confusions, priors.to_numpy(copy=True)


def crowdkit_fit(crowd, **options):
    from crowdkit.aggregation import DawidSkene

    frame = pd.DataFrame({"task": crowd.tasks.numpy(), "worker": crowd.workers.numpy(),
                          "label": crowd.labels.numpy()})
    model = DawidSkene(**options).fit(frame)
    return crowdkit_arrays(model, *crowd.confusions.shape[:2])


CROSS_CHECK_KINDS = ["reliable"] * 4 + ["noisy"] * 2 + ["spammer"] * 2 + ["adversarial"] * 2


@pytest.mark.filterwarnings("ignore:The copy keyword", "ignore:The inplace keyword")
def test_follows_crowdkit_iteration_by_iteration():
    # Both start from the soft majority vote and run the same EM steps. crowd-kit clips
    # confusion counts at 1e-10 instead of using a prior, so our prior weighs 1e-10
    # pseudo-annotations; it runs all n_iter iterations when tol = -inf. Its n-th iteration
    # ends with the M-step that our (n + 1)-th iteration starts with, hence two calls.
    crowd = simulated(500, CROSS_CHECK_KINDS, per_task=4, seed=5)
    posteriors, confusions, priors = crowdkit_fit(crowd, n_iter=6, tol=-math.inf)
    options = {"tol": NEVER, "prior_strength": 1e-10, **F64}
    after_e_step = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, max_iter=6, **options)
    after_m_step = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, max_iter=7, **options)
    torch.testing.assert_close(after_e_step.posteriors, torch.from_numpy(posteriors),
                               rtol=0, atol=1e-8)
    torch.testing.assert_close(after_m_step.confusions, torch.from_numpy(confusions),
                               rtol=0, atol=1e-8)
    torch.testing.assert_close(after_m_step.priors, torch.from_numpy(priors), rtol=0, atol=1e-8)


@pytest.mark.filterwarnings("ignore:The copy keyword", "ignore:The inplace keyword")
def test_agrees_with_crowdkit_at_its_default_stopping_rule():
    # With a negligible prior the two differ only in the stopping rule (log-likelihood
    # against crowd-kit's evidence lower bound, both per annotation), so they may stop a
    # few iterations apart; labels and estimates still agree.
    crowd = simulated(2000, CROSS_CHECK_KINDS, per_task=4, seed=6)
    posteriors, confusions, priors = crowdkit_fit(crowd)
    result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, prior_strength=1e-10, **F64)
    agreement = (result.posteriors.argmax(dim=1).numpy() == posteriors.argmax(axis=1)).mean()
    assert agreement >= 0.995
    assert np.abs(result.confusions.numpy() - confusions).max() < 5e-3
    assert np.abs(result.priors.numpy() - priors).max() < 5e-3
    assert np.abs(result.posteriors.numpy() - posteriors).mean() < 2e-4


@pytest.mark.filterwarnings("ignore:The copy keyword", "ignore:The inplace keyword")
def test_default_prior_moves_crowdkit_estimates_by_at_most_its_weight():
    # Each worker answers about 800 tasks. The default prior, K = 3 pseudo-annotations
    # per worker, moves an entry from the raw frequency towards the pooled matrix by
    # 3 / (n_w + 3) times their gap, under 3 / (min n_w + 3); the stopping rules add less
    # than 1e-3 (previous test). The labels agree as before.
    crowd = simulated(2000, CROSS_CHECK_KINDS, per_task=4, seed=6)
    posteriors, confusions, priors = crowdkit_fit(crowd)
    result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, **F64)
    agreement = (result.posteriors.argmax(dim=1).numpy() == posteriors.argmax(axis=1)).mean()
    assert agreement >= 0.995
    pull = 3 / (int(torch.bincount(crowd.workers).min()) + 3)
    assert np.abs(result.confusions.numpy() - confusions).max() < pull + 1e-3
    assert np.abs(result.priors.numpy() - priors).max() < 5e-3


# ---------------------------------------------------------------- many workers, few labels


@pytest.mark.parametrize("num_workers", [3, 300, 30_000])
@pytest.mark.parametrize("tol", [1e-5, 1e-12])
def test_answers_that_cannot_tell_tasks_apart_keep_the_vote_shares(num_workers, tol):
    # crowd-kit's DawidSkene returns (1/3, 2/3) for every task and as priors, within
    # 0.005. A pseudo-count added to every confusion cell would make each worker's "no"
    # row (posterior mass 1/3) more uniform than its "yes" row (mass 2/3): a spurious
    # piece of evidence per worker that 30,000 workers add up to a confident, arbitrary
    # labelling. The default prior keeps the rows equal.
    tasks, workers, labels = overlap_case(num_workers)
    result = dawid_skene(tasks, workers, labels, tol=tol, max_iter=1000, **F64)
    shares = torch.tensor([1 / 3, 2 / 3], **F64)
    assert result.converged
    torch.testing.assert_close(result.posteriors, shares.expand(3, 2), rtol=0, atol=1e-9)
    torch.testing.assert_close(result.priors, shares, rtol=0, atol=1e-9)
    assert result.posteriors.argmax(dim=1).tolist() == [1, 1, 1]


@pytest.mark.filterwarnings("ignore:The copy keyword", "ignore:The inplace keyword")
def test_answers_that_cannot_tell_tasks_apart_match_crowdkit():
    from crowdkit.aggregation import DawidSkene

    tasks, workers, labels = overlap_case(300)
    frame = pd.DataFrame({"task": tasks, "worker": workers,
                          "label": np.where(labels == 1, "yes", "no")})
    theirs = DawidSkene(20).fit(frame)
    ours = dawid_skene(pd.Series(tasks), pd.Series(workers), pd.Series(labels), **F64)
    expected = torch.tensor(theirs.probas_.sort_index()[["no", "yes"]].to_numpy())
    torch.testing.assert_close(ours.posteriors, expected, rtol=0, atol=1e-9)
    priors = torch.tensor(theirs.priors_[["no", "yes"]].to_numpy())
    torch.testing.assert_close(ours.priors, priors, rtol=0, atol=1e-9)


@FEW
@given(st.data())
def test_answers_that_say_nothing_leave_the_vote_shares_whoever_gave_them(data):
    # Every task gets the same answers, from workers drawn at random: the soft majority
    # vote is the same for every task, and with it every worker's rows are equal, so EM
    # must stay there (the likelihood cannot tell the tasks apart).
    num_tasks = data.draw(st.integers(2, 8))
    answers = data.draw(st.lists(st.integers(0, 2), min_size=2, max_size=6))
    num_workers = data.draw(st.integers(1, 3 * len(answers)))
    workers = data.draw(st.lists(st.integers(0, num_workers - 1),
                                 min_size=num_tasks * len(answers),
                                 max_size=num_tasks * len(answers)))
    tasks = np.repeat(np.arange(num_tasks), len(answers))
    labels = np.tile(answers, num_tasks)
    result = dawid_skene(tasks, workers, labels, num_classes=3, tol=1e-12, max_iter=500,
                         **F64)
    shares = torch.bincount(torch.tensor(answers), minlength=3).double() / len(answers)
    torch.testing.assert_close(result.posteriors, shares.expand(num_tasks, 3), rtol=0,
                               atol=1e-9)


@pytest.mark.filterwarnings("ignore:`smoothing`:DeprecationWarning")
def test_one_uninformative_label_per_worker_gives_no_labelling():
    # 2,500 workers each answer one of 500 tasks, "yes" with probability 2/3 whatever the
    # task. Every task should end with the same posterior; a pseudo-count per cell lets
    # every worker vote for the class that leads and ends certain that all are "yes".
    gen = np.random.default_rng(0)
    tasks = np.repeat(np.arange(500), 5)
    workers = gen.permutation(2500)
    labels = (gen.random(2500) < 2 / 3).astype(np.int64)
    result = dawid_skene(tasks, workers, labels, tol=1e-10, max_iter=1000, **F64)
    assert result.converged
    spread = result.posteriors[:, 1].max() - result.posteriors[:, 1].min()
    assert float(spread) < 1e-4
    uniform = dawid_skene(tasks, workers, labels, tol=1e-10, max_iter=1000, smoothing=0.01,
                          **F64)
    assert float(uniform.posteriors[:, 1].min()) > 0.999


@pytest.mark.filterwarnings("ignore:`smoothing`:DeprecationWarning")
def test_one_label_per_worker_gains_from_the_prior():
    # 2,500 workers, half reliable (0.9) and half noisy (0.6), each answer one of 500
    # tasks, five answers per task. Over seeds 0 to 4 the default prior was right on 84%
    # to 88% of the tasks, 11 to 15 points more than a pseudo-count of 0.01 per cell on
    # the same crowd; the paired difference has a standard error of about 0.02 over 500
    # tasks, so we assert a gain of 5 points.
    crowd = simulated(500, ["reliable"] * 1250 + ["noisy"] * 1250, num_classes=2)
    columns = (crowd.tasks, crowd.workers, crowd.labels)
    prior = dawid_skene(*columns, num_workers=2500, **F64)
    uniform = dawid_skene(*columns, num_workers=2500, smoothing=0.01, **F64)
    accuracy = {name: float((fit.posteriors.argmax(dim=1) == crowd.true_labels).double().mean())
                for name, fit in (("prior", prior), ("uniform", uniform))}
    assert accuracy["prior"] > accuracy["uniform"] + 0.05


# ---------------------------------------------------------------- edge cases


def test_worked_example():
    tasks = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4])
    workers = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    labels = torch.tensor([0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1])
    result = dawid_skene(tasks, workers, labels)
    assert result.posteriors.argmax(dim=1).tolist() == [0, 1, 0, 1, 0]
    assert majority_vote_labels(tasks, labels).tolist() == [0, 1, 0, 1, 1]
    assert result.converged


def test_unseen_tasks_get_the_priors_and_unseen_workers_the_pooled_matrix():
    crowd = simulated(200, ["reliable"] * 3 + ["spammer"], per_task=3)
    columns = (crowd.tasks, crowd.workers, crowd.labels)
    result = dawid_skene(*columns, num_tasks=203, num_workers=6, **F64)
    assert result.posteriors.shape == (203, 3) and result.confusions.shape == (6, 3, 3)
    torch.testing.assert_close(result.posteriors[200:], result.priors.expand(3, 3))
    # Unseen tasks weigh in the class priors; without them, compare with the plain loop.
    result = dawid_skene(*columns, num_workers=6, **F64)
    pooled = reference_em(*columns, 3, result.num_iter, prior_strength=1.0)[4]
    for unseen in result.confusions[4:]:
        torch.testing.assert_close(unseen, torch.from_numpy(pooled), rtol=1e-10, atol=1e-12)


def test_with_the_uniform_pseudo_count_unseen_workers_get_uniform_rows():
    crowd = simulated(200, ["reliable"] * 3 + ["spammer"], per_task=3)
    with pytest.warns(DeprecationWarning):
        result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, num_workers=6,
                             smoothing=0.01, **F64)
    torch.testing.assert_close(result.confusions[4:], torch.full((2, 3, 3), 1 / 3, **F64))


def test_a_class_nobody_reports_stays_impossible_without_nan():
    crowd = simulated(200, ["reliable"] * 3, num_classes=2, per_task=3)
    result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, num_classes=4, **F64)
    assert bool(torch.isfinite(result.posteriors).all())
    assert float(result.posteriors[:, 2:].max()) == 0.0
    torch.testing.assert_close(result.posteriors.sum(dim=1), torch.ones(200, **F64))


def test_thousands_of_annotations_on_one_task_stay_finite():
    # The log-joint of this task reaches about -10^4: exponentiating it unshifted underflows.
    gen = torch.Generator().manual_seed(0)
    workers = torch.randint(0, 3, (6000,), generator=gen)
    labels = torch.randint(0, 3, (6000,), generator=gen)
    tasks = torch.zeros(6000, dtype=torch.long)
    result = dawid_skene(tasks, workers, labels, **F64)
    assert bool(torch.isfinite(result.posteriors).all())
    torch.testing.assert_close(result.posteriors.sum(dim=1), torch.ones(1, **F64))
    assert math.isfinite(result.log_likelihood) and result.log_likelihood < -5000


def test_one_iteration_cannot_converge():
    crowd = simulated(50, ["reliable"] * 3, per_task=3)
    result = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, max_iter=1)
    assert result.num_iter == 1 and not result.converged


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("device", DEVICES)
def test_dtype_and_device_of_the_result(dtype, device):
    crowd = simulated(50, ["reliable"] * 3, per_task=3)
    columns = (crowd.tasks.to(device), crowd.workers.to(device), crowd.labels.to(device))
    result = dawid_skene(*columns, dtype=dtype)
    for tensor in result[:3]:
        assert tensor.dtype == dtype and tensor.device == columns[0].device
    assert isinstance(result.num_iter, int) and isinstance(result.log_likelihood, float)
    assert dawid_skene(*columns[:3]).posteriors.dtype == torch.get_default_dtype()


def test_starting_from_the_majority_vote_is_the_default():
    crowd = simulated(200, ("reliable", "noisy", "spammer", "adversarial"), per_task=3, seed=3)
    start = majority_vote(crowd.tasks, crowd.labels, num_classes=3, dtype=torch.float64)
    default = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, **F64)
    explicit = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, init=start, **F64)
    assert torch.equal(default.posteriors, explicit.posteriors)
    assert default.num_iter == explicit.num_iter


def test_init_sets_the_first_m_step():
    tasks, workers, labels = GOOD["tasks"], GOOD["workers"], GOOD["labels"]
    start = torch.tensor([[0.9, 0.1], [0.2, 0.8]], dtype=torch.float64)
    ours = dawid_skene(tasks, workers, labels, init=start, max_iter=1, **F64)
    counts = torch.zeros(2, 2, 2, dtype=torch.float64)  # worker, true class, label
    for task, worker, label in zip(tasks, workers, labels):
        counts[worker, :, label] += start[task]
    label_shares = torch.tensor([0.25, 0.75], dtype=torch.float64)
    pooled = counts.sum(dim=0)
    centre = (pooled + label_shares) / (pooled.sum(dim=1, keepdim=True) + 1)
    pull = 2 / (2 + 2)  # two annotations per worker, K s = 2 pseudo-annotations
    expected = (1 - pull) * counts / counts.sum(dim=2, keepdim=True) + pull * centre
    assert torch.allclose(ours.confusions, expected)
    assert torch.allclose(ours.priors.new_tensor([0.55, 0.45]), ours.priors)


def test_a_start_at_an_adversarial_relabelling_stays_there():
    # Relabelling every class is a symmetry of the likelihood: from a start that
    # believes the adversaries, EM settles on their story.
    crowd = simulated(500, ("reliable",) * 2 + ("adversarial",) * 3, seed=1)
    truth = torch.nn.functional.one_hot(crowd.true_labels, 3).double()
    shifted = truth.roll(1, dims=1)
    fit = dawid_skene(crowd.tasks, crowd.workers, crowd.labels, init=shifted, **F64)
    guess = fit.posteriors.argmax(dim=1)
    assert bool((guess == (crowd.true_labels + 1) % 3).double().mean() > 0.9)


# ---------------------------------------------------------------- validation

GOOD = {
    "tasks": torch.tensor([0, 0, 1, 1]),
    "workers": torch.tensor([0, 1, 0, 1]),
    "labels": torch.tensor([0, 1, 1, 1]),
}


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"tasks": GOOD["tasks"].double()}, "`tasks` must be a 1-D tensor of dtype torch.long"),
        ({"workers": GOOD["workers"].int()}, "`workers` must be a 1-D tensor"),
        ({"labels": GOOD["labels"].view(2, 2)}, "`labels` must be a 1-D tensor"),
        ({"workers": GOOD["workers"][:3]}, "`workers` must have the same length"),
        ({"labels": GOOD["labels"][:3]}, "`labels` must have the same length"),
        ({"workers": GOOD["workers"].to("meta")}, "`workers` must be on the same device"),
        ({"tasks": torch.tensor([0, -1, 1, 1])}, "`tasks` must hold non-negative"),
        ({"workers": torch.tensor([0, 1, -3, 1])}, "`workers` must hold non-negative"),
        ({"labels": torch.tensor([0, 1, -1, 1])}, "`labels` must hold non-negative"),
        ({"labels": torch.tensor([0, 1, 2, 1]), "num_classes": 2}, "`labels` must hold ids"),
        ({"num_classes": 0}, "num_classes"),
        ({"num_tasks": 1}, "num_tasks"),
        ({"num_workers": 1}, "num_workers"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"tol": 0.0}, "tol"),
        ({"tol": -1e-3}, "tol"),
        ({"tol": float("nan")}, "tol"),
        ({"prior_strength": 0.0}, "prior_strength"),
        ({"prior_strength": float("inf")}, "prior_strength"),
        ({"prior_strength": "1"}, "prior_strength"),
        ({"smoothing": 0.0}, "smoothing"),
        ({"smoothing": float("inf")}, "smoothing"),
        ({"dtype": torch.int64}, "dtype"),
        ({"init": torch.full((2, 2), 0.5)[:1]}, "`init` must have shape"),
        ({"init": torch.full((2, 3), 1 / 3)}, "`init` must have shape"),
        ({"init": torch.tensor([[0.5, 0.5], [0.7, 0.7]])}, "`init` must sum to 1"),
        ({"init": torch.tensor([[1.5, -0.5], [0.5, 0.5]])}, "`init` must be non-negative"),
        ({"init": torch.tensor([[0.5, 0.5], [float("nan"), 0.5]])}, "init"),
        ({"init": torch.ones(2, 2, dtype=torch.long)}, "init"),
        ({"tasks": np.array([0.0, 0.0, 1.0, 1.0])}, "`tasks` must hold integer ids"),
        ({"workers": pd.Series(["a", "b", "a", "b"])}, "`workers` must hold integer ids"),
        ({"labels": [True, False, True, True]}, "`labels` must hold integer ids"),
        ({"labels": np.zeros((2, 2), dtype=np.int64)}, "`labels` must be 1-D"),
        ({"workers": "0101"}, "`workers` must hold integer ids"),
        ({"tasks": np.array([0, -1, 1, 1])}, "`tasks` must hold non-negative"),
        (
            {"tasks": GOOD["tasks"][:0], "workers": GOOD["workers"][:0],
             "labels": GOOD["labels"][:0]},
            "`tasks` must hold at least one annotation",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:`smoothing`:DeprecationWarning")
def test_rejects_bad_input(changes, match):
    with pytest.raises(ValueError, match=match):
        dawid_skene(**{**GOOD, **changes})


def test_rejects_a_non_tensor_init():
    with pytest.raises(TypeError, match="init"):
        dawid_skene(**GOOD, init=[[0.5, 0.5], [0.5, 0.5]])


# ---------------------------------------------------------------- table columns


@pytest.mark.parametrize(
    "convert",
    [
        np.asarray,
        lambda column: np.asarray(column, dtype=np.int32),
        lambda column: np.asarray(column, dtype=np.uint8),
        pd.Series,
        lambda column: pd.Series(column, dtype="Int64"),
        lambda column: pd.Series(column).astype("category").cat.codes,  # int8
        lambda column: column.tolist(),
    ],
    ids=["int64", "int32", "uint8", "series", "nullable", "codes", "list"],
)
def test_takes_table_columns(convert):
    crowd = simulated(200, ("reliable", "noisy", "spammer", "adversarial"), per_task=3, seed=3)
    columns = (crowd.tasks, crowd.workers, crowd.labels)
    expected = dawid_skene(*columns, **F64)
    result = dawid_skene(*(convert(column.numpy()) for column in columns), **F64)
    for ours, theirs in zip(result[:3], expected[:3]):
        assert isinstance(ours, torch.Tensor)
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    assert result.num_iter == expected.num_iter


def test_numpy_ids_and_counts_from_a_data_frame():
    frame = pd.DataFrame({"task": ["t2", "t1", "t1", "t2"], "worker": ["a", "b", "a", "b"],
                          "label": [1, 0, 0, 1]})
    tasks, task_names = pd.factorize(frame["task"])
    workers = frame["worker"].astype("category").cat.codes
    result = dawid_skene(tasks, workers, frame["label"], num_tasks=np.int64(len(task_names)))
    assert result.posteriors.argmax(dim=1).tolist() == [1, 0]


# ---------------------------------------------------------------- validate_args


def count_calls(monkeypatch, module_name):
    import sys

    module = sys.modules[module_name]
    calls = []
    original = module.run_deferred

    def spy(*checks):
        calls.append(len(checks))
        return original(*checks)

    monkeypatch.setattr(module, "run_deferred", spy)
    return calls


def test_value_checks_are_read_back_once(monkeypatch):
    calls = count_calls(monkeypatch, "xenthelpers.crowds.dawid_skene")
    inner = count_calls(monkeypatch, "xenthelpers.crowds.majority")
    start = torch.full((2, 2), 0.5, **F64)
    dawid_skene(**GOOD, init=start, num_classes=2)
    dawid_skene(**GOOD)  # starts from the majority vote, which checks nothing again
    assert calls == [4, 3] and inner == []  # the id columns (and `init`), in one transfer


def test_validate_args_false_skips_the_value_checks(monkeypatch):
    calls = count_calls(monkeypatch, "xenthelpers.crowds.dawid_skene")
    result = dawid_skene(**GOOD, init=torch.full((2, 2), 0.5, **F64), validate_args=False,
                         **F64)
    assert calls == []
    expected = dawid_skene(**GOOD, init=torch.full((2, 2), 0.5, **F64), **F64)
    torch.testing.assert_close(result.posteriors, expected.posteriors, rtol=0, atol=0)
    # A row that does not sum to one is the caller's responsibility now.
    dawid_skene(**GOOD, init=torch.tensor([[0.5, 0.7], [0.5, 0.5]]), validate_args=False)

"""A simulated crowd: true labels, worker confusion matrices and the annotations they produce."""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._validation import check_distribution, check_positive_int, check_tensor

#: The kinds of simulated worker, in the order :func:`worker_confusion_matrix` documents them.
WORKER_KINDS = ("reliable", "noisy", "spammer", "adversarial")

_RELIABLE_ACCURACY = 0.9
_NOISY_ACCURACY = 0.6


class SimulatedCrowd(NamedTuple):
    """What :func:`simulate_crowd` draws, as a named tuple.

    - ``true_labels``: ``(N,)`` long tensor, the hidden class of each task.
    - ``tasks``, ``workers``, ``labels``: ``(M,)`` long tensors, one row per
      annotation (``M = N * annotations_per_task``), in the long format that
      :func:`~xenthelpers.crowds.majority_vote` and
      :func:`~xenthelpers.crowds.dawid_skene` take.
    - ``confusions``: ``(W, K, K)`` tensor, the true confusion matrix of each worker
      (rows: true class, columns: reported label).

    Examples
    --------
    >>> crowd = simulate_crowd(3, 2, ["reliable", "spammer"], annotations_per_task=2,
    ...                        generator=torch.Generator().manual_seed(0))
    >>> crowd.true_labels.shape, crowd.confusions.shape
    (torch.Size([3]), torch.Size([2, 2, 2]))
    >>> crowd.tasks.tolist()
    [0, 0, 1, 1, 2, 2]
    """

    true_labels: torch.Tensor
    tasks: torch.Tensor
    workers: torch.Tensor
    labels: torch.Tensor
    confusions: torch.Tensor


def worker_confusion_matrix(kind: str, num_classes: int) -> torch.Tensor:
    r"""The ``(K, K)`` confusion matrix of one kind of simulated worker.

    Entry :math:`(k, l)` is the probability of reporting label :math:`l` when the
    true class is :math:`k`. With :math:`K` classes:

    - ``"reliable"``: right with probability 0.9, otherwise a uniformly chosen
      wrong label;
    - ``"noisy"``: right with probability 0.6, otherwise a uniformly chosen wrong
      label (still better than chance, :math:`1/K \le 0.5`);
    - ``"spammer"``: a uniformly random label whatever the task, every entry
      :math:`1/K`, so the answers carry no information;
    - ``"adversarial"``: systematically swaps labels, reporting
      :math:`(k + 1) \bmod K` with probability 0.9 and another label uniformly
      otherwise (for :math:`K = 2`: 0 and 1 exchanged). Its answers are as
      informative as a reliable worker's, once read backwards.

    Parameters
    ----------
    kind : str
        One of ``"reliable"``, ``"noisy"``, ``"spammer"``, ``"adversarial"``.
    num_classes : int
        Number of classes ``K >= 2``.
    Returns
    -------
    torch.Tensor
        ``(K, K)`` row-stochastic matrix in ``torch.get_default_dtype()``.

    Examples
    --------
    >>> worker_confusion_matrix("adversarial", 3)
    tensor([[0.0500, 0.9000, 0.0500],
            [0.0500, 0.0500, 0.9000],
            [0.9000, 0.0500, 0.0500]])
    """
    _check_num_classes(num_classes)
    if kind not in WORKER_KINDS:
        raise ValueError(f"`kind` must be one of {WORKER_KINDS}, got {kind!r}")
    if kind == "spammer":
        return torch.full((num_classes, num_classes), 1.0 / num_classes)
    accuracy = _NOISY_ACCURACY if kind == "noisy" else _RELIABLE_ACCURACY
    off_diagonal = (1.0 - accuracy) / (num_classes - 1)
    matrix = torch.full((num_classes, num_classes), off_diagonal)
    matrix.fill_diagonal_(accuracy)
    if kind == "adversarial":
        matrix = matrix.roll(1, dims=1)
    return matrix


def simulate_crowd(
    num_tasks: int,
    num_classes: int,
    worker_kinds: list[str] | tuple[str, ...],
    *,
    annotations_per_task: int,
    class_prior: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> SimulatedCrowd:
    r"""Draw true labels and crowd annotations from the Dawid–Skene generative model.

    Each task's class is drawn from ``class_prior``,
    :math:`z_i \sim \operatorname{Cat}(\pi)`; then ``annotations_per_task``
    distinct workers, chosen uniformly at random for each task, report
    :math:`y \sim \operatorname{Cat}(\theta^{(w)}_{z_i \cdot})`, where
    :math:`\theta^{(w)}` is :func:`worker_confusion_matrix` of the worker's kind.
    This is exactly the model that :cite:t:`dawid1979` fit by EM.

    Parameters
    ----------
    num_tasks : int
        Number of tasks ``N >= 1``.
    num_classes : int
        Number of classes ``K >= 2``.
    worker_kinds : list of str
        The kind of each worker (its position is its id), each one of
        ``"reliable"``, ``"noisy"``, ``"spammer"``, ``"adversarial"``.
    annotations_per_task : int
        Number of distinct workers who label each task, between 1 and
        ``len(worker_kinds)``.
    class_prior : torch.Tensor, optional
        ``(K,)`` class probabilities; default uniform.
    generator : torch.Generator, optional
        CPU random number generator, for reproducible draws.

    Returns
    -------
    SimulatedCrowd
        ``(true_labels, tasks, workers, labels, confusions)`` on the CPU, the
        annotations ordered by task; ``confusions`` in ``torch.get_default_dtype()``.

    Examples
    --------
    >>> crowd = simulate_crowd(
    ...     1000, 3, ["reliable"] * 3 + ["spammer", "adversarial"],
    ...     annotations_per_task=3, generator=torch.Generator().manual_seed(0),
    ... )
    >>> crowd.tasks.shape, crowd.confusions.shape
    (torch.Size([3000]), torch.Size([5, 3, 3]))
    >>> crowd.tasks[:6]
    tensor([0, 0, 0, 1, 1, 1])
    """
    check_positive_int(num_tasks, "num_tasks")
    _check_num_classes(num_classes)
    kinds = _check_worker_kinds(worker_kinds)
    check_positive_int(annotations_per_task, "annotations_per_task")
    if annotations_per_task > len(kinds):
        raise ValueError(
            f"`annotations_per_task` must not exceed the number of workers {len(kinds)}, "
            f"got {annotations_per_task}"
        )
    prior = _resolve_class_prior(class_prior, num_classes)

    confusions = torch.stack([worker_confusion_matrix(kind, num_classes) for kind in kinds])
    true_labels = torch.multinomial(prior, num_tasks, replacement=True, generator=generator)
    # The top `annotations_per_task` of i.i.d. uniform scores: a uniform draw without
    # replacement of workers, independently for every task.
    scores = torch.rand(num_tasks, len(kinds), generator=generator)
    workers = scores.topk(annotations_per_task, dim=1).indices.flatten()
    tasks = torch.arange(num_tasks).repeat_interleave(annotations_per_task)
    answer_distributions = confusions[workers, true_labels[tasks]]
    labels = torch.multinomial(answer_distributions, 1, generator=generator).squeeze(1)
    return SimulatedCrowd(true_labels, tasks, workers, labels, confusions)


def _check_num_classes(num_classes: int) -> None:
    check_positive_int(num_classes, "num_classes")
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2, got {num_classes}")


def _check_worker_kinds(worker_kinds: list[str] | tuple[str, ...]) -> list[str]:
    if isinstance(worker_kinds, str):
        raise ValueError("`worker_kinds` must be a list of kinds, not a single string")
    kinds = list(worker_kinds)
    if not kinds:
        raise ValueError("`worker_kinds` must name at least one worker")
    unknown = sorted({str(kind) for kind in kinds if kind not in WORKER_KINDS})
    if unknown:
        raise ValueError(f"`worker_kinds` must only hold kinds in {WORKER_KINDS}, got {unknown}")
    return kinds


def _resolve_class_prior(class_prior: torch.Tensor | None, num_classes: int) -> torch.Tensor:
    if class_prior is None:
        return torch.full((num_classes,), 1.0 / num_classes, dtype=torch.float64)
    check_tensor(class_prior, "class_prior")
    if tuple(class_prior.shape) != (num_classes,):
        raise ValueError(
            f"`class_prior` must have shape ({num_classes},), got {tuple(class_prior.shape)}"
        )
    check_distribution(class_prior, "class_prior")
    return class_prior.detach().to("cpu", torch.float64)

"""Majority vote: the share of annotators who chose each class, per task."""

from __future__ import annotations

import torch
from numpy.typing import ArrayLike

from .._validation import (
    annotation_columns,
    check_float_dtype,
    ids_hold,
    resolve_counts,
    run_deferred,
)


def majority_vote(
    tasks: torch.Tensor | ArrayLike,
    labels: torch.Tensor | ArrayLike,
    *,
    num_classes: int | None = None,
    num_tasks: int | None = None,
    dtype: torch.dtype | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Soft majority vote: the fraction of each task's annotations that chose each class.

    For task :math:`i` with annotation set :math:`A_i`,

    .. math::

        v_{ik} = \frac{1}{|A_i|} \sum_{a \in A_i} [\,y_a = k\,],

    a soft label distribution that can serve directly as a cross-entropy target.
    Majority vote ignores who gave an annotation, so unlike
    :func:`~xenthelpers.crowds.dawid_skene` it takes no ``workers`` column: every
    annotator counts the same.

    Parameters
    ----------
    tasks : torch.Tensor or array-like
        ``(M,)`` task id (from 0) of each of the ``M`` annotations: a ``torch.long``
        tensor, or integers of any width in a NumPy array, a pandas Series or a list
        (table columns), which become a long tensor on the CPU. Names must be encoded
        as integer ids first (for example with ``pandas.factorize``).
    labels : torch.Tensor or array-like
        ``(M,)`` class reported in each annotation, as ``tasks``.
    num_classes : int, optional
        Number of classes ``K``; default ``labels.max() + 1``.
    num_tasks : int, optional
        Number of tasks ``N``; default ``tasks.max() + 1``. A task without any
        annotation (possible when ids are skipped or ``num_tasks`` is larger) gets
        the uniform row :math:`1/K`, so that every row stays a distribution.
    dtype : torch.dtype, optional
        Floating dtype of the result; default ``torch.get_default_dtype()``.
    validate_args : bool, default True
        Check the values of the ids: >= 0, and below ``num_classes`` and
        ``num_tasks`` when they are given, read back from the device in one transfer.
        ``False`` skips these checks (invalid ids then give undefined results); types
        and shapes are checked either way. A count left to its default is the largest
        id + 1, which reads the ids whatever this flag: give both counts for a call
        that never synchronises with the device.

    Returns
    -------
    torch.Tensor
        ``(N, K)`` vote fractions on the device of ``tasks``; each row sums to one.
        Use :func:`majority_vote_labels` for hard labels.

    Examples
    --------
    >>> tasks = torch.tensor([0, 0, 0, 1, 1])
    >>> labels = torch.tensor([2, 2, 0, 1, 0])
    >>> majority_vote(tasks, labels, num_classes=3)
    tensor([[0.3333, 0.0000, 0.6667],
            [0.5000, 0.5000, 0.0000]])

    Columns of integer ids work as they are, for example those of a pandas
    ``DataFrame``:

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"task": [0, 0, 1], "label": [1, 1, 0]})
    >>> majority_vote(frame["task"], frame["label"])
    tensor([[0., 1.],
            [1., 0.]])
    """
    dtype = check_float_dtype(dtype)
    counts = _vote_counts(tasks, labels, num_classes, num_tasks, validate_args)
    return _vote_fractions(counts, dtype)


def majority_vote_labels(
    tasks: torch.Tensor | ArrayLike,
    labels: torch.Tensor | ArrayLike,
    *,
    num_classes: int | None = None,
    num_tasks: int | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Hard majority vote: the most frequent label of each task.

    .. math::

        \hat y_i = \min \operatorname*{arg\,max}_k \sum_{a \in A_i} [\,y_a = k\,].

    Ties are broken deterministically towards the **lowest class index**; a task
    without annotations is therefore assigned class 0. This bias is one reason to
    prefer the soft :func:`majority_vote` when there are few annotations per task.

    Parameters
    ----------
    tasks, labels : torch.Tensor or array-like
        As in :func:`majority_vote`.
    num_classes, num_tasks : int, optional
        As in :func:`majority_vote`.
    validate_args : bool, default True
        As in :func:`majority_vote`.

    Returns
    -------
    torch.Tensor
        ``(N,)`` long tensor of class indices on the device of ``tasks``.

    Examples
    --------
    >>> tasks = torch.tensor([0, 0, 0, 1, 1])
    >>> labels = torch.tensor([2, 2, 0, 1, 0])
    >>> majority_vote_labels(tasks, labels)
    tensor([2, 0])
    """
    counts = _vote_counts(tasks, labels, num_classes, num_tasks, validate_args)
    # argmax returns the first maximal index, hence the lowest class among ties.
    return counts.argmax(dim=1)


def _vote_counts(
    tasks: torch.Tensor | ArrayLike,
    labels: torch.Tensor | ArrayLike,
    num_classes: int | None,
    num_tasks: int | None,
    validate_args: bool,
) -> torch.Tensor:
    """Check the inputs and return the ``(N, K)`` long tensor of votes per task and class."""
    tasks, labels = annotation_columns(tasks=tasks, labels=labels)
    num_classes, num_tasks = resolve_counts(
        (labels, num_classes, "labels", "num_classes"), (tasks, num_tasks, "tasks", "num_tasks")
    )
    if validate_args:
        run_deferred(
            ids_hold(labels, num_classes, "labels", "num_classes"),
            ids_hold(tasks, num_tasks, "tasks", "num_tasks"),
        )
    flat = tasks * num_classes + labels
    # index_add_ rather than bincount, which reads the largest id back to size its output.
    counts = flat.new_zeros(num_tasks * num_classes).index_add_(0, flat, torch.ones_like(flat))
    return counts.view(num_tasks, num_classes)


def _vote_fractions(counts: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Normalise vote counts per row; a row without votes becomes uniform."""
    totals = counts.sum(dim=1, keepdim=True)
    fractions = counts.to(dtype) / totals.clamp_min(1).to(dtype)
    uniform = torch.full_like(fractions, 1.0 / counts.shape[1])
    return torch.where(totals > 0, fractions, uniform)

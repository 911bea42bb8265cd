"""Dawid–Skene: EM over worker confusion matrices and latent true labels."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .._validation import (
    check_annotation_columns,
    check_distribution,
    check_float_dtype,
    check_positive,
    check_positive_int,
    check_tensor,
    resolve_count,
)
from ._incidence import count_matrix
from .majority import majority_vote


class DawidSkeneResult(NamedTuple):
    r"""What :func:`dawid_skene` estimates, as a named tuple.

    - ``posteriors``: ``(N, K)`` tensor, :math:`q_{ik} = P(z_i = k \mid \text{data})`,
      the soft label of each task; rows sum to one.
    - ``confusions``: ``(W, K, K)`` tensor, :math:`\theta^{(w)}_{kl}`, the probability
      that worker ``w`` reports label ``l`` (column) when the true class is ``k`` (row);
      rows sum to one.
    - ``priors``: ``(K,)`` tensor, :math:`\pi_k`, the class frequencies.
    - ``num_iter``: the number of EM iterations run.
    - ``converged``: whether the stopping rule was met within ``max_iter`` iterations.
    - ``log_likelihood``: the observed-data log-likelihood of the returned parameters.

    Examples
    --------
    >>> tasks, workers = torch.tensor([0, 0, 1, 1, 2, 2]), torch.tensor([0, 1, 0, 1, 0, 1])
    >>> result = dawid_skene(tasks, workers, torch.tensor([0, 0, 1, 1, 1, 0]))
    >>> result.posteriors.shape, result.confusions.shape, result.priors.shape
    (torch.Size([3, 2]), torch.Size([2, 2, 2]), torch.Size([2]))
    >>> result.num_iter <= 100, result.converged
    (True, True)
    """

    posteriors: torch.Tensor
    confusions: torch.Tensor
    priors: torch.Tensor
    num_iter: int
    converged: bool
    log_likelihood: float


def dawid_skene(
    tasks: torch.Tensor,
    workers: torch.Tensor,
    labels: torch.Tensor,
    *,
    num_classes: int | None = None,
    num_tasks: int | None = None,
    num_workers: int | None = None,
    max_iter: int = 100,
    tol: float = 1e-5,
    smoothing: float = 0.01,
    init: torch.Tensor | None = None,
    dtype: torch.dtype | None = None,
) -> DawidSkeneResult:
    r"""Aggregate crowd labels with the Dawid–Skene model, fitted by EM.

    Each task :math:`i` has a latent true class :math:`z_i \sim \operatorname{Cat}(\pi)`;
    worker :math:`w` answers class :math:`k` with label :math:`l` with probability
    :math:`\theta^{(w)}_{kl}`, independently across annotations. Starting from the
    soft :func:`~xenthelpers.crowds.majority_vote` as posteriors (or from ``init``),
    EM alternates

    .. math::

        \theta^{(w)}_{kl} = \frac{\alpha + \sum_{a:\, w_a = w,\, y_a = l} q_{t_a k}}
                                 {K \alpha + \sum_{a:\, w_a = w} q_{t_a k}},
        \qquad
        \pi_k = \frac{1}{N} \sum_i q_{ik}
        \qquad \text{(M-step)},

    .. math::

        \log q_{ik} = \log \pi_k + \sum_{a:\, t_a = i} \log \theta^{(w_a)}_{k y_a}
                      - \log \sum_{k'} \pi_{k'} \prod_{a:\, t_a = i} \theta^{(w_a)}_{k' y_a}
        \qquad \text{(E-step)},

    where annotation :math:`a` says that worker :math:`w_a` gave task :math:`t_a` the
    label :math:`y_a`. The E-step is a ``logsumexp`` in log space. The sums over
    annotations in both steps are products with a sparse matrix that counts the
    annotations of every (task, worker, label) triple, built once; the only Python
    loop is the one over EM iterations. Everything is computed in float64.

    The additive ``smoothing`` :math:`\alpha` (a pseudo-count per confusion cell)
    keeps every :math:`\theta^{(w)}_{kl} > 0`: without it, a worker who never used
    label :math:`l` for class :math:`k` would give :math:`\log 0 = -\infty`, a single
    such annotation would veto class :math:`k` for a task for good, and two vetoes
    covering every class would turn the E-step into :math:`0/0`. It makes each M-step
    a MAP estimate under a symmetric Dirichlet(:math:`1 + \alpha`) prior on the rows
    of :math:`\theta`. The default 0.01 is negligible beside the hundreds of
    annotations a typical worker contributes, yet bounds a never-seen cell away from
    zero (:math:`\approx 0.01 / n` after :math:`n` annotations of that class).

    EM stops at the first iteration whose observed-data log-likelihood
    :math:`\ell = \sum_i \log \sum_k \pi_k \prod_{a:\, t_a = i} \theta^{(w_a)}_{k y_a}`
    changed by less than ``tol`` per annotation, :math:`|\ell_t - \ell_{t-1}| < M\,\text{tol}`
    for :math:`M` annotations. Dividing by :math:`M` makes ``tol`` independent of the
    size of the data set and gives it the meaning it has in crowd-kit's
    ``DawidSkene``. Posteriors settle more slowly than the likelihood: lower ``tol``
    (e.g. to 1e-10, raising ``max_iter``) when converged posteriors matter more than speed.

    Reference: A. P. Dawid and A. M. Skene (1979), "Maximum Likelihood Estimation of
    Observer Error-Rates Using the EM Algorithm", *Journal of the Royal Statistical
    Society, Series C (Applied Statistics)* 28(1), 20–28.

    Parameters
    ----------
    tasks : torch.Tensor
        ``(M,)`` long tensor, the task id (from 0) of each annotation.
    workers : torch.Tensor
        ``(M,)`` long tensor, the worker id (from 0) of each annotation.
    labels : torch.Tensor
        ``(M,)`` long tensor, the reported class of each annotation.
    num_classes : int, optional
        Number of classes ``K``; default ``labels.max() + 1``.
    num_tasks : int, optional
        Number of tasks ``N``; default ``tasks.max() + 1``. A task without
        annotations gets the class priors as posterior.
    num_workers : int, optional
        Number of workers ``W``; default ``workers.max() + 1``. A worker without
        annotations gets uniform confusion rows.
    max_iter : int, default 100
        Maximum number of EM iterations (each one M-step then one E-step), >= 1.
        The stopping rule needs two iterations, so ``max_iter=1`` never converges.
    tol : float, default 1e-5
        Stop when the log-likelihood per annotation changes by less than ``tol`` (> 0).
    smoothing : float, default 0.01
        Pseudo-count :math:`\alpha > 0` added to every confusion count.
    init : torch.Tensor, optional
        ``(N, K)`` posteriors to start EM from, rows summing to 1; default the soft
        majority vote. EM only climbs to a nearby maximum of the likelihood, so a
        different start can end at a different answer.
    dtype : torch.dtype, optional
        Floating dtype of the returned tensors; default ``torch.get_default_dtype()``.

    Returns
    -------
    DawidSkeneResult
        ``(posteriors, confusions, priors, num_iter, converged, log_likelihood)`` on
        the device of ``tasks``; ``posteriors`` are the E-step under the returned
        ``confusions`` and ``priors``. Hard labels: ``posteriors.argmax(dim=1)``.

    Examples
    --------
    Workers 0 and 1 are reliable, worker 2 always reports the other class and is
    the only one to label task 4. Majority vote believes it; Dawid–Skene learns to
    read its answers backwards:

    >>> from xenthelpers.crowds import majority_vote_labels
    >>> tasks = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4])
    >>> workers = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    >>> labels = torch.tensor([0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1])
    >>> majority_vote_labels(tasks, labels)
    tensor([0, 1, 0, 1, 1])
    >>> result = dawid_skene(tasks, workers, labels)
    >>> result.posteriors.argmax(dim=1)
    tensor([0, 1, 0, 1, 0])
    >>> result.confusions[2].round(decimals=2)  # rows: true class, columns: reported
    tensor([[0.0000, 1.0000],
            [0.9900, 0.0100]])
    >>> result.converged
    True
    """
    dtype = check_float_dtype(dtype)
    check_positive_int(max_iter, "max_iter")
    check_positive(tol, "tol")
    check_positive(smoothing, "smoothing")
    check_annotation_columns(tasks=tasks, workers=workers, labels=labels)
    num_classes = resolve_count(num_classes, labels, "num_classes", "labels")
    num_tasks = resolve_count(num_tasks, tasks, "num_tasks", "tasks")
    num_workers = resolve_count(num_workers, workers, "num_workers", "workers")
    if init is not None:
        _check_init(init, num_tasks, num_classes, tasks.device)

    # One id per (worker, reported label) pair: the row of the confusion table it reads.
    reports = workers * num_classes + labels
    task_reports = count_matrix(tasks, reports, num_tasks, num_workers * num_classes)
    report_tasks = count_matrix(reports, tasks, num_workers * num_classes, num_tasks)
    if init is None:
        posteriors = majority_vote(
            tasks, labels, num_classes=num_classes, num_tasks=num_tasks, dtype=torch.float64
        )
    else:
        posteriors = init.detach().to(torch.float64)
    previous = -math.inf
    converged = False
    for num_iter in range(1, max_iter + 1):  # noqa: B007 (read after the loop)
        priors, by_report = _maximisation(posteriors, report_tasks, num_workers, smoothing)
        posteriors, log_likelihood = _expectation(priors, by_report, task_reports)
        converged = abs(log_likelihood - previous) < tol * tasks.numel()
        if converged:
            break
        previous = log_likelihood
    return DawidSkeneResult(
        posteriors=posteriors.to(dtype),
        confusions=by_report.transpose(1, 2).to(dtype),
        priors=priors.to(dtype),
        num_iter=num_iter,
        converged=converged,
        log_likelihood=log_likelihood,
    )


def _check_init(init: torch.Tensor, num_tasks: int, num_classes: int, device: torch.device) -> None:
    check_tensor(init, "init")
    if init.shape != (num_tasks, num_classes):
        raise ValueError(
            f"`init` must have shape (num_tasks, num_classes) = ({num_tasks}, {num_classes}), "
            f"got {tuple(init.shape)}"
        )
    check_distribution(init, "init", dim=1)
    if init.device != device:
        raise ValueError(
            f"`init` must be on the same device as `tasks` ({device}), got {init.device}"
        )


def _maximisation(
    posteriors: torch.Tensor,
    report_tasks: torch.Tensor,
    num_workers: int,
    smoothing: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """M-step: class priors ``(K,)`` and confusions laid out ``(W, reported, true)``."""
    num_classes = posteriors.shape[1]
    counts = report_tasks @ posteriors
    counts = counts.view(num_workers, num_classes, num_classes) + smoothing
    by_report = counts / counts.sum(dim=1, keepdim=True)
    return posteriors.mean(dim=0), by_report


def _expectation(
    priors: torch.Tensor,
    by_report: torch.Tensor,
    task_reports: torch.Tensor,
) -> tuple[torch.Tensor, float]:
    """E-step: task posteriors ``(N, K)`` and the observed-data log-likelihood."""
    num_classes = priors.shape[0]
    # A class whose prior reached 0 gets log 0 = -inf: it stays impossible, as in plain EM.
    log_joint = task_reports @ by_report.log().view(-1, num_classes) + priors.log()
    # logsumexp by hand, to reuse the shifted exponentials as unnormalised posteriors.
    shift = log_joint.amax(dim=1, keepdim=True)
    joint = (log_joint - shift).exp_()
    evidence = joint.sum(dim=1, keepdim=True)
    log_likelihood = float((shift + evidence.log()).sum())
    return joint.div_(evidence), log_likelihood

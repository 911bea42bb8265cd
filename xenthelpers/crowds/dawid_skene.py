"""Dawid–Skene: EM over worker confusion matrices and latent true labels."""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import torch
from numpy.typing import ArrayLike

from .._validation import (
    annotation_columns,
    check_float_dtype,
    check_scalar,
    ids_hold,
    initial_posteriors_hold,
    resolve_counts,
    run_deferred,
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
    tasks: torch.Tensor | ArrayLike,
    workers: torch.Tensor | ArrayLike,
    labels: torch.Tensor | ArrayLike,
    *,
    num_classes: int | None = None,
    num_tasks: int | None = None,
    num_workers: int | None = None,
    max_iter: int = 100,
    tol: float = 1e-5,
    prior_strength: float = 1.0,
    init: torch.Tensor | None = None,
    dtype: torch.dtype | None = None,
    validate_args: bool = True,
    smoothing: float | None = None,
) -> DawidSkeneResult:
    r"""Aggregate crowd labels with the Dawid–Skene model, fitted by EM.

    Each task :math:`i` has a latent true class :math:`z_i \sim \operatorname{Cat}(\pi)`;
    worker :math:`w` answers class :math:`k` with label :math:`l` with probability
    :math:`\theta^{(w)}_{kl}`, independently across annotations. Starting from the
    soft :func:`~xenthelpers.crowds.majority_vote` as posteriors (or from ``init``),
    EM alternates an M-step, which re-estimates :math:`\theta` and :math:`\pi` from the
    expected counts

    .. math::

        n^{(w)}_{kl} = \sum_{a:\, w_a = w,\, y_a = l} q_{t_a k},
        \qquad
        n^{(w)}_{k} = \sum_l n^{(w)}_{kl},
        \qquad
        \pi_k = \frac{1}{N} \sum_i q_{ik},

    and an E-step, Bayes' rule in log space (a ``logsumexp``),

    .. math::

        \log q_{ik} = \log \pi_k + \sum_{a:\, t_a = i} \log \theta^{(w_a)}_{k y_a}
                      - \log \sum_{k'} \pi_{k'} \prod_{a:\, t_a = i} \theta^{(w_a)}_{k' y_a},

    where annotation :math:`a` says that worker :math:`w_a` gave task :math:`t_a` the
    label :math:`y_a`. The sums over annotations in both steps are products with a
    sparse matrix that counts the annotations of every (task, worker, label) triple,
    built once; the only Python loop is the one over EM iterations. Everything is
    computed in float64.

    **The prior on the confusion matrices.** The M-step does not use the raw
    frequencies :math:`f^{(w)}_{kl} = n^{(w)}_{kl} / n^{(w)}_k` as they are: with
    :math:`s` = ``prior_strength``,

    .. math::

        \begin{aligned}
        \theta^{(w)}_{kl} &= (1 - \lambda_w)\, f^{(w)}_{kl} + \lambda_w\, \mu_{kl}, \\
        \lambda_w &= \frac{K s}{n^{(w)} + K s}, \\
        \mu_{kl} &= \frac{\sum_w n^{(w)}_{kl} + s\, \nu_l}{\sum_w n^{(w)}_k + s}, \\
        \nu_l &= \frac{1}{M} \sum_a [\,y_a = l\,],
        \end{aligned}

    where :math:`n^{(w)}` is the number of annotations of worker :math:`w` (a row
    without posterior mass takes :math:`f^{(w)}_{k\cdot} = \mu_{k\cdot}`). This is the
    MAP estimate of each row under a
    Dirichlet(:math:`1 + K s\, (n^{(w)}_k / n^{(w)})\, \mu_{k\cdot}`) prior:
    :math:`K s` pseudo-annotations per worker (:math:`s` per class on average), made
    on the worker's own mix of true classes and answered as the crowd answers.
    :math:`\mu_{k\cdot}` is the crowd's pooled confusion row, itself smoothed by
    :math:`s` pseudo-annotations spread like the overall label frequencies
    :math:`\nu`, and is re-estimated at every M-step from the current posteriors: an
    empirical-Bayes prior that partially pools the workers, as the hierarchical
    models compared by :cite:t:`paun2018` do. Why:

    - every label that someone reported keeps :math:`\theta^{(w)}_{kl} \ge \lambda_w
      \mu_{kl} > 0`, so that no single annotation vetoes a class for good and the
      E-step never meets :math:`0/0`;
    - a worker with few annotations is pulled towards the crowd's behaviour, by
      :math:`\lambda_w`, which fades as the worker labels more;
    - the prior favours no class. When every task has the same posterior, each
      worker's rows are all equal, to :math:`(m^{(w)} + K s\, \nu) / (n^{(w)} + K s)`
      for the worker's label counts :math:`m^{(w)}`: the answers are evidence for no
      class, and that state is a fixed point of EM, whatever the data. A prior whose
      weight in a row does not follow the row's posterior mass (a pseudo-count per
      cell, or per row) leaves a row with little mass closer to the prior than a row
      with much, so that each worker's answers become a small piece of evidence for
      some class even when they carry none. With many workers who each give few
      labels, the usual crowdsourcing setting, those pieces add up to a confident,
      arbitrary labelling.

    Because :math:`\mu` moves with the posteriors, an iteration is not guaranteed to
    increase one fixed objective, as plain EM is; the stopping rule below watches the
    log-likelihood all the same. A tiny :math:`s` (e.g. ``1e-10``) gives, to that
    precision, the unsmoothed maximum-likelihood M-step.

    EM stops at the first iteration whose observed-data log-likelihood
    :math:`\ell = \sum_i \log \sum_k \pi_k \prod_{a:\, t_a = i} \theta^{(w_a)}_{k y_a}`
    changed by less than ``tol`` per annotation, :math:`|\ell_t - \ell_{t-1}| < M\,\text{tol}`
    for :math:`M` annotations. Dividing by :math:`M` makes ``tol`` independent of the
    size of the data set and gives it the meaning it has in crowd-kit's
    ``DawidSkene``. Posteriors settle more slowly than the likelihood: lower ``tol``
    (e.g. to 1e-10, raising ``max_iter``) when converged posteriors matter more than speed.

    See :cite:t:`dawid1979` and :cite:t:`paun2018`.

    Parameters
    ----------
    tasks : torch.Tensor or array-like
        ``(M,)`` task id (from 0) of each annotation: a ``torch.long`` tensor, or
        integers of any width in a NumPy array, a pandas Series or a list (table
        columns), which become a long tensor on the CPU. Names must be encoded as
        integer ids first (for example with ``pandas.factorize``).
    workers : torch.Tensor or array-like
        ``(M,)`` worker id (from 0) of each annotation, as ``tasks``.
    labels : torch.Tensor or array-like
        ``(M,)`` reported class of each annotation, as ``tasks``.
    num_classes : int, optional
        Number of classes ``K``; default ``labels.max() + 1``.
    num_tasks : int, optional
        Number of tasks ``N``; default ``tasks.max() + 1``. A task without
        annotations gets the class priors as posterior.
    num_workers : int, optional
        Number of workers ``W``; default ``workers.max() + 1``. A worker without
        annotations gets the pooled confusion matrix :math:`\mu`.
    max_iter : int, default 100
        Maximum number of EM iterations (each one M-step then one E-step), >= 1.
        The stopping rule needs two iterations, so ``max_iter=1`` never converges.
    tol : float, default 1e-5
        Stop when the log-likelihood per annotation changes by less than ``tol`` (> 0).
    prior_strength : float, default 1.0
        :math:`s > 0`, the weight of the prior on the confusion matrices:
        :math:`K s` pseudo-annotations per worker, one per class by default. A larger
        value leans more on the crowd's pooled behaviour, which helps when most
        workers give only a few labels each.
    init : torch.Tensor, optional
        ``(N, K)`` posteriors to start EM from, rows summing to 1; default the soft
        majority vote. EM only climbs to a nearby maximum of the likelihood, so a
        different start can end at a different answer.
    dtype : torch.dtype, optional
        Floating dtype of the returned tensors; default ``torch.get_default_dtype()``.
    validate_args : bool, default True
        Check the values of the inputs: ids >= 0, ids below ``num_tasks``,
        ``num_workers`` and ``num_classes`` when they are given, ``init`` rows that
        are distributions. These checks are read back from the device in one
        transfer; ``False`` skips them (invalid ids then give undefined results).
        Types, shapes and the other arguments are checked either way. A count left to
        its default is the largest id + 1, which reads the ids whatever this flag.
    smoothing : float, optional
        Deprecated, to be removed in the next release: the former prior, a
        pseudo-count :math:`\alpha > 0` added to every confusion cell,
        :math:`\theta^{(w)}_{kl} = (n^{(w)}_{kl} + \alpha) / (n^{(w)}_k + K\alpha)`.
        Passing it selects that prior (and ignores ``prior_strength``) with a
        :class:`DeprecationWarning`; use ``prior_strength`` instead.

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
    >>> result.converged
    True

    With five answers, worker 2's matrix lies between its own counts (always the
    other class) and the crowd's pooled matrix, where the prior pulls it:

    >>> result.confusions[2].round(decimals=2)  # rows: true class, columns: reported
    tensor([[0.1700, 0.8300],
            [0.7500, 0.2500]])

    Columns of integer ids work as they are, for example those of a pandas
    ``DataFrame``:

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"task": tasks, "worker": workers, "label": labels})
    >>> fit = dawid_skene(frame["task"], frame["worker"], frame["label"])
    >>> torch.equal(fit.posteriors, result.posteriors)
    True
    """
    dtype = check_float_dtype(dtype)
    max_iter = int(check_scalar(max_iter, "max_iter", integer=True, min_val=1))
    tol = check_scalar(tol, "tol", min_val=0, include_min=False)
    uniform = smoothing is not None
    if uniform:
        warnings.warn(
            "`smoothing` (a pseudo-count added to every confusion cell) is deprecated and "
            "will be removed in the next release; use `prior_strength`, the weight of a "
            "prior centred on the pooled confusion matrix",
            DeprecationWarning,
            stacklevel=2,
        )
    strength = check_scalar(
        smoothing if uniform else prior_strength,
        "smoothing" if uniform else "prior_strength",
        min_val=0,
        include_min=False,
        max_val=math.inf,
        include_max=False,
    )
    tasks, workers, labels = annotation_columns(tasks=tasks, workers=workers, labels=labels)
    num_classes, num_tasks, num_workers = resolve_counts(
        (labels, num_classes, "labels", "num_classes"),
        (tasks, num_tasks, "tasks", "num_tasks"),
        (workers, num_workers, "workers", "num_workers"),
    )
    start = None if init is None else initial_posteriors_hold(init, num_tasks, num_classes, tasks)
    if validate_args:
        run_deferred(
            ids_hold(labels, num_classes, "labels", "num_classes"),
            ids_hold(tasks, num_tasks, "tasks", "num_tasks"),
            ids_hold(workers, num_workers, "workers", "num_workers"),
            *([] if start is None else [start]),
        )

    # One id per (worker, reported label) pair: the row of the confusion table it reads.
    reports = workers * num_classes + labels
    task_reports = count_matrix(tasks, reports, num_tasks, num_workers * num_classes)
    report_tasks = count_matrix(reports, tasks, num_workers * num_classes, num_tasks)
    num_annotations = tasks.numel()
    label_shares = torch.bincount(labels, minlength=num_classes).to(torch.float64)
    label_shares /= num_annotations
    # Pseudo-annotations per worker over the worker's own number of annotations + them.
    pseudo = num_classes * strength
    pull = pseudo / (torch.bincount(workers, minlength=num_workers).to(torch.float64) + pseudo)
    if init is None:
        posteriors = majority_vote(
            tasks,
            labels,
            num_classes=num_classes,
            num_tasks=num_tasks,
            dtype=torch.float64,
            validate_args=False,
        )
    else:
        posteriors = init.detach().to(torch.float64)
    previous = -math.inf
    converged = False
    for num_iter in range(1, max_iter + 1):  # noqa: B007 (read after the loop)
        counts = (report_tasks @ posteriors).view(num_workers, num_classes, num_classes)
        if uniform:
            by_report = _uniform_prior_rows(counts, strength)
        else:
            by_report = _pooled_prior_rows(counts, strength, label_shares, pull)
        priors = posteriors.mean(dim=0)
        posteriors, log_likelihood = _expectation(priors, by_report, task_reports)
        converged = abs(log_likelihood - previous) < tol * num_annotations
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


def _pooled_prior_rows(
    counts: torch.Tensor, strength: float, label_shares: torch.Tensor, pull: torch.Tensor
) -> torch.Tensor:
    r"""M-step under the prior centred on the pooled matrix; laid out ``(W, reported, true)``.

    ``counts[w, l, k]`` is :math:`n^{(w)}_{kl}`, ``label_shares`` is :math:`\nu` and
    ``pull[w]`` is :math:`\lambda_w`.
    """
    pooled = counts.sum(dim=0)
    centre = (pooled + strength * label_shares[:, None]) / (pooled.sum(dim=0) + strength)
    row_mass = counts.sum(dim=1, keepdim=True)
    # A row without posterior mass has no frequencies of its own: it takes the centre's.
    own = torch.where(row_mass > 0, counts / torch.where(row_mass > 0, row_mass, 1.0), centre)
    return own + pull[:, None, None] * (centre - own)


def _uniform_prior_rows(counts: torch.Tensor, smoothing: float) -> torch.Tensor:
    """M-step with ``smoothing`` added to every cell (the deprecated prior), same layout."""
    counts = counts + smoothing
    return counts / counts.sum(dim=1, keepdim=True)


def _expectation(
    priors: torch.Tensor,
    by_report: torch.Tensor,
    task_reports: torch.Tensor,
) -> tuple[torch.Tensor, float]:
    """E-step: task posteriors ``(N, K)`` and the observed-data log-likelihood."""
    num_classes = priors.shape[0]
    # theta is 0 only for a label that nobody reported, a column that no annotation
    # reads: log 0 is replaced by 0 so that the sparse product never meets 0 * -inf.
    log_theta = torch.where(by_report > 0, by_report.log(), 0.0)
    # A class whose prior reached 0 gets log 0 = -inf: it stays impossible, as in plain EM.
    log_joint = task_reports @ log_theta.view(-1, num_classes) + priors.log()
    # logsumexp by hand, to reuse the shifted exponentials as unnormalised posteriors.
    shift = log_joint.amax(dim=1, keepdim=True)
    joint = (log_joint - shift).exp_()
    evidence = joint.sum(dim=1, keepdim=True)
    log_likelihood = float((shift + evidence.log()).sum())
    return joint.div_(evidence), log_likelihood

r"""Proper scoring rules for probabilistic classifiers.

A scoring rule rewards a predicted distribution :math:`p` once the outcome
:math:`y` is seen. It is strictly proper when, for outcomes drawn from
:math:`q`, its expectation is best exactly at :math:`p = q`
:cite:p:`gneiting2007`.
The three classical rules follow their usual orientation:

- :func:`brier_score` is a loss: lower is better, 0 is perfect;
- :func:`log_score` and :func:`spherical_score` are rewards: higher is
  better, perfect predictions score 0 and 1 respectively.

Each takes probability rows ``probs`` of shape ``(N, K)`` (not logits) and a
``target`` that is either class indices of shape ``(N,)`` or probability rows
of shape ``(N, K)``. A probability target :math:`q` gives the expected score
:math:`\sum_k q_k\, S(p, k)` under outcomes drawn from :math:`q`, which is what
propriety is about: each score, as a function of ``probs``, is optimised at
``probs == target``.
"""

from __future__ import annotations

import torch

from .._reduction import Reduction, reduce_loss
from .._validation import (
    Deferred,
    check_class_indices_shape,
    check_index_dtype,
    check_reduction,
    check_row_shape,
    check_tensor,
    class_indices_hold,
    distribution_holds,
    run_deferred,
)


def brier_score(
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: Reduction = "mean",
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Brier score: squared distance between the predicted and the target distribution.

    .. math::

        \mathrm{BS}(p, y) = \sum_{k=1}^K (p_k - [k = y])^2 \in [0, 2].

    Lower is better. For a probability target :math:`q` the expected score is

    .. math::

        \sum_{j=1}^K q_j\,\mathrm{BS}(p, j) = \lVert p - q \rVert_2^2 + 1 - \lVert q \rVert_2^2,

    so the excess over the best forecast :math:`p = q` is the squared
    distance :math:`\lVert p - q \rVert_2^2` :cite:p:`brier1950`. For two classes
    scikit-learn's ``brier_score_loss(y, p1)`` is :math:`(p_1 - y)^2`, half of
    this sum.

    Parameters
    ----------
    probs : torch.Tensor
        Probability rows of shape ``(N, K)``.
    target : torch.Tensor
        Class indices of shape ``(N,)``, or probability rows :math:`q` of shape
        ``(N, K)``, which give the expected score over outcomes drawn from :math:`q`.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the ``(N,)`` per-example scores.
    validate_args : bool, default True
        Check that ``probs`` (and a probability ``target``) hold probability
        rows and that class indices lie in ``[0, K)``, reading the values back
        from the device once. ``False`` skips these checks: the call then never
        synchronises with an accelerator and runs on the ``meta`` device.
        Shapes, dtypes and options are always checked.

    Returns
    -------
    torch.Tensor
        A 0-dim tensor, or shape ``(N,)`` with ``reduction="none"``.

    Examples
    --------
    >>> probs = torch.tensor([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])
    >>> brier_score(probs, torch.tensor([0, 1]), reduction="none")
    tensor([0.1400, 0.5000])
    """
    outcome = _outcome_rows(probs, target, reduction, validate_args)
    distance = (probs - outcome).square().sum(dim=1)
    # The second term is exactly zero for one-hot targets.
    spread = 1 - outcome.square().sum(dim=1)
    return reduce_loss(distance + spread, reduction)


def log_score(
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: Reduction = "mean",
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Logarithmic score: log-probability given to the outcome.

    .. math::

        \mathrm{LS}(p, y) = \log p_y \in [-\infty, 0].

    Higher is better; it is the negative of the log loss (cross-entropy), so
    ``-log_score(probs, y)`` equals scikit-learn's ``log_loss(y, probs)``. A
    zero probability on the outcome scores :math:`-\infty` (no clipping),
    while classes with zero target mass contribute nothing. For logits use
    ``-F.cross_entropy(logits, y)``, which is computed stably. See
    :cite:t:`good1952`.

    Parameters
    ----------
    probs : torch.Tensor
        Probability rows of shape ``(N, K)``.
    target : torch.Tensor
        Class indices of shape ``(N,)``, or probability rows :math:`q` of shape
        ``(N, K)``, which give the expected score over outcomes drawn from :math:`q`.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the ``(N,)`` per-example scores.
    validate_args : bool, default True
        Check that ``probs`` (and a probability ``target``) hold probability
        rows and that class indices lie in ``[0, K)``, reading the values back
        from the device once. ``False`` skips these checks: the call then never
        synchronises with an accelerator and runs on the ``meta`` device.
        Shapes, dtypes and options are always checked.

    Returns
    -------
    torch.Tensor
        A 0-dim tensor, or shape ``(N,)`` with ``reduction="none"``.

    Examples
    --------
    >>> probs = torch.tensor([[0.5, 0.25, 0.25], [0.5, 0.5, 0.0]])
    >>> log_score(probs, torch.tensor([0, 1]), reduction="none")
    tensor([-0.6931, -0.6931])
    """
    outcome = _outcome_rows(probs, target, reduction, validate_args)
    return reduce_loss(torch.xlogy(outcome, probs).sum(dim=1), reduction)


def spherical_score(
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: Reduction = "mean",
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Spherical score: probability of the outcome divided by the Euclidean norm of ``probs``.

    .. math::

        \mathrm{SS}(p, y) = \frac{p_y}{\lVert p \rVert_2} \in [0, 1].

    Higher is better. Unlike the log score it stays bounded when the outcome
    was given probability zero :cite:p:`good1971`; see
    :cite:t:`gneiting2007`.

    Parameters
    ----------
    probs : torch.Tensor
        Probability rows of shape ``(N, K)``.
    target : torch.Tensor
        Class indices of shape ``(N,)``, or probability rows :math:`q` of shape
        ``(N, K)``, which give the expected score over outcomes drawn from :math:`q`.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the ``(N,)`` per-example scores.
    validate_args : bool, default True
        Check that ``probs`` (and a probability ``target``) hold probability
        rows and that class indices lie in ``[0, K)``, reading the values back
        from the device once. ``False`` skips these checks: the call then never
        synchronises with an accelerator and runs on the ``meta`` device.
        Shapes, dtypes and options are always checked.

    Returns
    -------
    torch.Tensor
        A 0-dim tensor, or shape ``(N,)`` with ``reduction="none"``.

    Examples
    --------
    >>> probs = torch.tensor([[0.6, 0.8, 0.0], [1.0, 0.0, 0.0]])
    >>> spherical_score(probs / probs.sum(dim=1, keepdim=True), torch.tensor([1, 0]))
    tensor(0.9000)
    """
    outcome = _outcome_rows(probs, target, reduction, validate_args)
    norm = torch.linalg.vector_norm(probs, dim=1)
    return reduce_loss((outcome * probs).sum(dim=1) / norm, reduction)


def _outcome_rows(
    probs: torch.Tensor, target: torch.Tensor, reduction: Reduction, validate_args: bool
) -> torch.Tensor:
    """Check the inputs; return ``target`` as probability rows shaped like ``probs``."""
    check_reduction(reduction)
    check_row_shape(probs, "probs")
    check_tensor(target, "target")
    num_examples, num_classes = probs.shape
    checks: list[Deferred] = []
    if target.is_floating_point():
        if target.shape != probs.shape:
            raise ValueError(
                f"`target` probability rows must have the shape of `probs` {tuple(probs.shape)}, "
                f"got {tuple(target.shape)}"
            )
        if validate_args:
            checks.append(distribution_holds(target, "target", dim=1))
        outcome = target.to(probs.dtype)
    else:
        check_index_dtype(target, "target")
        check_class_indices_shape(target, num_examples)
        if validate_args:
            checks.append(class_indices_hold(target, num_classes, "target"))
        # One-hot rows by comparison: no device-side assert, and no host read, for
        # an index out of range when the checks are skipped.
        classes = torch.arange(num_classes, device=target.device)
        outcome = (target.unsqueeze(1) == classes).to(probs.dtype)
    if validate_args:
        run_deferred(distribution_holds(probs, "probs", dim=1), *checks)
    return outcome

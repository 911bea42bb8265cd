"""Decisions under a cost matrix: the Bayes threshold and expected-cost curves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import torch

from .._validation import (
    check_cost_matrix,
    check_floating,
    check_mask_dtype,
    check_scalar,
    mask_values_hold,
    run_deferred,
    unit_interval_holds,
)

__all__ = ["bayes_threshold", "expected_cost_curve"]

#: A binary cost matrix ``costs[action, truth]``: ``[[C_TN, C_FN], [C_FP, C_TP]]``.
CostMatrix: TypeAlias = torch.Tensor | Sequence[Sequence[float]]


def bayes_threshold(costs: CostMatrix) -> float:
    r"""The probability of the positive class above which calling it positive is cheaper.

    With the cost matrix of :cite:t:`elkan2001`, rows the actions and columns
    the true classes,

    .. math::

        C = \begin{pmatrix} C_{TN} & C_{FN} \\ C_{FP} & C_{TP} \end{pmatrix},

    calling an example with :math:`p = P(\text{positive} \mid x)` positive has
    expected cost :math:`(1 - p)\,C_{FP} + p\,C_{TP}`, calling it negative
    :math:`(1 - p)\,C_{TN} + p\,C_{FN}`. The first is smaller exactly when
    :math:`p` exceeds

    .. math::

        t^\star = \frac{C_{FP} - C_{TN}}{(C_{FP} - C_{TN}) + (C_{FN} - C_{TP})},

    where the two expected costs are equal. Only the two differences matter:
    adding a constant to a column, or scaling the matrix, leaves :math:`t^\star`
    unchanged.

    Parameters
    ----------
    costs : Tensor or sequence of sequences of float
        ``[[C_TN, C_FN], [C_FP, C_TP]]``: row 0 calls the example negative,
        row 1 positive; column 0 is a true negative, column 1 a true positive.
        Finite, with each error at least as costly as the right action for the
        same class (``C_FP >= C_TN`` and ``C_FN >= C_TP``), strictly for one
        class at least.

    Returns
    -------
    float
        :math:`t^\star` in ``[0, 1]``.

    Examples
    --------
    A missed positive ten times as costly as a false alarm:

    >>> round(bayes_threshold([[0.0, 10.0], [1.0, 0.0]]), 4)  # 1 / 11
    0.0909
    >>> bayes_threshold([[0.0, 1.0], [1.0, 0.0]])  # symmetric costs
    0.5
    """
    (c_tn, c_fn), (c_fp, c_tp) = check_cost_matrix(costs).tolist()
    false_alarm, miss = float(c_fp - c_tn), float(c_fn - c_tp)
    return false_alarm / (false_alarm + miss)


def expected_cost_curve(
    probabilities: torch.Tensor,
    labels: torch.Tensor,
    thresholds: torch.Tensor | float,
    costs: CostMatrix,
    *,
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Mean cost per example of calling positive every example with probability >= t.

    For each threshold :math:`t`, example :math:`i` with predicted probability
    :math:`p_i` of the positive class and label :math:`y_i \in \{0, 1\}` is
    called positive when :math:`p_i \ge t` and negative otherwise, and pays
    the entry of the cost matrix (see :func:`bayes_threshold`) for that action
    and its true class:

    .. math::

        \begin{aligned}
        \mathrm{cost}(t)
        &= \frac{1}{N} \sum_{i=1}^N C\bigl[\,[p_i \ge t],\; y_i\bigr] \\
        &= \frac{\#\mathrm{TN}\,C_{TN} + \#\mathrm{FN}\,C_{FN}
          + \#\mathrm{FP}\,C_{FP} + \#\mathrm{TP}\,C_{TP}}{N}.
        \end{aligned}

    On held-out data this estimates the expected cost per example of the rule
    "call positive when :math:`p \ge t`" :cite:p:`elkan2001`. When the probabilities
    are calibrated, the curve is lowest near :func:`bayes_threshold`.

    Parameters
    ----------
    probabilities : torch.Tensor
        Predicted probabilities of the positive class, in ``[0, 1]``, of shape
        ``(N,)``, or ``(N, *batch)`` for several predictors at once (one per
        repeat of a cross-validation, say), each scored separately.
    labels : torch.Tensor
        True classes, 0 (negative) or 1 (positive), boolean or numeric, of
        shape ``(N,)`` (shared by the whole batch) or that of
        ``probabilities``.
    thresholds : torch.Tensor or float
        Thresholds in ``[0, 1]``, of any shape ``S`` (a float gives ``S = ()``).
    costs : Tensor or sequence of sequences of float
        ``[[C_TN, C_FN], [C_FP, C_TP]]``, rows the actions, columns the true
        classes, checked as in :func:`bayes_threshold`.
    validate_args : bool, default True
        Check that the probabilities and thresholds lie in ``[0, 1]`` (NaN
        fails) and that the labels are 0 or 1, reading the verdicts back from
        the device once. ``False`` skips these checks. Shapes, dtypes, a float
        threshold and the cost matrix are always checked.

    Returns
    -------
    torch.Tensor
        The mean cost per example, float64, of shape ``S + batch``, on the
        device of ``probabilities``.

    Examples
    --------
    >>> probabilities = torch.tensor([0.05, 0.2, 0.6, 0.9])
    >>> labels = torch.tensor([0, 1, 0, 1])
    >>> costs = [[0.0, 10.0], [1.0, 0.0]]  # a miss costs 10, a false alarm 1
    >>> expected_cost_curve(probabilities, labels, torch.tensor([0.1, 0.5]), costs)
    tensor([0.2500, 2.7500], dtype=torch.float64)

    At 0.1 the only error is the false alarm at 0.6; at 0.5 the positive at 0.2
    is missed as well.
    """
    check_floating(probabilities, "probabilities")
    if probabilities.dim() < 1 or probabilities.shape[0] == 0:
        raise ValueError(
            "`probabilities` must hold at least one example along dim 0, "
            f"got shape {tuple(probabilities.shape)}"
        )
    check_mask_dtype(labels, "labels")
    if labels.shape not in (probabilities.shape, probabilities.shape[:1]):
        raise ValueError(
            f"`labels` must have shape {tuple(probabilities.shape[:1])} or "
            f"{tuple(probabilities.shape)} to match `probabilities`, got {tuple(labels.shape)}"
        )
    if isinstance(thresholds, torch.Tensor):
        check_floating(thresholds, "thresholds")
    else:
        check_scalar(thresholds, "thresholds", min_val=0.0, max_val=1.0)
        thresholds = torch.tensor(float(thresholds), dtype=torch.float64)
    matrix = check_cost_matrix(costs)
    if validate_args:
        run_deferred(
            unit_interval_holds(probabilities, "probabilities"),
            mask_values_hold(labels, "labels"),
            unit_interval_holds(thresholds, "thresholds"),
        )
    device = probabilities.device
    matrix = matrix.to(device)
    positive = (labels.detach() != 0).to(device)
    if positive.shape != probabilities.shape:  # one label per example, shared by the batch
        positive = positive.reshape(-1, *([1] * (probabilities.dim() - 1)))
    truth = positive.long()
    cost_if_called = matrix[1][truth]  # C_FP or C_TP
    cost_if_passed = matrix[0][truth]  # C_TN or C_FN
    cuts = thresholds.detach().to(device).reshape(-1, *([1] * probabilities.dim()))
    called = probabilities.detach().unsqueeze(0) >= cuts  # (T, N, *batch)
    per_example = torch.where(called, cost_if_called, cost_if_passed)
    batch = probabilities.shape[1:]
    return per_example.mean(dim=1).reshape(thresholds.shape + batch)

"""False positive rate at a fixed true positive rate: one point of a detector's ROC curve."""

from __future__ import annotations

import math

import torch

from .._validation import check_floating, check_scalar, not_nan_holds, run_deferred


def fpr_at_tpr(
    positive_scores: torch.Tensor,
    negative_scores: torch.Tensor,
    *,
    tpr: float = 0.95,
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Share of negatives accepted at the threshold that first keeps ``tpr`` of the positives.

    A detector calls an example positive when its score is at least a threshold
    :math:`t`. Lowering :math:`t` from the top, take the first threshold at which
    the share of positives called positive reaches :math:`\tau` = ``tpr``, and
    report the share of negatives called positive there:

    .. math::

        t^\star = s^{+}_{(k)}, \quad
        k = \min\Bigl\{k : \frac{k}{n_+} \ge \tau\Bigr\}, \qquad
        \mathrm{FPR}@\tau = \frac{1}{n_-} \sum_{j=1}^{n_-} [\, s^{-}_j \ge t^\star ],

    where :math:`s^{+}_{(k)}` is the :math:`k`-th largest of the :math:`n_+`
    positive scores. This is the false positive rate of
    ``sklearn.metrics.roc_curve`` at the first point whose true positive rate is
    at least :math:`\tau` (ties included: every score equal to :math:`t^\star`
    counts as positive). With the in-distribution examples as the positive class
    and :math:`\tau = 0.95` it is the "FPR at 95% TPR" of out-of-distribution
    detection :cite:p:`liang2018,liu2020`: the share of
    out-of-distribution inputs still accepted when 95% of in-distribution inputs
    are. Lower is better.

    Parameters
    ----------
    positive_scores : torch.Tensor
        Scores of the positive examples, higher meaning "more positive": shape
        ``(n_pos,)``, or ``(n_pos, *batch)`` for several detectors at once (one
        per seed, say), evaluated independently.
    negative_scores : torch.Tensor
        Scores of the negative examples, shape ``(n_neg,)`` or
        ``(n_neg, *batch)`` with the same ``batch`` shape.
    tpr : float, default 0.95
        The true positive rate :math:`\tau` to reach, in ``(0, 1]``.
    validate_args : bool, default True
        Check that no score is NaN (infinite scores are allowed), reading the
        verdict back from the device once. Shapes, dtypes and ``tpr`` are always
        checked.

    Returns
    -------
    torch.Tensor
        The false positive rates in float64, of shape ``batch`` (0-dim for 1-D
        inputs).

    Examples
    --------
    >>> positives = torch.tensor([0.9, 0.8, 0.7, 0.6])
    >>> negatives = torch.tensor([0.75, 0.5, 0.65, 0.1])
    >>> fpr_at_tpr(positives, negatives, tpr=0.75)  # threshold 0.7: accepts 0.75
    tensor(0.2500, dtype=torch.float64)
    >>> fpr_at_tpr(positives, negatives, tpr=1.0)  # threshold 0.6: accepts 0.75, 0.65
    tensor(0.5000, dtype=torch.float64)
    """
    check_floating(positive_scores, "positive_scores")
    check_floating(negative_scores, "negative_scores")
    for scores, name in (
        (positive_scores, "positive_scores"),
        (negative_scores, "negative_scores"),
    ):
        if scores.dim() < 1 or scores.shape[0] < 1:
            raise ValueError(
                f"`{name}` must hold at least one score along dim 0, "
                f"got shape {tuple(scores.shape)}"
            )
    if positive_scores.shape[1:] != negative_scores.shape[1:]:
        raise ValueError(
            "`positive_scores` and `negative_scores` must share their trailing (batch) shape, "
            f"got {tuple(positive_scores.shape)} and {tuple(negative_scores.shape)}"
        )
    check_scalar(tpr, "tpr", min_val=0.0, max_val=1.0, include_min=False)
    if validate_args:
        run_deferred(
            not_nan_holds(positive_scores, "positive_scores"),
            not_nan_holds(negative_scores, "negative_scores"),
        )
    num_positive = positive_scores.shape[0]
    # The smallest k with k / n >= tpr, in the floating-point arithmetic of roc_curve.
    k = max(1, math.ceil(tpr * num_positive) - 1)
    while k / num_positive < tpr:
        k += 1
    threshold = positive_scores.detach().topk(k, dim=0).values[k - 1]
    accepted = negative_scores.detach() >= threshold  # compared in the promoted dtype
    return accepted.double().mean(dim=0)

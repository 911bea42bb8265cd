"""Temperature scaling: one scalar that recalibrates a trained classifier."""

from __future__ import annotations

import math

import torch

from .._validation import check_class_logits, check_finite, check_positive, check_positive_int


def fit_temperature(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    bounds: tuple[float, float] = (1e-2, 1e2),
    tol: float = 1e-10,
    max_iter: int = 100,
) -> float:
    r"""The temperature :math:`T > 0` that minimises the NLL of ``logits / T``.

    Temperature scaling (Guo, Pleiss, Sun and Weinberger 2017, "On
    Calibration of Modern Neural Networks") fits a single scalar on held-out
    data:

    .. math::

        T^\star = \arg\min_{T > 0} \; \frac{1}{N} \sum_{i=1}^N
        \Big(\log \sum_k e^{z_{ik} / T} - z_{i y_i} / T\Big).

    It changes confidences but never the arg-max, so accuracy is unchanged.
    :math:`T > 1` softens an over-confident model, :math:`T < 1` sharpens an
    under-confident one.

    The objective is convex in :math:`\beta = 1/T` (a log-sum-exp of linear
    functions minus a linear one), with first derivative
    :math:`\frac{1}{N}\sum_i (\mathbb{E}_{p_i}[z_i] - z_{iy_i})` and second
    derivative the mean variance of the logits under the scaled softmax. The
    minimiser is found by Newton's method on :math:`\beta`, safeguarded by
    bisection inside ``bounds``, in float64: the result is deterministic and
    is the global minimum over ``bounds``. When the minimum lies outside
    ``bounds`` the nearer bound is returned, and when every row of logits is
    constant (the temperature changes nothing) the result is 1.

    Parameters
    ----------
    logits : torch.Tensor
        Held-out logits of shape ``(N, K)`` or ``(N, K, d1, ...)``; treated
        as constants (no gradient flows).
    target : torch.Tensor
        Class indices of shape ``(N,)`` or ``(N, d1, ...)``.
    bounds : tuple of float, optional
        Smallest and largest temperature considered, ``0 < low < high``;
        ``(1e-2, 1e2)`` by default.
    tol : float, default 1e-10
        Relative change of :math:`1/T` below which the search stops.
    max_iter : int, default 100
        Maximum number of Newton or bisection steps.

    Returns
    -------
    float
        The fitted temperature; use it as ``logits / T``.

    Examples
    --------
    >>> logits = torch.tensor([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [0.0, 4.0]])
    >>> target = torch.tensor([0, 1, 0, 0])
    >>> t = fit_temperature(logits, target)
    >>> round(t, 4), round(4 / t, 4)  # the scaled logit gap is log(3): P(top) = 3/4
    (3.641, 1.0986)
    """
    check_class_logits(logits, target)
    check_finite(logits, "logits")
    if logits.shape[0] < 1:
        raise ValueError("`logits` must hold at least one example")
    low, high = _check_search_arguments(bounds, tol, max_iter)
    scores = logits.detach().movedim(1, -1).reshape(-1, logits.shape[1]).double()
    true_scores = scores.gather(1, target.reshape(-1, 1).long().to(scores.device)).squeeze(1)
    if bool((scores.amax(dim=1) == scores.amin(dim=1)).all()):
        return 1.0
    beta = _minimise_convex(scores, true_scores, 1.0 / high, 1.0 / low, tol, max_iter)
    return 1.0 / beta


def _nll_derivatives(
    scores: torch.Tensor, true_scores: torch.Tensor, beta: float
) -> tuple[float, float]:
    """First and second derivative of the mean NLL with respect to ``beta``."""
    probs = torch.softmax(beta * scores, dim=1)
    expected = (probs * scores).sum(dim=1)
    variance = (probs * (scores - expected.unsqueeze(1)).square()).sum(dim=1)
    return float((expected - true_scores).mean()), float(variance.mean())


def _minimise_convex(
    scores: torch.Tensor,
    true_scores: torch.Tensor,
    low: float,
    high: float,
    tol: float,
    max_iter: int,
) -> float:
    """Safeguarded Newton search for the zero of the increasing derivative on ``[low, high]``."""
    if _nll_derivatives(scores, true_scores, low)[0] >= 0:
        return low
    if _nll_derivatives(scores, true_scores, high)[0] <= 0:
        return high
    beta = min(max(1.0, low), high)
    for _ in range(max_iter):
        slope, curvature = _nll_derivatives(scores, true_scores, beta)
        if slope == 0:
            return beta
        if slope > 0:
            high = beta
        else:
            low = beta
        newton = beta - slope / curvature if curvature > 0 else math.nan
        # Newton's step when it stays inside the bracket, else a geometric bisection.
        step = newton if low < newton < high else math.sqrt(low * high)
        if abs(step - beta) <= tol * beta:
            return step
        beta = step
    return beta


def _check_search_arguments(
    bounds: tuple[float, float], tol: float, max_iter: int
) -> tuple[float, float]:
    if len(bounds) != 2:
        raise ValueError(f"`bounds` must be a pair (low, high), got {bounds!r}")
    low, high = (float(value) for value in bounds)
    if not (0 < low < high < math.inf):
        raise ValueError(f"`bounds` must satisfy 0 < low < high < inf, got {bounds!r}")
    check_positive(tol, "tol")
    check_positive_int(max_iter, "max_iter")
    return low, high

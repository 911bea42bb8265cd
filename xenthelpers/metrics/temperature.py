"""Temperature scaling: one scalar that recalibrates a trained classifier."""

from __future__ import annotations

import math

import torch

from .._validation import (
    check_class_logits_shape,
    check_scalar,
    class_indices_hold,
    finite_holds,
    run_deferred,
)


def fit_temperature(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    bounds: tuple[float, float] = (1e-2, 1e2),
    tol: float = 1e-10,
    max_iter: int = 100,
    validate_args: bool = True,
) -> float:
    r"""The temperature :math:`T > 0` that minimises the NLL of ``logits / T``.

    Temperature scaling :cite:p:`guo2017` fits a single scalar on held-out
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
    validate_args : bool, default True
        Check the values of the inputs (class indices in range, finite
        logits), reading them back from the device once. ``False`` skips that
        one read. The search itself cannot stay on the device: it returns a
        Python float and chooses each step from the last one, so it reads a
        few numbers back once for the starting bracket and once per step (the
        logits never leave their device), and it cannot run on the ``meta``
        device. Without the checks an index out of range fails inside
        ``torch.gather`` (on CUDA, as a device-side assert). Shapes, dtypes
        and options are always checked.

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
    num_classes = check_class_logits_shape(logits, target)
    if logits.shape[0] < 1:
        raise ValueError("`logits` must hold at least one example")
    low, high = _check_search_arguments(bounds, tol, max_iter)
    if validate_args:
        run_deferred(
            class_indices_hold(target, num_classes, "target"), finite_holds(logits, "logits")
        )
    scores = logits.detach().movedim(1, -1).reshape(-1, num_classes).double()
    true_scores = scores.gather(1, target.reshape(-1, 1).long().to(scores.device)).squeeze(1)
    # One read for the whole bracket: are all rows constant, and the slopes at both ends.
    constant = (scores.amax(dim=1) == scores.amin(dim=1)).all().to(scores.dtype)
    beta_low, beta_high = 1.0 / high, 1.0 / low
    slope_low = _nll_derivatives(scores, true_scores, beta_low)[0]
    slope_high = _nll_derivatives(scores, true_scores, beta_high)[0]
    is_constant, slope_low_value, slope_high_value = torch.stack(
        [constant, slope_low, slope_high]
    ).tolist()
    if is_constant:
        return 1.0
    if slope_low_value >= 0:
        return 1.0 / beta_low
    if slope_high_value <= 0:
        return 1.0 / beta_high
    beta = _minimise_convex(scores, true_scores, beta_low, beta_high, tol, max_iter)
    return 1.0 / beta


def _nll_derivatives(
    scores: torch.Tensor, true_scores: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """First and second derivative of the mean NLL with respect to ``beta`` (0-dim tensors)."""
    probs = torch.softmax(beta * scores, dim=1)
    expected = (probs * scores).sum(dim=1)
    variance = (probs * (scores - expected.unsqueeze(1)).square()).sum(dim=1)
    return (expected - true_scores).mean(), variance.mean()


def _minimise_convex(
    scores: torch.Tensor,
    true_scores: torch.Tensor,
    low: float,
    high: float,
    tol: float,
    max_iter: int,
) -> float:
    """Safeguarded Newton search for the zero of the increasing derivative on ``[low, high]``.

    The derivative is negative at ``low`` and positive at ``high``. Each step reads
    its slope and curvature back together.
    """
    beta = min(max(1.0, low), high)
    for _ in range(max_iter):
        slope, curvature = torch.stack(_nll_derivatives(scores, true_scores, beta)).tolist()
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
    if not isinstance(bounds, tuple | list) or len(bounds) != 2:
        raise ValueError(f"`bounds` must be a pair (low, high), got {bounds!r}")
    low, high = (float(check_scalar(value, "bounds")) for value in bounds)
    if not (0 < low < high < math.inf):
        raise ValueError(f"`bounds` must satisfy 0 < low < high < inf, got {bounds!r}")
    check_scalar(tol, "tol", min_val=0.0, max_val=math.inf, include_min=False, include_max=False)
    check_scalar(max_iter, "max_iter", integer=True, min_val=1)
    return low, high

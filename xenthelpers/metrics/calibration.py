"""Binned calibration: expected calibration error and reliability diagrams."""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._validation import (
    check_choice,
    check_class_indices_shape,
    check_floating,
    check_index_dtype,
    check_row_shape,
    check_scalar,
    class_indices_hold,
    distribution_holds,
    run_deferred,
    unit_interval_holds,
)

NORMS = ("l1", "l2", "max")


class ReliabilityCurve(NamedTuple):
    """Per-bin statistics returned by :func:`reliability_curve`.

    - ``bin_edges``: the ``n_bins + 1`` edges, from 0 to 1;
    - ``confidence``: mean confidence in each bin, NaN for an empty bin;
    - ``accuracy``: fraction of correct predictions (or of positive outcomes
      for ``(N,)`` inputs) in each bin, NaN for an empty bin;
    - ``count``: number of examples in each bin (long).

    Examples
    --------
    >>> probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> curve = reliability_curve(probs, torch.tensor([0, 0, 0]), n_bins=2)
    >>> curve.bin_edges
    tensor([0.0000, 0.5000, 1.0000])
    >>> curve.count
    tensor([0, 3])
    >>> curve.accuracy
    tensor([   nan, 0.6667])
    """

    bin_edges: torch.Tensor
    confidence: torch.Tensor
    accuracy: torch.Tensor
    count: torch.Tensor  # type: ignore[assignment]  # a field named like tuple.count


def expected_calibration_error(
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    n_bins: int = 15,
    norm: str = "l1",
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Binned calibration error (ECE, RMS calibration error or MCE).

    Predictions are sorted into :math:`M` = ``n_bins`` equal-width bins of
    confidence; in each bin :math:`B_m`, holding :math:`n_m` of the :math:`N`
    examples, the mean confidence :math:`\mathrm{conf}(B_m)` is compared with
    the observed frequency of being right :math:`\mathrm{acc}(B_m)`:

    .. math::

        \mathrm{ECE} = \sum_m \frac{n_m}{N}\,|\mathrm{acc}(B_m) - \mathrm{conf}(B_m)|,

    .. math::

        \begin{aligned}
        \mathrm{RMSCE} &= \Big(\sum_m \frac{n_m}{N}
        \big(\mathrm{acc}(B_m) - \mathrm{conf}(B_m)\big)^2\Big)^{1/2}, \\
        \mathrm{MCE} &= \max_{m:\,n_m > 0} |\mathrm{acc}(B_m) - \mathrm{conf}(B_m)|.
        \end{aligned}

    Bins are closed on the left, :math:`B_m = [\tfrac{m-1}{M}, \tfrac{m}{M})`,
    except the last, which also holds a confidence of exactly 1. The edges are
    ``torch.linspace(0, 1, n_bins + 1)`` in the dtype of ``probs``, so a
    confidence equal to an inner edge lands in the same bin as in
    torchmetrics' ``multiclass_calibration_error``; the one difference is that
    torchmetrics gives confidences of exactly 1 a bin of their own.

    Two layouts are accepted:

    - ``(N, K)`` probability rows with class-index targets: the confidence is
      the top-label probability :math:`\max_k p_{ik}` and an example is right
      when its arg-max is the target (top-label calibration, as in :cite:t:`guo2017`);
    - ``(N,)`` probabilities of the positive class with 0/1 targets: the
      confidence is :math:`p_i` and the outcome is :math:`y_i`, the calibration
      of :math:`P(y = 1)` as in torchmetrics' ``binary_calibration_error`` and
      scikit-learn's ``calibration_curve``. This is not the top-label error of
      the stacked rows ``[1 - p, p]``.

    The result is a statistic, not a loss: it is computed without gradient
    tracking.

    See :cite:t:`naeini2015` and :cite:t:`guo2017`.

    Parameters
    ----------
    probs : torch.Tensor
        Probability rows of shape ``(N, K)``, or positive-class probabilities
        of shape ``(N,)``.
    target : torch.Tensor
        Integer class indices of shape ``(N,)`` (0/1 for ``(N,)`` ``probs``).
    n_bins : int, default 15
        Number of equal-width bins, >= 1.
    norm : {"l1", "l2", "max"}, default "l1"
        ``"l1"`` for ECE, ``"l2"`` for the root-mean-square error and
        ``"max"`` for MCE.
    validate_args : bool, default True
        Check the values of the inputs (probability rows, or probabilities in
        ``[0, 1]``, and class indices in range), reading them back from the
        device once. ``False`` skips these checks: the call then never
        synchronises with an accelerator, since the bins are filled with
        ``scatter_add`` into ``n_bins`` slots (no ``bincount``, whose size
        depends on the data), and it runs on the ``meta`` device. Shapes,
        dtypes and options are always checked; invalid values then give a
        meaningless result instead of an error.

    Returns
    -------
    torch.Tensor
        A 0-dim tensor in ``probs``'s dtype and on its device.

    Examples
    --------
    >>> probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    >>> target = torch.tensor([0, 1, 1, 0])
    >>> expected_calibration_error(probs, target, n_bins=4)
    tensor(0.2500)
    >>> expected_calibration_error(probs, target, n_bins=4, norm="max")
    tensor(0.3500)
    """
    check_scalar(n_bins, "n_bins", integer=True, min_val=1)
    check_choice(norm, "norm", NORMS)
    with torch.no_grad():
        confidence, outcome = _confidence_and_outcome(probs, target, validate_args)
        index = _bin_index(confidence, n_bins)
        # Per bin, n_m * (acc - conf) is the sum of (outcome - confidence) over the bin.
        gap_sum = _bin_sum(outcome - confidence, index, n_bins)
        if norm == "l1":
            return gap_sum.abs().sum() / confidence.numel()
        count = _bin_sum(torch.ones_like(confidence), index, n_bins).clamp_(min=1)
        if norm == "l2":
            return ((gap_sum.square() / count).sum() / confidence.numel()).sqrt()
        return (gap_sum.abs() / count).amax()


def reliability_curve(
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    n_bins: int = 15,
    validate_args: bool = True,
) -> ReliabilityCurve:
    r"""Mean confidence, accuracy and count per confidence bin, for reliability diagrams.

    Plotting ``accuracy`` against ``confidence`` (or against the bin centres)
    gives the reliability diagram of :cite:t:`degroot1983`, popularised for
    neural networks by :cite:t:`guo2017`; a calibrated model lies on the diagonal. Bins and
    input layouts are those of :func:`expected_calibration_error`, whose
    ``"l1"`` value is ``(count / N * (accuracy - confidence).abs()).nansum()``.

    Parameters
    ----------
    probs : torch.Tensor
        Probability rows of shape ``(N, K)``, or positive-class probabilities
        of shape ``(N,)``.
    target : torch.Tensor
        Integer class indices of shape ``(N,)`` (0/1 for ``(N,)`` ``probs``).
    n_bins : int, default 15
        Number of equal-width bins, >= 1.
    validate_args : bool, default True
        Check the values of the inputs, reading them back from the device
        once. ``False`` skips these checks: the call then never synchronises
        with an accelerator and runs on the ``meta`` device, as for
        :func:`expected_calibration_error`.

    Returns
    -------
    ReliabilityCurve
        ``(bin_edges, confidence, accuracy, count)``; ``confidence`` and
        ``accuracy`` are NaN for empty bins (matplotlib leaves a gap there),
        so drop them with ``count > 0`` before any arithmetic.

    Examples
    --------
    >>> probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    >>> curve = reliability_curve(probs, torch.tensor([0, 1, 1, 0]), n_bins=4)
    >>> curve.count
    tensor([0, 0, 2, 2])
    >>> curve.confidence
    tensor([   nan,    nan, 0.6500, 0.8500])
    >>> curve.accuracy
    tensor([   nan,    nan, 0.5000, 0.5000])
    """
    check_scalar(n_bins, "n_bins", integer=True, min_val=1)
    with torch.no_grad():
        confidence, outcome = _confidence_and_outcome(probs, target, validate_args)
        index = _bin_index(confidence, n_bins)
        count = index.new_zeros(n_bins).scatter_add_(0, index, torch.ones_like(index))
        occupied = count.clamp(min=1).to(confidence.dtype)
        nan = float("nan")
        empty = count == 0
        mean_confidence = (_bin_sum(confidence, index, n_bins) / occupied).masked_fill_(empty, nan)
        accuracy = (_bin_sum(outcome, index, n_bins) / occupied).masked_fill_(empty, nan)
    return ReliabilityCurve(_bin_edges(confidence, n_bins), mean_confidence, accuracy, count)


def _confidence_and_outcome(
    probs: torch.Tensor, target: torch.Tensor, validate_args: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Check the inputs; return each example's confidence and 0/1 outcome."""
    check_floating(probs, "probs")
    if probs.dim() == 1:
        if probs.shape[0] < 1:
            raise ValueError("`probs` must hold at least one example")
        check_index_dtype(target, "target")
        check_class_indices_shape(target, probs.shape[0])
        if validate_args:
            run_deferred(
                unit_interval_holds(probs, "probs"), class_indices_hold(target, 2, "target")
            )
        return probs, target.to(probs.dtype)
    check_row_shape(probs, "probs")
    check_index_dtype(target, "target")
    check_class_indices_shape(target, probs.shape[0])
    if validate_args:
        run_deferred(
            distribution_holds(probs, "probs", dim=1),
            class_indices_hold(target, probs.shape[1], "target"),
        )
    confidence, prediction = probs.max(dim=1)
    return confidence, (prediction == target).to(probs.dtype)


def _bin_edges(confidence: torch.Tensor, n_bins: int) -> torch.Tensor:
    return torch.linspace(0, 1, n_bins + 1, dtype=confidence.dtype, device=confidence.device)


def _bin_index(confidence: torch.Tensor, n_bins: int) -> torch.Tensor:
    """Bin of each confidence: ``m`` such that ``edges[m] <= c < edges[m + 1]``, 1 in the last."""
    # Searching the inner edges only sends confidence 1 to the last bin.
    inner_edges = _bin_edges(confidence, n_bins)[1:-1]
    return torch.bucketize(confidence, inner_edges, right=True)


def _bin_sum(values: torch.Tensor, index: torch.Tensor, n_bins: int) -> torch.Tensor:
    # scatter_add_ has a deterministic CUDA kernel and, unlike bincount, needs no host sync.
    return values.new_zeros(n_bins).scatter_add_(0, index, values)

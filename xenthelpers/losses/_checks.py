"""Input checks that only the losses need, in the style of :mod:`xenthelpers._validation`."""

from __future__ import annotations

import torch

from .._validation import check_finite, check_floating, check_not_nan


def check_class_weights(
    weights: torch.Tensor, num_classes: int | None = None, name: str = "alpha"
) -> None:
    """Require a 1-D tensor of finite, non-negative class weights (of length ``num_classes``)."""
    check_floating(weights, name)
    if weights.dim() != 1:
        raise ValueError(
            f"`{name}` must be a 1-D tensor of class weights, got {tuple(weights.shape)}"
        )
    if num_classes is not None and weights.numel() != num_classes:
        raise ValueError(
            f"`{name}` must hold one weight per class ({num_classes}), got {weights.numel()}"
        )
    check_finite(weights, name)
    if bool((weights < 0).any()):
        lowest = float(weights.detach().min())
        raise ValueError(f"`{name}` must be non-negative, found {lowest:.4g}")


def check_prior(prior: torch.Tensor, num_classes: int | None = None, name: str = "prior") -> None:
    """Require a 1-D probability vector with strictly positive entries summing to one."""
    check_floating(prior, name)
    if prior.dim() != 1:
        raise ValueError(f"`{name}` must be a 1-D probability vector, got {tuple(prior.shape)}")
    if num_classes is not None and prior.numel() != num_classes:
        raise ValueError(
            f"`{name}` must hold one probability per class ({num_classes}), got {prior.numel()}"
        )
    check_finite(prior, name)
    if prior.numel() == 0 or bool((prior <= 0).any()):
        raise ValueError(f"`{name}` must have strictly positive entries")
    total = float(prior.detach().sum())
    if abs(total - 1.0) > 1e-4:
        raise ValueError(f"`{name}` must sum to 1, got {total:.6g}")


def check_not_empty(tensor: torch.Tensor, name: str) -> None:
    """Require at least one element (a mean over nothing would be NaN)."""
    if tensor.numel() == 0:
        raise ValueError(f"`{name}` must not be empty, got shape {tuple(tensor.shape)}")


def check_matrix(tensor: torch.Tensor, name: str, what: str = "(N, K)") -> None:
    """Require a non-empty 2-D floating-point tensor."""
    check_floating(tensor, name)
    if tensor.dim() != 2 or tensor.numel() == 0:
        raise ValueError(
            f"`{name}` must be a non-empty 2-D tensor {what}, got {tuple(tensor.shape)}"
        )


def check_result_finite(values: torch.Tensor, **inputs: torch.Tensor) -> None:
    """Raise ``ValueError`` naming the input to blame when ``values`` is not finite.

    The losses call this on a small intermediate result (one value per example)
    instead of scanning every input up front: the inputs are examined only once
    the result is known to be poisoned, which keeps the common case cheap.
    """
    if bool(torch.isfinite(values).all()):
        return
    for name, tensor in inputs.items():
        check_finite(tensor, name)
    raise ValueError(
        "the loss overflowed to a non-finite value although every input is finite; "
        "rescale the inputs (for example a larger `temperature`)"
    )


def check_target_log_probs(log_p: torch.Tensor, valid: torch.Tensor, logits: torch.Tensor) -> None:
    """Check the log-probabilities of the target classes gathered from ``log_softmax(logits)``.

    A NaN or ``+inf`` logit anywhere in a row, or a row of ``-inf`` logits,
    poisons that row's log-probabilities (and the gradient of every logit in
    it, ignored or not). ``-inf`` logits for other classes are allowed: they
    mask classes out. An ignored position may have a ``-inf`` log-probability.
    """
    if bool(torch.isfinite(log_p).all()):
        return
    check_not_nan(logits, "logits")
    if bool(torch.isposinf(logits).any()):
        raise ValueError("`logits` contains +inf values")
    if bool(torch.isnan(log_p).any()):
        raise ValueError("`logits` has a position whose logits are all -inf")
    if not bool(torch.isfinite(log_p[valid]).all()):
        raise ValueError(
            "`logits` is -inf for the target class of some position, so its loss is infinite"
        )

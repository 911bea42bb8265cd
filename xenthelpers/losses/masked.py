"""Binary cross-entropy over the observed entries of a partially labelled target."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._reduction import Reduction
from .._validation import (
    check_floating,
    check_not_empty,
    check_reduction,
    check_result_finite,
    check_same_shape,
)


def masked_binary_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    *,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Binary cross-entropy with logits, counted only where a label was observed.

    With the observation mask :math:`m_{ij} \in \{0, 1\}`,

    .. math::

        \ell_{ij} = m_{ij}\,\bigl[-t_{ij} \log \sigma(x_{ij})
                    - (1 - t_{ij}) \log \sigma(-x_{ij})\bigr],
        \qquad
        L_\text{mean} = \frac{\sum_{ij} \ell_{ij}}{\sum_{ij} m_{ij}} .

    A missing label contributes nothing, neither to the loss nor to the
    gradient: its logit gets a gradient of exactly 0, whatever is stored in
    ``target`` there. This is the likelihood of the observed labels alone,
    which is unbiased only when labels go missing independently of their
    value (missing completely at random).

    Parameters
    ----------
    logits : Tensor
        Logits of any shape.
    target : Tensor
        Floating-point targets, same shape. Where ``mask`` is true they must
        lie in ``[0, 1]``; elsewhere any value is accepted, NaN included (a
        common way to store a missing label).
    mask : Tensor
        Same shape; ``True`` (or 1) where the label is observed. Boolean, or
        numeric with values 0 and 1 only.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` divides the sum by the number of observed entries (and
        returns 0 if there are none); ``"none"`` returns the element losses,
        with zeros at unobserved entries.

    Returns
    -------
    Tensor
        A scalar, or the element losses for ``reduction="none"``.

    Examples
    --------
    >>> import torch
    >>> logits = torch.zeros(2, 2)
    >>> target = torch.tensor([[1.0, float("nan")], [0.0, 1.0]])
    >>> mask = torch.tensor([[True, False], [True, True]])
    >>> masked_binary_cross_entropy(logits, target, mask, reduction="none")
    tensor([[0.6931, 0.0000],
            [0.6931, 0.6931]])
    >>> masked_binary_cross_entropy(logits, target, mask)
    tensor(0.6931)
    """
    check_floating(logits, "logits")
    check_not_empty(logits, "logits")
    check_floating(target, "target")
    check_same_shape(logits, target, "logits", "target")
    check_same_shape(logits, mask, "logits", "mask")
    observed = _as_bool_mask(mask)
    _check_observed_targets(target, observed)
    check_reduction(reduction)

    # Unobserved targets (possibly NaN) are replaced before they reach the
    # loss, so that neither the value nor the gradient can pick them up.
    safe_target = torch.where(observed, target, 0.0)
    loss = F.binary_cross_entropy_with_logits(logits, safe_target, reduction="none")
    check_result_finite(loss, logits=logits)
    loss = torch.where(observed, loss, 0.0)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / observed.sum().clamp(min=1)


def _as_bool_mask(mask: torch.Tensor) -> torch.Tensor:
    if mask.dtype == torch.bool:
        return mask
    if mask.is_complex() or bool(((mask != 0) & (mask != 1)).any()):
        raise ValueError("`mask` must be boolean or hold only the values 0 and 1")
    return mask != 0


def _check_observed_targets(target: torch.Tensor, observed: torch.Tensor) -> None:
    values = target.detach()[observed]
    if bool(torch.isnan(values).any()):
        raise ValueError("`target` is NaN at an entry where `mask` is True (an observed label)")
    if bool(((values < 0) | (values > 1)).any()):
        raise ValueError("`target` must lie in [0, 1] where `mask` is True")

"""Binary cross-entropy over the observed entries of a partially labelled target."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._reduction import Reduction, reduce_loss
from .._validation import (
    Deferred,
    check_floating,
    check_mask_dtype,
    check_reduction,
    check_same_shape,
    mask_values_hold,
    observed_targets_hold,
    result_finite_holds,
    run_deferred,
)
from ._module import LossModule


def masked_binary_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    *,
    reduction: Reduction = "mean",
    validate_args: bool = True,
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
        ``"none"`` returns the element losses, with zeros at unobserved
        entries; ``"sum"`` adds them up; ``"mean"`` divides that sum by the
        number of observed entries (NaN if there are none, as
        ``torch.nn.functional.cross_entropy`` gives when every target is
        ignored).
    validate_args : bool, default True
        Check the values of the inputs (``mask`` holding only 0 and 1, observed
        targets in ``[0, 1]``, a finite loss everywhere), reading them back from
        the device once. ``False`` skips these checks: the call then never
        synchronises with an accelerator and ``torch.compile`` traces it without
        a graph break. Shapes, dtypes and options are always checked.

    Returns
    -------
    Tensor
        A scalar, or the element losses for ``reduction="none"``.

    Notes
    -----
    ``"mean"`` is ``reduction="none"`` followed by a mean over the entries
    that count, the observed ones: an unobserved entry is neither a loss nor
    a zero to average in. Logits must be finite also where the label is
    missing: a NaN there would reach the gradient, and raises.

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
    check_floating(target, "target")
    check_same_shape(logits, target, "logits", "target")
    check_same_shape(logits, mask, "logits", "mask")
    check_mask_dtype(mask)
    check_reduction(reduction)
    observed = mask if mask.dtype == torch.bool else mask != 0
    deferred: list[Deferred] = []
    if validate_args:
        deferred += [mask_values_hold(mask), observed_targets_hold(target, observed)]

    # Unobserved targets (possibly NaN) are replaced before they reach the
    # loss, so that neither the value nor the gradient can pick them up.
    safe_target = torch.where(observed, target, 0.0)
    loss = F.binary_cross_entropy_with_logits(logits, safe_target, reduction="none")
    if validate_args:
        # Before masking: a NaN logit at an unobserved entry would reach the gradient.
        run_deferred(*deferred, result_finite_holds(loss, {"logits": logits}))
    loss = torch.where(observed, loss, 0.0)
    return reduce_loss(loss, reduction, count=observed.sum())


class MaskedBCEWithLogitsLoss(LossModule):
    r"""Module form of :func:`masked_binary_cross_entropy`.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"
    validate_args : bool, default True
        Passed on to :func:`masked_binary_cross_entropy`.

    Examples
    --------
    >>> import torch
    >>> criterion = MaskedBCEWithLogitsLoss()
    >>> criterion
    MaskedBCEWithLogitsLoss(reduction='mean')
    >>> target = torch.tensor([1.0, float("nan")])
    >>> criterion(torch.zeros(2), target, torch.tensor([True, False]))
    tensor(0.6931)
    """

    function = staticmethod(masked_binary_cross_entropy)

    def __init__(self, reduction: Reduction = "mean", validate_args: bool = True) -> None:
        check_reduction(reduction)
        super().__init__(reduction=reduction, validate_args=validate_args)

"""Logit adjustment for long-tailed labels: the class prior moved into the logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._reduction import Reduction, reduce_loss
from .._validation import (
    check_class_logits,
    check_floating,
    check_non_negative,
    check_not_empty,
    check_not_nan,
    check_prior,
    check_reduction,
    check_result_finite,
)


def logit_adjusted_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    prior: torch.Tensor,
    *,
    tau: float = 1.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Cross-entropy of the logits shifted by the scaled log prior (logit-adjusted loss).

    With :math:`\pi` the training class prior, each element contributes

    .. math::

        \ell = -\log \frac{\exp(z_y + \tau \log \pi_y)}
                          {\sum_k \exp(z_k + \tau \log \pi_k)}
             = \mathrm{CE}\bigl(z + \tau \log \pi,\, y\bigr).

    Training on the adjusted logits lets the model's own logits :math:`z` be
    free of the label prior, so that :math:`\arg\max_k z_k` targets the
    balanced error. With :math:`\tau = 1` the optimum is
    :math:`z_k = \log p(x \mid k) + \text{const}`; ``tau=0`` gives plain
    cross-entropy.

    Parameters
    ----------
    logits : Tensor
        Unnormalised scores of shape ``(N, K)`` or ``(N, K, d1, ...)``.
    target : Tensor
        Integer class indices in ``[0, K)`` of shape ``(N,)`` or ``(N, d1, ...)``.
    prior : Tensor
        Training class frequencies :math:`\pi`, a length-``K`` probability
        vector with strictly positive entries.
    tau : float, default 1.0
        Scale :math:`\tau \ge 0` of the adjustment.
    reduction : {"mean", "sum", "none"}, default "mean"
        How to reduce the element losses.

    Returns
    -------
    Tensor
        A scalar, or the element losses for ``reduction="none"``.

    See Also
    --------
    adjust_logits : the post-hoc correction of a model trained without it.

    References
    ----------
    Menon, A. K., Jayasumana, S., Rawat, A. S., Jain, H., Veit, A., and
    Kumar, S. (2021). Long-tail learning via logit adjustment. *ICLR*.

    Examples
    --------
    >>> import torch
    >>> logits = torch.zeros(2, 2)
    >>> target = torch.tensor([0, 1])
    >>> prior = torch.tensor([0.9, 0.1])
    >>> logit_adjusted_cross_entropy(logits, target, prior, reduction="none")
    tensor([0.1054, 2.3026])
    """
    num_classes = check_class_logits(logits, target)
    check_not_empty(logits, "logits")
    check_prior(prior, num_classes)
    check_non_negative(tau, "tau")
    check_reduction(reduction)

    adjusted = logits + tau * _log_prior_along_classes(prior, logits)
    loss = F.cross_entropy(adjusted, target.long(), reduction="none")
    check_result_finite(loss, logits=logits)
    return reduce_loss(loss, reduction)


def adjust_logits(logits: torch.Tensor, prior: torch.Tensor, *, tau: float = 1.0) -> torch.Tensor:
    r"""Post-hoc logit adjustment: subtract the scaled log prior from the logits.

    .. math::

        \tilde z_k = z_k - \tau \log \pi_k .

    A model trained with plain cross-entropy on data with class prior
    :math:`\pi` estimates :math:`p(y \mid x) \propto p(x \mid y)\,\pi_y`; with
    :math:`\tau = 1` the adjusted logits give the posterior under a uniform
    prior, whose arg-max minimises the balanced error. To move to another
    test prior :math:`\pi'`, add :math:`\log \pi'` afterwards.

    Parameters
    ----------
    logits : Tensor
        Unnormalised scores of shape ``(N, K)`` or ``(N, K, d1, ...)``, classes
        along dim 1.
    prior : Tensor
        Training class frequencies, a length-``K`` probability vector with
        strictly positive entries.
    tau : float, default 1.0
        Scale :math:`\tau \ge 0` of the adjustment.

    Returns
    -------
    Tensor
        The adjusted logits, same shape as ``logits``.

    See Also
    --------
    logit_adjusted_cross_entropy : the same correction built into training.

    References
    ----------
    Menon, A. K., Jayasumana, S., Rawat, A. S., Jain, H., Veit, A., and
    Kumar, S. (2021). Long-tail learning via logit adjustment. *ICLR*.

    Examples
    --------
    >>> import torch
    >>> logits = torch.tensor([[1.0, 0.0]])
    >>> prior = torch.tensor([0.9, 0.1])
    >>> adjust_logits(logits, prior)
    tensor([[1.1054, 2.3026]])
    """
    check_floating(logits, "logits")
    if logits.dim() < 2:
        raise ValueError(
            f"`logits` must have shape (N, K) or (N, K, d1, ...), got {tuple(logits.shape)}"
        )
    check_not_nan(logits, "logits")
    check_prior(prior, logits.shape[1])
    check_non_negative(tau, "tau")
    return logits - tau * _log_prior_along_classes(prior, logits)


def _log_prior_along_classes(prior: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``log(prior)`` on the device and dtype of ``logits``, broadcast along dim 1."""
    log_prior = prior.to(device=logits.device, dtype=logits.dtype).log()
    return log_prior.view(-1, *([1] * (logits.dim() - 2)))

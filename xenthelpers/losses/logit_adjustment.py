"""Logit adjustment for long-tailed labels: the class prior moved into the logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._reduction import Reduction, reduce_loss
from .._validation import (
    Deferred,
    check_class_logits_shape,
    check_floating,
    check_prior_shape,
    check_reduction,
    check_scalar,
    class_indices_hold,
    distribution_holds,
    not_nan_holds,
    result_finite_holds,
    run_deferred,
)
from ._module import LossModule


def logit_adjusted_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    prior: torch.Tensor,
    *,
    tau: float = 1.0,
    reduction: Reduction = "mean",
    validate_args: bool = True,
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
        vector with strictly positive entries. On another device than
        ``logits`` it is copied there at every call; the module form
        :class:`LogitAdjustedCrossEntropyLoss` keeps it as a buffer instead.
    tau : float, default 1.0
        Scale :math:`\tau \ge 0` of the adjustment.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the element losses, shaped like ``target``;
        ``"sum"`` adds them up; ``"mean"`` averages them (NaN for an empty
        batch, as for ``torch.nn.functional.cross_entropy``).
    validate_args : bool, default True
        Check the values of the inputs (class indices in range, ``prior`` a
        probability vector with positive entries, a finite loss everywhere),
        reading them back from the device once. ``False`` skips these checks:
        the call then never synchronises with an accelerator and
        ``torch.compile`` traces it without a graph break. Shapes, dtypes and
        options are always checked.

    Returns
    -------
    Tensor
        A scalar, or the element losses for ``reduction="none"``.

    See Also
    --------
    adjust_logits : the post-hoc correction of a model trained without it.

    References
    ----------
    :cite:t:`menon2021`.

    Examples
    --------
    >>> import torch
    >>> logits = torch.zeros(2, 2)
    >>> target = torch.tensor([0, 1])
    >>> prior = torch.tensor([0.9, 0.1])
    >>> logit_adjusted_cross_entropy(logits, target, prior, reduction="none")
    tensor([0.1054, 2.3026])
    """
    num_classes = check_class_logits_shape(logits, target)
    check_prior_shape(prior, num_classes)
    _check_options(tau, reduction)
    target = target.long()
    prior = prior.to(device=logits.device)  # one copy, read with the other checks

    deferred: list[Deferred] = []
    if validate_args:
        in_range = class_indices_hold(target, num_classes)
        # An index out of range would make cross_entropy fail before the checks are
        # read; skip it there (-100 is cross_entropy's ignore_index) and let the
        # deferred check report it.
        target = torch.where(in_range.holds, target, -100)
        deferred += [in_range, distribution_holds(prior, "prior", positive=True)]
    adjusted = logits + tau * _log_prior_along_classes(prior, logits)
    loss = F.cross_entropy(adjusted, target, reduction="none")
    if validate_args:
        run_deferred(*deferred, result_finite_holds(loss, {"logits": logits}))
    return reduce_loss(loss, reduction)


def adjust_logits(
    logits: torch.Tensor,
    prior: torch.Tensor,
    *,
    tau: float = 1.0,
    validate_args: bool = True,
) -> torch.Tensor:
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
    validate_args : bool, default True
        Check that ``logits`` holds no NaN (infinities are allowed) and that
        ``prior`` is a probability vector with positive entries, reading them
        back from the device once; ``False`` skips these checks. Shapes, dtypes
        and ``tau`` are always checked.

    Returns
    -------
    Tensor
        The adjusted logits, same shape as ``logits``.

    See Also
    --------
    logit_adjusted_cross_entropy : the same correction built into training.

    References
    ----------
    :cite:t:`menon2021`.

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
    check_prior_shape(prior, logits.shape[1])
    check_scalar(tau, "tau", min_val=0.0, max_val=float("inf"), include_max=False)
    prior = prior.to(device=logits.device)  # one copy, read with the logits
    if validate_args:
        run_deferred(
            not_nan_holds(logits, "logits"), distribution_holds(prior, "prior", positive=True)
        )
    return logits - tau * _log_prior_along_classes(prior, logits)


def _check_options(tau: float, reduction: str) -> None:
    """The option checks, which read no tensor data: also run once by the module form."""
    check_scalar(tau, "tau", min_val=0.0, max_val=float("inf"), include_max=False)
    check_reduction(reduction)


def _log_prior_along_classes(prior: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``log(prior)`` on the device and dtype of ``logits``, broadcast along dim 1."""
    log_prior = prior.to(device=logits.device, dtype=logits.dtype).log()
    return log_prior.view(-1, *([1] * (logits.dim() - 2)))


class LogitAdjustedCrossEntropyLoss(LossModule):
    r"""Module form of :func:`logit_adjusted_cross_entropy`.

    Parameters
    ----------
    prior : Tensor
        Training class frequencies, a length-``K`` probability vector with
        strictly positive entries, kept as a buffer.
    tau : float, default 1.0
        Scale :math:`\tau \ge 0` of the adjustment.
    reduction : {"mean", "sum", "none"}, default "mean"
    validate_args : bool, default True
        Passed on to :func:`logit_adjusted_cross_entropy`.

    Examples
    --------
    >>> import torch
    >>> criterion = LogitAdjustedCrossEntropyLoss(torch.tensor([0.9, 0.1]))
    >>> criterion
    LogitAdjustedCrossEntropyLoss(prior=[0.9, 0.1], tau=1.0, reduction='mean')
    >>> criterion(torch.zeros(2, 2), torch.tensor([0, 1]))
    tensor(1.2040)
    """

    function = staticmethod(logit_adjusted_cross_entropy)
    options = ("prior", "tau")
    tensor_options = ("prior",)
    prior: torch.Tensor

    def __init__(
        self,
        prior: torch.Tensor,
        tau: float = 1.0,
        reduction: Reduction = "mean",
        validate_args: bool = True,
    ) -> None:
        check_prior_shape(prior)
        _check_options(tau, reduction)
        run_deferred(distribution_holds(prior, "prior", positive=True))
        super().__init__(
            prior=prior, tau=float(tau), reduction=reduction, validate_args=validate_args
        )

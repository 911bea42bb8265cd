"""Test metrics of every member of an ensemble: calibration, likelihood, accuracy."""

from __future__ import annotations

from typing import TypedDict

import torch
import torch.nn.functional as F

from .._validation import check_member_logits, check_positive_int, class_indices_hold, run_deferred
from ..metrics.calibration import expected_calibration_error


class MemberMetrics(TypedDict):
    """What :func:`evaluate_members` returns: one value per member for each metric.

    - ``ECE``: expected calibration error of the top label (15 bins by default);
    - ``NLL``: mean negative log-likelihood of the true class, in nats;
    - ``accuracy``: share of arg-max predictions that are right, in float64;
    - ``confidence``: mean top-label probability (``confidence - accuracy`` is
      the overconfidence).

    Each value is a tensor of shape ``(M,)``, in the dtype of the logits except
    ``accuracy``. A plain ``dict`` at run time, with the keys in this order.

    Examples
    --------
    >>> logits = torch.tensor([[[2.0], [0.0]], [[0.0], [1.0]]])  # N = 2, K = 2, M = 1
    >>> metrics = evaluate_members(logits, torch.tensor([0, 0]))
    >>> list(metrics)
    ['ECE', 'NLL', 'accuracy', 'confidence']
    >>> metrics["accuracy"]
    tensor([0.5000], dtype=torch.float64)
    """

    ECE: torch.Tensor
    NLL: torch.Tensor
    accuracy: torch.Tensor
    confidence: torch.Tensor


@torch.no_grad()
def evaluate_members(
    logits: torch.Tensor, target: torch.Tensor, *, n_bins: int = 15
) -> MemberMetrics:
    r"""ECE, negative log-likelihood, accuracy and mean confidence of each ensemble member.

    With logits :math:`z_{nkm}` of example :math:`n`, class :math:`k` and member
    :math:`m` (the layout of :class:`MLPEnsemble`), probabilities
    :math:`p_{nkm} = \operatorname{softmax}_k z_{n\cdot m}` and true classes
    :math:`y_{nm}`, member :math:`m` scores

    .. math::

        \begin{aligned}
        \mathrm{NLL}_m &= -\frac{1}{N}\sum_n \log p_{n y_{nm} m}, \\
        \mathrm{acc}_m &= \frac{1}{N}\sum_n [\arg\max_k p_{nkm} = y_{nm}], \\
        \mathrm{conf}_m &= \frac{1}{N}\sum_n \max_k p_{nkm},
        \end{aligned}

    and :math:`\mathrm{ECE}_m`, the binned calibration error of
    :func:`~xenthelpers.metrics.expected_calibration_error` :cite:p:`guo2017` of its
    probability rows. The
    arithmetic is that of ``F.cross_entropy(..., reduction="none").mean(0)``
    and of ``expected_calibration_error`` member by member, so the values are
    those a direct computation gives, to the last bit.

    Parameters
    ----------
    logits : torch.Tensor
        Floating-point logits of shape ``(N, K, M)``.
    target : torch.Tensor
        True class indices in ``[0, K)``: shape ``(N,)`` for a test set shared by
        every member, or ``(N, M)`` for one set per member.
    n_bins : int, default 15
        Number of equal-width confidence bins of the ECE.

    Returns
    -------
    MemberMetrics
        A dict ``{"ECE", "NLL", "accuracy", "confidence"}`` of ``(M,)`` tensors.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> logits = torch.randn(200, 3, 4)  # 200 test points, 3 classes, 4 members
    >>> target = torch.randint(0, 3, (200,))
    >>> metrics = evaluate_members(logits, target)
    >>> {key: tuple(value.shape) for key, value in metrics.items()}
    {'ECE': (4,), 'NLL': (4,), 'accuracy': (4,), 'confidence': (4,)}
    >>> nll = torch.nn.functional.cross_entropy(logits[..., 2], target)
    >>> bool(metrics["NLL"][2].isclose(nll))
    True
    """
    num_classes, num_members = check_member_logits(logits, target)
    check_positive_int(n_bins, "n_bins")
    run_deferred(class_indices_hold(target, num_classes, "target"))
    target = target.long()
    if target.dim() == 1:
        target = target[:, None].expand(-1, num_members)  # the same labels for all
    probs = logits.softmax(dim=1)
    accuracy = (probs.argmax(1) == target).double().mean(0)
    return MemberMetrics(
        ECE=torch.stack(
            [
                expected_calibration_error(probs[..., m], target[:, m], n_bins=n_bins)
                for m in range(num_members)
            ]
        ),
        NLL=F.cross_entropy(logits, target, reduction="none").mean(0),
        accuracy=accuracy,
        confidence=probs.amax(1).mean(0),
    )

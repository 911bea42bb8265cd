r"""Long-tailed class priors, for experiments on label imbalance.

Benchmarks of long-tail learning shrink the classes of a balanced data set
along a fixed profile, so that the frequencies decay from a head class to a
tail class by a chosen *imbalance ratio* :math:`\rho = \pi_{\max} / \pi_{\min}`.
:func:`long_tail_prior` returns that profile as a probability vector, ready for
the ``priors=`` argument of :class:`~xenthelpers.data.GaussianClasses`.
"""

from __future__ import annotations

import math

import torch

from .._validation import check_positive_int


def long_tail_prior(
    num_classes: int,
    imbalance_ratio: float,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""Class probabilities that decay exponentially from class 0 to class :math:`K - 1`.

    .. math::

        \pi_k = \frac{\rho^{-k/(K-1)}}{\sum_{j=0}^{K-1} \rho^{-j/(K-1)}},
        \qquad k = 0, \dots, K - 1,

    so that consecutive classes differ by the constant factor
    :math:`\rho^{1/(K-1)}` and the head-to-tail ratio :math:`\pi_0 / \pi_{K-1}`
    is the imbalance ratio :math:`\rho \ge 1`. This is the "exponential"
    profile of the long-tailed CIFAR benchmarks :cite:p:`cui2019`, with
    probabilities in place of sample counts; :math:`\rho = 1` gives the uniform
    prior. The vector is computed as a softmax of
    :math:`-\tfrac{k}{K-1}\log\rho`, so it stays exact for very large ratios.

    Parameters
    ----------
    num_classes : int
        Number of classes :math:`K \ge 2`.
    imbalance_ratio : float
        Ratio :math:`\rho = \pi_0 / \pi_{K-1}` of the most to the least frequent
        class, a finite number :math:`\ge 1`.
    dtype : torch.dtype, default torch.float64
        Floating-point dtype of the result.
    device : torch.device or str, optional
        Device of the result (PyTorch's default device if ``None``).

    Returns
    -------
    torch.Tensor
        Shape ``(K,)``, positive, non-increasing, summing to one.

    References
    ----------
    :cite:t:`cui2019`.

    Examples
    --------
    >>> prior = long_tail_prior(3, 100.0)
    >>> prior
    tensor([0.9009, 0.0901, 0.0090], dtype=torch.float64)
    >>> round((prior[0] / prior[-1]).item(), 6)
    100.0
    >>> long_tail_prior(4, 1.0, dtype=torch.float32)
    tensor([0.2500, 0.2500, 0.2500, 0.2500])
    """
    check_positive_int(num_classes, "num_classes")
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be >= 2, got {num_classes}")
    if isinstance(imbalance_ratio, bool) or not isinstance(imbalance_ratio, (int, float)):
        raise ValueError(f"`imbalance_ratio` must be a number >= 1, got {imbalance_ratio!r}")
    if not (1.0 <= float(imbalance_ratio) < math.inf):
        raise ValueError(f"`imbalance_ratio` must be a finite number >= 1, got {imbalance_ratio}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
    # The exponents in float64 whatever `dtype`, rounded once at the end.
    steps = torch.arange(num_classes, dtype=torch.float64, device=device) / (num_classes - 1)
    log_prior = torch.log_softmax(-steps * math.log(imbalance_ratio), dim=0)
    return log_prior.exp().to(dtype)

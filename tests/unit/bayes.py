"""Bayes' rule for a mixture of isotropic Gaussians, written with ``torch.distributions``.

The reference that the data-set tests hold the generators' closed-form posteriors to:
independent of xenthelpers, and computed in float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch.distributions import MultivariateNormal


def gaussian_log_joint(
    means: torch.Tensor, weights: Sequence[float], scale: float, x: torch.Tensor
) -> torch.Tensor:
    r"""``(N, K)`` float64 :math:`\log w_k + \log \mathcal{N}(x; \mu_k, \sigma^2 I)`.

    ``means`` is ``(K, d)``, ``weights`` the ``K`` mixture weights (a component of
    weight 0 gets :math:`-\infty`), ``scale`` the common standard deviation
    :math:`\sigma` and ``x`` the ``(N, d)`` points.
    """
    cov = scale**2 * torch.eye(means.shape[1], dtype=torch.float64)
    return torch.stack(
        [
            MultivariateNormal(mean.double(), covariance_matrix=cov).log_prob(x.double())
            + math.log(weight)
            if weight > 0
            else torch.full((x.shape[0],), -math.inf, dtype=torch.float64)
            for mean, weight in zip(means, weights, strict=True)
        ],
        dim=1,
    )


def gaussian_posterior(
    means: torch.Tensor, weights: Sequence[float], scale: float, x: torch.Tensor
) -> torch.Tensor:
    """``(N, K)`` float64 posterior probabilities of the components given ``x``."""
    return torch.softmax(gaussian_log_joint(means, weights, scale, x), dim=1)

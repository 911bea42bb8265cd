r"""The optimum of the mixup objective: Beta quadrature and the mixup posterior.

Cross-entropy is linear in its target, so the function that minimises the
expected mixup loss is the conditional mean of the mixed target given what the
predictor sees. For Gaussian classes with a known density this conditional
mean, :func:`mixup_posterior`, is a one-dimensional integral over the mixing
weight, computed by Gauss–Jacobi quadrature (:func:`beta_quadrature`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import special

from .._validation import (
    check_float_dtype,
    check_floating,
    check_positive_int,
    check_scalar,
    finite_holds,
    run_deferred,
)
from ..data.gaussian_classes import GaussianClasses

# Entries of the (inputs x quadrature terms) table evaluated at once.
_CHUNK_ENTRIES = 1 << 22


def beta_quadrature(
    a: float,
    b: float,
    num_nodes: int = 64,
    *,
    dtype: torch.dtype | None = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Gauss–Jacobi nodes and weights for expectations under :math:`\mathrm{Beta}(a, b)`.

    Returns nodes :math:`\lambda_1, \dots, \lambda_n \in (0, 1)` and positive
    weights :math:`w_1, \dots, w_n` summing to one such that

    .. math::

        \sum_{i=1}^{n} w_i\, f(\lambda_i) = \mathbb{E}_{\lambda \sim
        \mathrm{Beta}(a, b)}\bigl[f(\lambda)\bigr]
        = \int_0^1 f(\lambda)\, \frac{\lambda^{a-1} (1 - \lambda)^{b-1}}{B(a, b)}\, d\lambda

    exactly for every polynomial :math:`f` of degree at most :math:`2n - 1`,
    and to high accuracy for smooth :math:`f`. The Beta density's
    singularities at 0 and 1 (for :math:`a < 1` or :math:`b < 1`) are part of
    the weight function, so they cost no accuracy. The nodes are those of
    ``scipy.special.roots_jacobi(n, b - 1, a - 1)`` mapped from
    :math:`[-1, 1]` to :math:`[0, 1]` by :math:`\lambda = (1 + t)/2`
    :cite:p:`golub1969`.

    Parameters
    ----------
    a, b : float
        Shape parameters of the Beta distribution, both > 0. Mixup draws its
        weight from :math:`\mathrm{Beta}(\alpha, \alpha)`: ``a = b = alpha``.
    num_nodes : int, default 64
        Number of nodes :math:`n \ge 1`.
    dtype : torch.dtype, default torch.float64
        Floating-point type of the returned tensors (the nodes are computed in
        float64).
    device : torch.device or str, optional
        Where to put the returned tensors.

    Returns
    -------
    nodes, weights : torch.Tensor
        Both of shape ``(num_nodes,)``; nodes increasing.

    Examples
    --------
    >>> nodes, weights = beta_quadrature(2.0, 0.5, num_nodes=8)
    >>> round(float(weights.sum()), 12), round(float(weights @ nodes), 12)  # 1 and a/(a+b)
    (1.0, 0.8)
    """
    check_scalar(a, "a", min_val=0.0, max_val=math.inf, include_min=False, include_max=False)
    check_scalar(b, "b", min_val=0.0, max_val=math.inf, include_min=False, include_max=False)
    check_positive_int(num_nodes, "num_nodes")
    dtype = check_float_dtype(dtype)
    t, w = special.roots_jacobi(num_nodes, float(b) - 1.0, float(a) - 1.0)
    nodes = (1.0 + np.asarray(t, dtype=np.float64)) / 2.0
    weights = np.asarray(w, dtype=np.float64)
    weights = weights / weights.sum()
    return (
        torch.as_tensor(nodes, dtype=dtype, device=device),
        torch.as_tensor(weights, dtype=dtype, device=device),
    )


def mixup_posterior(
    classes: GaussianClasses,
    inputs: torch.Tensor,
    *,
    alpha: float,
    num_nodes: int = 64,
) -> torch.Tensor:
    r"""The minimiser of the population mixup loss on Gaussian classes, E[mixed target | input].

    Mixup :cite:p:`zhang2018` trains on :math:`\tilde x = \lambda x +
    (1 - \lambda) x'` with target :math:`\tilde{\mathbf{y}} = \lambda
    \mathbf{e}_y + (1 - \lambda) \mathbf{e}_{y'}`, where :math:`(x, y)` and
    :math:`(x', y')` are independent draws and :math:`\lambda \sim
    \mathrm{Beta}(\alpha, \alpha)`. Cross-entropy is linear in its target, so
    over all functions of :math:`\tilde x` the expected loss is smallest at the
    conditional mean of the target. For the classes of
    :class:`~xenthelpers.data.GaussianClasses` (means :math:`\mu_k`, standard
    deviation :math:`\sigma`, priors :math:`\pi_k`), given :math:`y = k`,
    :math:`y' = l` and :math:`\lambda`,

    .. math::

        \tilde x \sim \mathcal{N}\bigl(\lambda \mu_k + (1 - \lambda)\mu_l,\;
        (\lambda^2 + (1 - \lambda)^2)\, \sigma^2 I\bigr),

    so, with :math:`\phi_{kl}(\tilde x; \lambda)` that density,

    .. math::

        \mathbb{E}[\tilde{\mathbf{y}} \mid \tilde x] =
        \frac{\sum_{k, l} \pi_k \pi_l\, \mathbb{E}_\lambda\bigl[\phi_{kl}(\tilde x; \lambda)
        \bigl(\lambda \mathbf{e}_k + (1 - \lambda)\mathbf{e}_l\bigr)\bigr]}
        {\sum_{k, l} \pi_k \pi_l\, \mathbb{E}_\lambda\bigl[\phi_{kl}(\tilde x; \lambda)\bigr]},

    with the expectations over :math:`\lambda` taken by
    :func:`beta_quadrature` and the ratio formed in log space. This is the
    prediction of a perfect model trained with mixup on unlimited data; on
    unmixed inputs it differs from the Bayes posterior
    :meth:`~xenthelpers.data.GaussianClasses.posterior`, which it approaches as
    :math:`\alpha \to 0`.

    Parameters
    ----------
    classes : GaussianClasses
        The data distribution both examples of a pair are drawn from.
    inputs : torch.Tensor
        Points :math:`\tilde x` of shape ``(N, d)``, floating point, finite.
    alpha : float
        Mixup's concentration :math:`\alpha > 0`.
    num_nodes : int, default 64
        Quadrature nodes over :math:`\lambda`. The integrand is smooth in
        :math:`\lambda`; within a few standard deviations of the means, 64
        nodes agree with 256 to about :math:`10^{-11}`.

    Returns
    -------
    torch.Tensor
        Probability rows of shape ``(N, K)``, in the dtype and on the device of
        ``inputs`` (computed in float64).

    Examples
    --------
    >>> from xenthelpers.data import make_gaussian_classes
    >>> classes = make_gaussian_classes(2, dim=2, radius=1.5)
    >>> x = torch.tensor([[0.0, 0.0], [1.5, 0.0]])
    >>> mixup_posterior(classes, x, alpha=1.0)  # less sure than the Bayes posterior
    tensor([[0.5000, 0.5000],
            [0.9167, 0.0833]])
    >>> classes.posterior(x)
    tensor([[0.5000, 0.5000],
            [0.9890, 0.0110]])
    """
    if not isinstance(classes, GaussianClasses):
        raise ValueError(f"`classes` must be a GaussianClasses, got {type(classes).__name__}")
    check_floating(inputs, "inputs")
    if inputs.dim() != 2 or inputs.shape[1] != classes.dim:
        raise ValueError(f"`inputs` must have shape (N, {classes.dim}), got {tuple(inputs.shape)}")
    check_scalar(
        alpha, "alpha", min_val=0.0, max_val=math.inf, include_min=False, include_max=False
    )
    check_positive_int(num_nodes, "num_nodes")
    run_deferred(finite_holds(inputs, "inputs"))

    f64, device = torch.float64, inputs.device
    lam, weights = beta_quadrature(alpha, alpha, num_nodes, dtype=f64, device=device)
    means = classes.means.to(device=device, dtype=f64)
    num_classes, dim = means.shape
    # Centres lam * mu_k + (1 - lam) * mu_l, indexed (node, k, l).
    centres = (
        lam[:, None, None, None] * means[None, :, None, :]
        + (1 - lam)[:, None, None, None] * means[None, None, :, :]
    )
    variance = (lam.square() + (1 - lam).square()) * classes.scale**2  # (node,)
    log_prior = classes.priors.to(device=device, dtype=f64).log()
    log_const = (
        weights.log()[:, None, None]
        + log_prior[None, :, None]
        + log_prior[None, None, :]
        - 0.5 * dim * torch.log(2 * math.pi * variance)[:, None, None]
    )  # (node, k, l)
    flat_centres = centres.reshape(-1, dim)
    terms = flat_centres.shape[0]
    chunk = max(1, _CHUNK_ENTRIES // terms)
    rows = []
    for x in inputs.to(dtype=f64).split(chunk):
        squared = torch.cdist(x, flat_centres, compute_mode="donot_use_mm_for_euclid_dist")
        squared = squared.square().reshape(-1, num_nodes, num_classes, num_classes)
        log_joint = log_const - 0.5 * squared / variance[:, None, None]
        resp = torch.softmax(log_joint.reshape(x.shape[0], -1), dim=1).reshape(log_joint.shape)
        first = (resp * lam[:, None, None]).sum(dim=(1, 3))  # weight lam on class k
        second = (resp * (1 - lam)[:, None, None]).sum(dim=(1, 2))  # 1 - lam on class l
        rows.append(first + second)
    return torch.cat(rows).to(inputs.dtype)

r"""Synthetic classification problems whose true posterior is known.

A chapter that studies calibration, priors or soft targets needs data for which
the best possible prediction is known exactly, so that a model's confidence can
be compared with the truth rather than only with other models.
:class:`GaussianClasses` provides that: every class is an isotropic Gaussian,
so the Bayes posterior :math:`p(y \mid x)` has a closed form.
"""

from __future__ import annotations

import math

import torch

from .._validation import (
    check_distribution,
    check_finite,
    check_floating,
    check_positive,
    check_positive_int,
    check_tensor,
)


class GaussianClasses:
    r"""Classes drawn as isotropic Gaussians, with their exact Bayes posterior.

    Class :math:`k` has prior :math:`\pi_k` and inputs
    :math:`x \mid y = k \sim \mathcal{N}(\mu_k, \sigma^2 I_d)`, so the Bayes
    posterior is a softmax of known logits:

    .. math::

        p(y = k \mid x) = \operatorname{softmax}_k\!\left(
        \log \pi_k - \frac{\lVert x - \mu_k \rVert^2}{2 \sigma^2} \right).

    No classifier has a lower expected cross-entropy than this posterior, and
    it is calibrated by construction, so a trained model's confidence can be
    compared with it point by point.

    Parameters
    ----------
    means : torch.Tensor
        Class means :math:`\mu_k`, a floating-point tensor of shape ``(K, d)``.
    scale : float, default 1.0
        Standard deviation :math:`\sigma > 0` of every coordinate.
    priors : torch.Tensor, optional
        Class probabilities :math:`\pi` of shape ``(K,)``; uniform if ``None``.

    See Also
    --------
    make_gaussian_classes : classes with means evenly spaced on a circle.

    Examples
    --------
    >>> classes = GaussianClasses(torch.tensor([[-1.0], [1.0]]), scale=1.0)
    >>> x, y = classes.sample(4, generator=torch.Generator().manual_seed(0))
    >>> x.shape, y.shape
    (torch.Size([4, 1]), torch.Size([4]))
    >>> classes.posterior(torch.tensor([[0.0]]))
    tensor([[0.5000, 0.5000]])
    """

    def __init__(
        self,
        means: torch.Tensor,
        *,
        scale: float = 1.0,
        priors: torch.Tensor | None = None,
    ) -> None:
        check_floating(means, "means")
        check_finite(means, "means")
        if means.dim() != 2 or means.shape[0] < 1 or means.shape[1] < 1:
            raise ValueError(f"`means` must have shape (K, d), got {tuple(means.shape)}")
        check_positive(scale, "scale")
        num_classes = means.shape[0]
        if priors is None:
            priors = torch.full((num_classes,), 1.0 / num_classes, dtype=means.dtype)
        check_distribution(priors, "priors")
        if tuple(priors.shape) != (num_classes,):
            raise ValueError(
                f"`priors` must have shape ({num_classes},) to match `means`, "
                f"got {tuple(priors.shape)}"
            )
        self.means = means.detach().clone()
        self.scale = float(scale)
        self.priors = priors.detach().to(means.dtype).clone()

    @property
    def num_classes(self) -> int:
        """Number of classes :math:`K`."""
        return self.means.shape[0]

    @property
    def dim(self) -> int:
        """Input dimension :math:`d`."""
        return self.means.shape[1]

    def __repr__(self) -> str:
        return (
            f"GaussianClasses(num_classes={self.num_classes}, dim={self.dim}, scale={self.scale})"
        )

    def sample(
        self,
        num_samples: int,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``num_samples`` labelled examples.

        Parameters
        ----------
        num_samples : int
            Number of examples ``N >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible draws (the global one if ``None``).

        Returns
        -------
        inputs : torch.Tensor
            Shape ``(N, d)``, on the CPU, in the dtype of ``means``.
        target : torch.Tensor
            Class indices of shape ``(N,)`` (``int64``), drawn from ``priors``.
        """
        check_positive_int(num_samples, "num_samples")
        target = torch.multinomial(self.priors, num_samples, replacement=True, generator=generator)
        noise = torch.randn(num_samples, self.dim, generator=generator, dtype=self.means.dtype)
        return self.means[target] + self.scale * noise, target

    def log_density(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""Class-conditional log densities :math:`\log p(x \mid y = k)`.

        Parameters
        ----------
        inputs : torch.Tensor
            Shape ``(N, d)``, floating point, on any device.

        Returns
        -------
        torch.Tensor
            Shape ``(N, K)``, in the dtype and on the device of ``inputs``.
        """
        means = self._check_inputs(inputs)
        # The direct formula, not the faster matrix-product one, so that
        # points close to a mean keep their precision.
        distance = torch.cdist(inputs, means, compute_mode="donot_use_mm_for_euclid_dist")
        squared = distance.square()
        variance = self.scale**2
        return -0.5 * squared / variance - 0.5 * self.dim * math.log(2 * math.pi * variance)

    def posterior_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""Logits of the Bayes posterior, :math:`\log \pi_k + \log p(x \mid y = k)`.

        ``torch.softmax(posterior_logits(x), dim=1)`` is :meth:`posterior`;
        the logits are what a perfect classifier would output.
        """
        log_density = self.log_density(inputs)  # validates `inputs`
        priors = self.priors.to(device=inputs.device, dtype=inputs.dtype)
        return log_density + priors.log()

    def posterior(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""The Bayes posterior :math:`p(y = k \mid x)`, shape ``(N, K)``."""
        return torch.softmax(self.posterior_logits(inputs), dim=1)

    def _check_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        check_floating(inputs, "inputs")
        if inputs.dim() != 2 or inputs.shape[1] != self.dim:
            raise ValueError(f"`inputs` must have shape (N, {self.dim}), got {tuple(inputs.shape)}")
        return self.means.to(device=inputs.device, dtype=inputs.dtype)


def make_gaussian_classes(
    num_classes: int,
    *,
    dim: int = 2,
    radius: float = 1.0,
    scale: float = 1.0,
    priors: torch.Tensor | None = None,
    dtype: torch.dtype = torch.float32,
) -> GaussianClasses:
    r"""Gaussian classes with means evenly spaced on a circle.

    The mean of class :math:`k` is
    :math:`\mu_k = r\,(\cos(2\pi k/K), \sin(2\pi k/K), 0, \dots, 0) \in \R^d`:
    the first two coordinates carry the signal and the other ``dim - 2`` are
    pure noise, which gives a flexible model something to overfit. The ratio
    ``radius / scale`` sets how much neighbouring classes overlap.

    Parameters
    ----------
    num_classes : int
        Number of classes :math:`K \ge 2`.
    dim : int, default 2
        Input dimension :math:`d \ge 2`.
    radius : float, default 1.0
        Distance :math:`r > 0` of every mean from the origin.
    scale : float, default 1.0
        Standard deviation :math:`\sigma > 0` of every coordinate.
    priors : torch.Tensor, optional
        Class probabilities of shape ``(K,)``; uniform if ``None``.
    dtype : torch.dtype, default torch.float32
        Floating-point dtype of the means and of the samples.

    Returns
    -------
    GaussianClasses

    Examples
    --------
    >>> classes = make_gaussian_classes(4, dim=3, radius=2.0)
    >>> classes.means
    tensor([[ 2.,  0.,  0.],
            [ 0.,  2.,  0.],
            [-2.,  0.,  0.],
            [ 0., -2.,  0.]])
    """
    check_positive_int(num_classes, "num_classes")
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be >= 2, got {num_classes}")
    check_positive_int(dim, "dim")
    if dim < 2:
        raise ValueError(f"`dim` must be >= 2, got {dim}")
    check_positive(radius, "radius")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
    angles = 2 * math.pi * torch.arange(num_classes, dtype=torch.float64) / num_classes
    means = torch.zeros(num_classes, dim, dtype=torch.float64)
    # Rounding (and + 0.0, which turns -0.0 into 0.0) makes the means of
    # K = 2 or 4 classes exactly axis-aligned.
    means[:, 0] = radius * angles.cos().round(decimals=12) + 0.0
    means[:, 1] = radius * angles.sin().round(decimals=12) + 0.0
    if priors is not None:
        check_tensor(priors, "priors")
        priors = priors.to(dtype)
    return GaussianClasses(means.to(dtype), scale=scale, priors=priors)

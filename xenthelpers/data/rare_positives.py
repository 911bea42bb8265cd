r"""Rare positives among many easy negatives: a dense-detection-like binary problem.

One-stage object detectors score tens of thousands of candidate boxes per image, of
which a handful contain an object; most of the rest are background that any model
rejects at a glance, and a few are confusable with the objects. :class:`RarePositives`
reproduces that structure with three Gaussian clusters whose Bayes posterior is known
in closed form, so that a model trained on it can be compared with the best possible
ranking and with the true probabilities.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._validation import (
    check_floating,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_unit_interval,
)

#: Names of the three mixture components, in the order of ``RarePositives.means``.
COMPONENTS = ("positive", "hard negative", "easy negative")


class RarePositivesSample(NamedTuple):
    """What :meth:`RarePositives.sample` draws.

    - ``inputs``: ``(N, d)`` floating-point tensor;
    - ``target``: ``(N,)`` tensor of 0.0 and 1.0 in the dtype of ``inputs``, the
      layout ``torch.nn.functional.binary_cross_entropy_with_logits`` takes;
    - ``component``: ``(N,)`` long tensor, the index into ``COMPONENTS`` of
      the cluster each example was drawn from (0 positive, 1 hard negative,
      2 easy negative).

    Examples
    --------
    >>> data = RarePositives(positive_rate=0.2, hard_fraction=0.5)
    >>> sample = data.sample(6, generator=torch.Generator().manual_seed(0))
    >>> sample.inputs.shape
    torch.Size([6, 2])
    >>> torch.equal(sample.target, (sample.component == 0).float())
    True
    """

    inputs: torch.Tensor
    target: torch.Tensor
    component: torch.Tensor


class RarePositives:
    r"""Few positives, a few hard negatives beside them and many easy negatives far away.

    Inputs in :math:`\R^d` come from a mixture of three isotropic Gaussians with
    standard deviation :math:`\sigma`:

    .. math::

        x \sim \pi\,\mathcal{N}(\mu_+, \sigma^2 I)
        + (1 - \pi)\,h\,\mathcal{N}(\mu_h, \sigma^2 I)
        + (1 - \pi)(1 - h)\,\mathcal{N}(\mu_e, \sigma^2 I),

    where the first component is labelled 1 and the other two 0. The positive
    mean is the origin, the hard negatives sit at distance ``hard_distance``
    along the first axis, :math:`\mu_h = \delta_h e_1`, and the easy negatives
    at distance ``easy_distance`` along the second, :math:`\mu_e = \delta_e e_2`;
    coordinates 3 to :math:`d` are pure noise. The Bayes log-odds are

    .. math::

        \begin{aligned}
        \log\frac{p(y = 1 \mid x)}{p(y = 0 \mid x)}
        ={}& \log \pi - \frac{\lVert x - \mu_+ \rVert^2}{2\sigma^2} \\
        &- \log\Bigl((1 - \pi)\,h\, e^{-\lVert x - \mu_h \rVert^2 / 2\sigma^2} \\
        &\qquad + (1 - \pi)(1 - h)\, e^{-\lVert x - \mu_e \rVert^2 / 2\sigma^2}\Bigr),
        \end{aligned}

    evaluated with ``logaddexp`` so that they stay finite far from every mean.
    No model ranks the examples better than these log-odds, and their sigmoid
    is calibrated by construction. The defaults give one positive in 200
    examples, and 95% of the negatives at six standard deviations from the
    positives, the setting of :cite:t:`lin2017` in miniature.

    Parameters
    ----------
    positive_rate : float, default 0.005
        Prior :math:`\pi` of the positive class, in :math:`(0, 1)`.
    hard_fraction : float, default 0.05
        Share :math:`h \in [0, 1]` of the negatives drawn from the hard cluster.
    hard_distance : float, default 2.5
        Distance :math:`\delta_h \ge 0` between the positive and hard-negative means.
    easy_distance : float, default 6.0
        Distance :math:`\delta_e > 0` between the positive and easy-negative means.
    dim : int, default 2
        Input dimension :math:`d \ge 2`.
    scale : float, default 1.0
        Standard deviation :math:`\sigma > 0` of every coordinate.
    dtype : torch.dtype, default torch.float32
        Floating-point dtype of the means and of the samples.

    Attributes
    ----------
    means : torch.Tensor
        ``(3, d)``: :math:`\mu_+`, :math:`\mu_h`, :math:`\mu_e`, in the order of
        ``COMPONENTS``.
    weights : torch.Tensor
        ``(3,)`` float64 mixture probabilities
        :math:`(\pi, (1 - \pi) h, (1 - \pi)(1 - h))`.

    Examples
    --------
    >>> data = RarePositives(positive_rate=0.01, dim=3)
    >>> x, y, component = data.sample(5, generator=torch.Generator().manual_seed(0))
    >>> x.shape, y.dtype, component.dtype
    (torch.Size([5, 3]), torch.float32, torch.int64)
    >>> data.means
    tensor([[0.0000, 0.0000, 0.0000],
            [2.5000, 0.0000, 0.0000],
            [0.0000, 6.0000, 0.0000]])
    >>> data.posterior(data.means)  # at each cluster's centre
    tensor([8.2136e-01, 8.7981e-03, 1.6193e-10])
    """

    def __init__(
        self,
        *,
        positive_rate: float = 0.005,
        hard_fraction: float = 0.05,
        hard_distance: float = 2.5,
        easy_distance: float = 6.0,
        dim: int = 2,
        scale: float = 1.0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        _check_open_unit_interval(positive_rate, "positive_rate")
        check_unit_interval(hard_fraction, "hard_fraction")
        check_non_negative(hard_distance, "hard_distance")
        check_positive(easy_distance, "easy_distance")
        check_positive_int(dim, "dim")
        if dim < 2:
            raise ValueError(f"`dim` must be >= 2, got {dim}")
        check_positive(scale, "scale")
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
        self.positive_rate = float(positive_rate)
        self.hard_fraction = float(hard_fraction)
        self.scale = float(scale)
        means = torch.zeros(3, dim, dtype=dtype)
        means[1, 0] = float(hard_distance)
        means[2, 1] = float(easy_distance)
        self.means = means
        negative = 1.0 - self.positive_rate
        self.weights = torch.tensor(
            [
                self.positive_rate,
                negative * self.hard_fraction,
                negative * (1.0 - self.hard_fraction),
            ],
            dtype=torch.float64,
        )

    @property
    def dim(self) -> int:
        """Input dimension :math:`d`."""
        return self.means.shape[1]

    def __repr__(self) -> str:
        return (
            f"RarePositives(positive_rate={self.positive_rate}, "
            f"hard_fraction={self.hard_fraction}, "
            f"hard_distance={self.means[1, 0].item()}, "
            f"easy_distance={self.means[2, 1].item()}, dim={self.dim}, scale={self.scale})"
        )

    def sample(
        self,
        num_samples: int,
        *,
        generator: torch.Generator | None = None,
    ) -> RarePositivesSample:
        """Draw ``num_samples`` labelled examples.

        Parameters
        ----------
        num_samples : int
            Number of examples ``N >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible draws (the global one if ``None``).

        Returns
        -------
        RarePositivesSample
            ``(inputs, target, component)``, on the CPU.
        """
        check_positive_int(num_samples, "num_samples")
        component = torch.multinomial(
            self.weights, num_samples, replacement=True, generator=generator
        )
        noise = torch.randn(num_samples, self.dim, generator=generator, dtype=self.means.dtype)
        inputs = self.means[component] + self.scale * noise
        target = (component == 0).to(self.means.dtype)
        return RarePositivesSample(inputs, target, component)

    def posterior_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""Bayes log-odds :math:`\log p(y = 1 \mid x) - \log p(y = 0 \mid x)`.

        Parameters
        ----------
        inputs : torch.Tensor
            Shape ``(N, d)``, floating point, on any device.

        Returns
        -------
        torch.Tensor
            Shape ``(N,)``, in the dtype and on the device of ``inputs``.
        """
        check_floating(inputs, "inputs")
        if inputs.dim() != 2 or inputs.shape[1] != self.dim:
            raise ValueError(f"`inputs` must have shape (N, {self.dim}), got {tuple(inputs.shape)}")
        means = self.means.to(device=inputs.device, dtype=inputs.dtype)
        # Squared distances by direct differences: the matrix-product shortcut loses
        # the precision of points close to a mean.
        squared = (inputs.unsqueeze(1) - means).square().sum(-1)  # (N, 3)
        with torch.no_grad():
            log_weights = self.weights.log().to(device=inputs.device, dtype=inputs.dtype)
        log_joint = log_weights - 0.5 * squared / self.scale**2  # log p(x, component) + c
        return log_joint[:, 0] - torch.logaddexp(log_joint[:, 1], log_joint[:, 2])

    def posterior(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""The Bayes posterior :math:`p(y = 1 \mid x)`, shape ``(N,)``."""
        return torch.sigmoid(self.posterior_logits(inputs))


def _check_open_unit_interval(value: float, name: str) -> None:
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"`{name}` must lie strictly between 0 and 1, got {value}")

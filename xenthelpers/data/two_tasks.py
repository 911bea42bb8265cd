r"""Two tasks on the same inputs, a binary label and a noisy real response, with known floors.

A multi-task network learns several targets from one input. To see how a
weighting of the tasks' losses behaves, each task needs a known noise level: the
lowest expected loss that any model could reach. :class:`TwoTasks` draws
Gaussian inputs, a binary label from a logistic model along one direction and a
real response from a linear model with Gaussian noise along another, so that
both floors are known exactly: the conditional entropy of the label and the
variance of the noise.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from scipy import integrate

from .._validation import (
    check_floating,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_scalar,
)


class TwoTasksSample(NamedTuple):
    """What :meth:`TwoTasks.sample` draws.

    - ``inputs``: ``(N, d)`` floating-point tensor;
    - ``label``: ``(N,)`` tensor of 0.0 and 1.0 in the dtype of ``inputs``, the
      layout ``torch.nn.functional.binary_cross_entropy_with_logits`` takes;
    - ``response``: ``(N,)`` real values in the dtype of ``inputs``.

    Examples
    --------
    >>> sample = TwoTasks(dim=3).sample(4, generator=torch.Generator().manual_seed(0))
    >>> sample.inputs.shape, sample.label.shape, sample.response.shape
    (torch.Size([4, 3]), torch.Size([4]), torch.Size([4]))
    """

    inputs: torch.Tensor
    label: torch.Tensor
    response: torch.Tensor


class TwoTasks:
    r"""A logistic label and a linear-Gaussian response of the same Gaussian inputs.

    Inputs are standard Gaussian, :math:`x \sim \mathcal{N}(0, I_d)`. The label
    follows a logistic model along the first axis :math:`u = e_1`, and the
    response a linear model with Gaussian noise along the unit direction
    :math:`v = \rho\, e_1 + \sqrt{1 - \rho^2}\, e_2`:

    .. math::

        P(t = 1 \mid x) = \sigma(\beta\, u^\top x), \qquad
        r = A\, v^\top x + s\,\varepsilon, \quad \varepsilon \sim \mathcal{N}(0, 1).

    The alignment :math:`\rho = u^\top v` sets how much the two tasks share:
    a model that can only pass one direction of :math:`x` to both tasks must
    choose between :math:`u` and :math:`v` unless :math:`|\rho| = 1`.
    Coordinates 3 to :math:`d` carry nothing, which gives a flexible model
    something to overfit.

    Each task has a known floor, the lowest expected loss of any prediction
    made from :math:`x`. For the squared error it is the noise variance
    :math:`s^2`; for the cross-entropy (in nats) it is the conditional entropy
    of the label,

    .. math::

        H(t \mid x) = \mathbb{E}_{z \sim \mathcal{N}(0, 1)}\,
        h\bigl(\sigma(\beta z)\bigr), \qquad
        h(p) = -p \log p - (1 - p) \log(1 - p),

    computed by adaptive quadrature to about float64 precision.

    Parameters
    ----------
    dim : int, default 6
        Input dimension :math:`d \ge 2`.
    slope : float, default 3.0
        Slope :math:`\beta \ge 0` of the label's log-odds along :math:`u`;
        0 gives labels that are fair coin flips.
    amplitude : float, default 2.0
        Size :math:`A \ge 0` of the response's signal, whose variance is
        :math:`A^2`.
    noise : float, default 3.0
        Standard deviation :math:`s > 0` of the response's noise.
    alignment : float, default 0.5
        Cosine :math:`\rho \in [-1, 1]` between the two tasks' directions.
    dtype : torch.dtype, default torch.float32
        Floating-point dtype of the samples.

    Attributes
    ----------
    label_direction, response_direction : torch.Tensor
        :math:`u` and :math:`v`, unit vectors of shape ``(d,)`` in ``dtype``.

    Examples
    --------
    >>> tasks = TwoTasks(dim=3, alignment=0.6)
    >>> tasks.response_direction
    tensor([0.6000, 0.8000, 0.0000])
    >>> tasks.noise_variance
    9.0
    >>> round(tasks.label_entropy, 4)  # nats, far below log 2 = 0.6931
    0.3605
    >>> x = torch.tensor([[1.0, 0.0, 5.0]])
    >>> tasks.label_logits(x), tasks.response_mean(x)
    (tensor([3.]), tensor([1.2000]))
    """

    def __init__(
        self,
        *,
        dim: int = 6,
        slope: float = 3.0,
        amplitude: float = 2.0,
        noise: float = 3.0,
        alignment: float = 0.5,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        check_positive_int(dim, "dim")
        if dim < 2:
            raise ValueError(f"`dim` must be >= 2, got {dim}")
        check_scalar(slope, "slope")
        check_non_negative(slope, "slope")
        check_scalar(amplitude, "amplitude")
        check_non_negative(amplitude, "amplitude")
        check_scalar(noise, "noise")
        check_positive(noise, "noise")
        check_scalar(alignment, "alignment", min_val=-1.0, max_val=1.0)
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
        self.dim = dim
        self.slope = float(slope)
        self.amplitude = float(amplitude)
        self.noise = float(noise)
        self.alignment = float(alignment)
        self.dtype = dtype
        self.label_direction = torch.zeros(dim, dtype=dtype)
        self.label_direction[0] = 1.0
        self.response_direction = torch.zeros(dim, dtype=dtype)
        self.response_direction[0] = self.alignment
        self.response_direction[1] = math.sqrt(1.0 - self.alignment**2)

    def __repr__(self) -> str:
        return (
            f"TwoTasks(dim={self.dim}, slope={self.slope}, amplitude={self.amplitude}, "
            f"noise={self.noise}, alignment={self.alignment})"
        )

    @property
    def noise_variance(self) -> float:
        """:math:`s^2`, the lowest expected squared error of any prediction of the response."""
        return self.noise**2

    @property
    def label_entropy(self) -> float:
        r""":math:`H(t \mid x)` in nats, the lowest expected cross-entropy for the label."""

        def entropy_at(z: float) -> float:
            # h(sigma(a)) is even in a; with a = |beta z| >= 0 both terms are
            # positive and free of cancellation.
            a = self.slope * abs(z)
            e = math.exp(-a)
            return math.exp(-0.5 * z * z) * (math.log1p(e) + a * e / (1.0 + e))

        half, _ = integrate.quad(entropy_at, 0.0, math.inf, epsabs=1e-15, epsrel=1e-13)
        return 2.0 * float(half) / math.sqrt(2.0 * math.pi)

    def sample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> TwoTasksSample:
        """Draw ``num_samples`` inputs with their label and response.

        Parameters
        ----------
        num_samples : int
            Number of examples ``N >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible draws (the global one if ``None``).

        Returns
        -------
        TwoTasksSample
            ``(inputs, label, response)`` on the CPU, in ``dtype``.
        """
        check_positive_int(num_samples, "num_samples")
        inputs = torch.randn(num_samples, self.dim, generator=generator, dtype=self.dtype)
        positive = torch.sigmoid(self.label_logits(inputs))
        label = torch.bernoulli(positive, generator=generator)
        noise = torch.randn(num_samples, generator=generator, dtype=self.dtype)
        return TwoTasksSample(inputs, label, self.response_mean(inputs) + self.noise * noise)

    def label_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""The true log-odds :math:`\beta\, u^\top x` of ``inputs`` of shape ``(N, d)``."""
        direction = self._direction(inputs, self.label_direction)
        return self.slope * (inputs @ direction)

    def response_mean(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""The noise-free response :math:`A\, v^\top x` of ``inputs`` of shape ``(N, d)``."""
        direction = self._direction(inputs, self.response_direction)
        return self.amplitude * (inputs @ direction)

    def _direction(self, inputs: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
        check_floating(inputs, "inputs")
        if inputs.dim() != 2 or inputs.shape[1] != self.dim:
            raise ValueError(f"`inputs` must have shape (N, {self.dim}), got {tuple(inputs.shape)}")
        return direction.to(device=inputs.device, dtype=inputs.dtype)

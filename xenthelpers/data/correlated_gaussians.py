r"""Correlated Gaussian pairs whose mutual information is known exactly.

A mutual-information estimator can only be judged against the truth, and the
truth is rarely known. :class:`CorrelatedGaussians` is the standard benchmark of
:cite:t:`poole2019`: pairs of :math:`d`-dimensional vectors, coordinate by
coordinate correlated with coefficient :math:`\rho`, for which the mutual
information and the density ratio :math:`p(y \mid x) / p(y)` (the best critic
of a contrastive bound) have closed forms.
"""

from __future__ import annotations

import math

import torch

from .._validation import check_flag, check_floating, check_positive_int, check_scalar


def gaussian_mutual_information(rho: float, dim: int) -> float:
    r"""Mutual information of :class:`CorrelatedGaussians`, in nats.

    With :math:`d` independent coordinate pairs of correlation :math:`\rho`,

    .. math::

        I(X; Y) = -\frac{d}{2} \log\bigl(1 - \rho^2\bigr).

    Parameters
    ----------
    rho : float
        Correlation :math:`\rho \in (-1, 1)` of each coordinate pair.
    dim : int
        Dimension :math:`d \ge 1`.

    Returns
    -------
    float
        The mutual information (0 at :math:`\rho = 0`).

    Examples
    --------
    >>> round(gaussian_mutual_information(0.6, 20), 4)
    4.4629
    """
    check_scalar(rho, "rho", min_val=-1.0, max_val=1.0, include_min=False, include_max=False)
    check_positive_int(dim, "dim")
    return -0.5 * dim * math.log1p(-(float(rho) ** 2))


def correlation_for_mutual_information(mutual_information: float, dim: int) -> float:
    r"""The correlation :math:`\rho \ge 0` that gives a target mutual information.

    Inverts :func:`gaussian_mutual_information`:
    :math:`\rho = \sqrt{1 - e^{-2 I / d}}`.

    Parameters
    ----------
    mutual_information : float
        Target :math:`I \ge 0`, in nats.
    dim : int
        Dimension :math:`d \ge 1`.

    Returns
    -------
    float
        :math:`\rho \in [0, 1)`. A target so large that :math:`\rho` rounds to 1
        in float64 raises a ``ValueError``.

    Examples
    --------
    >>> rho = correlation_for_mutual_information(2.0, 20)
    >>> round(rho, 4), round(gaussian_mutual_information(rho, 20), 12)
    (0.4258, 2.0)
    """
    check_scalar(
        mutual_information,
        "mutual_information",
        min_val=0.0,
        max_val=float("inf"),
        include_max=False,
    )
    check_positive_int(dim, "dim")
    rho = math.sqrt(-math.expm1(-2.0 * float(mutual_information) / dim))
    if not rho < 1.0:
        raise ValueError(
            f"`mutual_information` = {mutual_information!r} is too large for dim = {dim}: "
            "the correlation rounds to 1"
        )
    return rho


class CorrelatedGaussians:
    r"""Pairs :math:`(x, y)` of correlated Gaussian vectors with known mutual information.

    Both vectors are standard normal in :math:`\mathbb{R}^d`, and coordinate
    :math:`i` of :math:`y` is

    .. math::

        y_i = \rho\, x_i + \sqrt{1 - \rho^2}\, \varepsilon_i,
        \qquad x_i, \varepsilon_i \sim \mathcal{N}(0, 1) \text{ independent},

    so that :math:`I(X; Y) = -\tfrac{d}{2}\log(1 - \rho^2)`, the benchmark of
    :cite:t:`poole2019`. The log density ratio

    .. math::

        \log \frac{p(y \mid x)}{p(y)}
        = I(X; Y) - \frac{\lVert y - \rho x \rVert^2}{2 (1 - \rho^2)}
        + \frac{\lVert y \rVert^2}{2}

    is the optimal critic of the InfoNCE bound (up to any function of
    :math:`x` alone), and its mean under the joint distribution is
    :math:`I(X; Y)`.

    Parameters
    ----------
    rho : float
        Correlation :math:`\rho \in (-1, 1)` of each coordinate pair.
    dim : int, default 20
        Dimension :math:`d \ge 1`.
    dtype : torch.dtype, default torch.float32
        Floating-point dtype of the samples.

    See Also
    --------
    make_correlated_gaussians : the pairs with a target mutual information.

    References
    ----------
    :cite:t:`poole2019`.

    Examples
    --------
    >>> pairs = CorrelatedGaussians(0.6, dim=20)
    >>> round(pairs.mutual_information, 4)
    4.4629
    >>> x, y = pairs.sample(5, generator=torch.Generator().manual_seed(0))
    >>> x.shape, y.shape
    (torch.Size([5, 20]), torch.Size([5, 20]))
    >>> pairs.log_density_ratio(x, y).shape  # every query against every key
    torch.Size([5, 5])
    """

    def __init__(self, rho: float, *, dim: int = 20, dtype: torch.dtype = torch.float32) -> None:
        self.mutual_information = gaussian_mutual_information(rho, dim)  # checks both
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
        self.rho = float(rho)
        self.dim = dim
        self.dtype = dtype

    def __repr__(self) -> str:
        return (
            f"CorrelatedGaussians(rho={self.rho:.4g}, dim={self.dim}, "
            f"mutual_information={self.mutual_information:.4g})"
        )

    def sample(
        self,
        num_samples: int,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``num_samples`` pairs from the joint distribution.

        Parameters
        ----------
        num_samples : int
            Number of pairs ``N >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible draws (the global one if ``None``).
            All of ``x`` is drawn first, then all of the noise.

        Returns
        -------
        x, y : torch.Tensor
            Each of shape ``(N, d)``, on the CPU, in ``dtype``; row ``i`` of
            ``y`` is the partner of row ``i`` of ``x``.
        """
        check_positive_int(num_samples, "num_samples")
        shape = (num_samples, self.dim)
        x = torch.randn(shape, generator=generator, dtype=torch.float64)
        noise = torch.randn(shape, generator=generator, dtype=torch.float64)
        y = self.rho * x + math.sqrt(1.0 - self.rho**2) * noise
        return x.to(self.dtype), y.to(self.dtype)

    def log_density_ratio(
        self, x: torch.Tensor, y: torch.Tensor, *, pairwise: bool = True
    ) -> torch.Tensor:
        r"""The log density ratio :math:`\log p(y_j \mid x_i) / p(y_j)`.

        Parameters
        ----------
        x : torch.Tensor
            Queries, shape ``(..., N, d)``, floating point, on any device.
        y : torch.Tensor
            Keys, shape ``(..., M, d)``, with the leading dimensions, dtype and
            device of ``x``.
        pairwise : bool, default True
            Compare every query with every key. ``False`` compares row ``i`` of
            ``x`` with row ``i`` of ``y`` only (then ``M`` must equal ``N``).

        Returns
        -------
        torch.Tensor
            Shape ``(..., N, M)`` if ``pairwise``: entry ``(i, j)`` compares
            query ``i`` with key ``j``, so the diagonal of a batch of pairs holds
            the positives. Shape ``(..., N)`` otherwise.
        """
        for tensor, name in ((x, "x"), (y, "y")):
            check_floating(tensor, name)
            if tensor.dim() < 2 or tensor.shape[-1] != self.dim:
                raise ValueError(
                    f"`{name}` must have shape (..., N, {self.dim}), got {tuple(tensor.shape)}"
                )
        if y.shape[:-2] != x.shape[:-2] or y.dtype != x.dtype:
            raise ValueError(
                f"`y` must have the leading dimensions {tuple(x.shape[:-2])} and dtype "
                f"{x.dtype} of `x`, got shape {tuple(y.shape)} and dtype {y.dtype}"
            )
        check_flag(pairwise, "pairwise")
        residual_var = 1.0 - self.rho**2
        if not pairwise:
            if y.shape != x.shape:
                raise ValueError(
                    f"`y` must have the shape {tuple(x.shape)} of `x` when `pairwise` is "
                    f"false, got {tuple(y.shape)}"
                )
            squared = (y - self.rho * x).square().sum(dim=-1)
            return (
                self.mutual_information
                - squared / (2.0 * residual_var)
                + y.square().sum(dim=-1) / 2.0
            )
        # The direct distance, not the matrix-product form, keeps close pairs precise.
        distance = torch.cdist(self.rho * x, y, compute_mode="donot_use_mm_for_euclid_dist")
        key_norm = y.square().sum(dim=-1).unsqueeze(-2)  # (..., 1, M)
        return self.mutual_information - distance.square() / (2.0 * residual_var) + key_norm / 2.0


def make_correlated_gaussians(
    mutual_information: float,
    *,
    dim: int = 20,
    dtype: torch.dtype = torch.float32,
) -> CorrelatedGaussians:
    r"""Correlated Gaussian pairs with a target mutual information.

    Sets :math:`\rho = \sqrt{1 - e^{-2 I / d}}`
    (:func:`correlation_for_mutual_information`), so that
    ``make_correlated_gaussians(I).mutual_information`` is :math:`I` up to
    rounding.

    Parameters
    ----------
    mutual_information : float
        Target :math:`I \ge 0`, in nats.
    dim : int, default 20
        Dimension :math:`d \ge 1`.
    dtype : torch.dtype, default torch.float32
        Floating-point dtype of the samples.

    Returns
    -------
    CorrelatedGaussians

    Examples
    --------
    >>> pairs = make_correlated_gaussians(4.0, dim=20)
    >>> round(pairs.rho, 4), round(pairs.mutual_information, 12)
    (0.5742, 4.0)
    """
    rho = correlation_for_mutual_information(mutual_information, dim)
    return CorrelatedGaussians(rho, dim=dim, dtype=dtype)

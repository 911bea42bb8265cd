r"""Gaussian classes arranged in a taxonomy: leaves under the same parent look alike.

Each node of a tree gets a mean vector by a random walk from the root: a child's
mean is its parent's plus a random offset whose length shrinks with depth. The
classes are the leaves, with isotropic Gaussian inputs around their means, so
two leaves are the harder to tell apart the more recent their common ancestor.
The data are a :class:`~xenthelpers.data.GaussianClasses`, so the Bayes
posterior is known exactly.
"""

from __future__ import annotations

import math

import torch

from .._validation import check_finite, check_floating, check_positive, check_positive_int
from ..losses.hierarchical import Taxonomy
from .gaussian_classes import GaussianClasses


class TaxonomyClasses(GaussianClasses):
    r"""Gaussian leaf classes of a :class:`~xenthelpers.losses.Taxonomy`.

    Class :math:`k` is leaf ``taxonomy.leaves[k]``, with inputs
    :math:`x \mid y = k \sim \mathcal{N}(\mu_{\text{leaf}_k}, \sigma^2 I_d)`.
    Everything of :class:`~xenthelpers.data.GaussianClasses` applies
    (``sample``, ``posterior``, ``posterior_logits``); the means of the inner
    nodes are kept as well.

    Parameters
    ----------
    taxonomy : Taxonomy
        The tree; its leaves are the classes.
    node_means : torch.Tensor
        Shape ``(taxonomy.num_nodes, d)``, a mean per node (inner nodes too).
    scale : float, default 1.0
        Standard deviation :math:`\sigma > 0` of every coordinate.
    priors : torch.Tensor, optional
        Class probabilities of shape ``(num_leaves,)``; uniform if ``None``.

    Attributes
    ----------
    taxonomy : Taxonomy
    node_means : torch.Tensor
        ``(num_nodes, d)``; ``means`` holds the rows of the leaves.

    Examples
    --------
    >>> tax = Taxonomy([-1, 0, 0])
    >>> classes = TaxonomyClasses(tax, torch.tensor([[0.0], [-1.0], [1.0]]))
    >>> classes.means
    tensor([[-1.],
            [ 1.]])
    """

    def __init__(
        self,
        taxonomy: Taxonomy,
        node_means: torch.Tensor,
        *,
        scale: float = 1.0,
        priors: torch.Tensor | None = None,
    ) -> None:
        if not isinstance(taxonomy, Taxonomy):
            raise ValueError(f"`taxonomy` must be a Taxonomy, got {type(taxonomy).__name__}")
        check_floating(node_means, "node_means")
        check_finite(node_means, "node_means")
        if node_means.dim() != 2 or node_means.shape[0] != taxonomy.num_nodes:
            raise ValueError(
                f"`node_means` must have shape ({taxonomy.num_nodes}, d), one row per node, "
                f"got {tuple(node_means.shape)}"
            )
        super().__init__(node_means[taxonomy.leaves], scale=scale, priors=priors)
        self.taxonomy = taxonomy
        self.node_means = node_means.detach().clone()

    def __repr__(self) -> str:
        return (
            f"TaxonomyClasses(num_classes={self.num_classes}, dim={self.dim}, "
            f"scale={self.scale}, max_depth={self.taxonomy.max_depth})"
        )


def make_taxonomy_classes(
    taxonomy: Taxonomy,
    *,
    dim: int = 16,
    spread: float = 4.0,
    decay: float = 0.5,
    scale: float = 1.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> TaxonomyClasses:
    r"""Leaf classes whose means are generated down the tree, so siblings look alike.

    The root's mean is 0. A node at depth :math:`t \ge 1` has mean

    .. math::

        \mu_v = \mu_{\operatorname{parent}(v)} + s\, \rho^{\,t - 1}\, u_v,
        \qquad u_v \sim \mathcal{N}(0, I_d / d),

    with spread :math:`s` and decay :math:`\rho`, so that :math:`\lVert u_v
    \rVert \approx 1` and the offsets shrink by :math:`\rho` per level. For
    two leaves whose lowest common ancestor is at depth :math:`a`, the
    expected squared distance between their means is
    :math:`2 s^2 \sum_{t=a+1}^{D} \rho^{2(t-1)}` when both are at depth
    :math:`D`: with :math:`\rho < 1`, siblings are the closest pairs. Inputs
    are the leaf means plus :math:`\mathcal{N}(0, \sigma^2 I_d)` noise.

    Parameters
    ----------
    taxonomy : Taxonomy
        The tree; its leaves are the classes.
    dim : int, default 16
        Input dimension :math:`d \ge 1`.
    spread : float, default 4.0
        Length :math:`s > 0` of the offsets at depth 1.
    decay : float, default 0.5
        Factor :math:`\rho > 0` by which the offsets shrink per level.
    scale : float, default 1.0
        Noise standard deviation :math:`\sigma > 0`.
    generator : torch.Generator, optional
        A CPU generator for the offsets (the global one if ``None``); sampling
        takes its own generator.
    dtype : torch.dtype, default torch.float32
        Floating-point type of the means and of the samples.

    Returns
    -------
    TaxonomyClasses

    Examples
    --------
    >>> tax = Taxonomy.complete((3, 2))
    >>> classes = make_taxonomy_classes(tax, dim=8, generator=torch.Generator().manual_seed(0))
    >>> classes
    TaxonomyClasses(num_classes=6, dim=8, scale=1.0, max_depth=2)
    >>> d = torch.cdist(classes.means, classes.means)
    >>> bool(d[0, 1] < d[0, 2])  # leaf 1 is leaf 0's sibling, leaf 2 is a cousin
    True
    >>> x, y = classes.sample(5, generator=torch.Generator().manual_seed(1))
    >>> x.shape, y.shape
    (torch.Size([5, 8]), torch.Size([5]))
    """
    if not isinstance(taxonomy, Taxonomy):
        raise ValueError(f"`taxonomy` must be a Taxonomy, got {type(taxonomy).__name__}")
    check_positive_int(dim, "dim")
    check_positive(spread, "spread")
    check_positive(decay, "decay")
    check_positive(scale, "scale")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"`generator` must be a torch.Generator, got {type(generator).__name__}")
    offsets = torch.randn(taxonomy.num_nodes, dim, generator=generator, dtype=torch.float64)
    lengths = spread * decay ** (taxonomy.node_depth - 1).clamp(min=0).double()
    offsets = offsets * (lengths / math.sqrt(dim))[:, None]
    means = torch.zeros(taxonomy.num_nodes, dim, dtype=torch.float64)
    for depth in range(1, taxonomy.max_depth + 1):  # parents are done before children
        level = (taxonomy.node_depth == depth).nonzero().squeeze(1)
        means[level] = means[taxonomy.parents[level]] + offsets[level]
    return TaxonomyClasses(taxonomy, means.to(dtype), scale=scale)

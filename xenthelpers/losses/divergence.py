"""The Jensen-Shannon divergence between probability vectors."""

from __future__ import annotations

import torch

from .._validation import check_distribution, check_floating, check_same_shape


def js_divergence(p: torch.Tensor, q: torch.Tensor, *, dim: int = -1) -> torch.Tensor:
    r"""Jensen-Shannon divergence, in nats, between the distributions along ``dim``.

    With the mixture :math:`m = (p + q) / 2`,

    .. math::

        \mathrm{JS}(p, q) = \tfrac12 \mathrm{KL}(p \,\|\, m)
                          + \tfrac12 \mathrm{KL}(q \,\|\, m)
                          = \tfrac12 \sum_k \Bigl(p_k \log\frac{p_k}{m_k}
                            + q_k \log\frac{q_k}{m_k}\Bigr).

    Unlike the KL divergence it is symmetric and bounded,
    :math:`0 \le \mathrm{JS}(p, q) \le \log 2`, with 0 exactly when
    :math:`p = q` and :math:`\log 2` when the supports are disjoint. Its square
    root is a metric (the Jensen-Shannon distance).

    Parameters
    ----------
    p, q : Tensor
        Probabilities (not logits) of the same shape: non-negative and
        summing to 1 along ``dim``. Zeros are allowed.
    dim : int, default -1
        The dimension that holds the distributions.

    Returns
    -------
    Tensor
        The divergence of each pair of distributions, with ``dim`` removed.
        No reduction is applied; take ``.mean()`` for a loss.

    Notes
    -----
    Terms with :math:`p_k = 0` are 0 (the convention :math:`0 \log 0 = 0`).
    The gradient with respect to :math:`p_k` is
    :math:`\tfrac12 \log(p_k / m_k)`, finite wherever :math:`p_k > 0`; where
    :math:`p_k = 0` the true derivative is :math:`-\infty` (or undefined), and
    the gradient returned there is finite instead (the zero terms are treated
    as constants), so that a probability that underflowed to 0 never turns a
    training step into NaN. The same holds for :math:`q`.

    ``scipy.spatial.distance.jensenshannon`` returns the square root of
    this quantity (the distance), not the divergence.

    References
    ----------
    Lin, J. (1991). Divergence measures based on the Shannon entropy.
    *IEEE Transactions on Information Theory*, 37(1), 145-151.

    Examples
    --------
    >>> import torch
    >>> p = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    >>> q = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    >>> js_divergence(p, q)
    tensor([0.0000, 0.6931])
    """
    check_floating(p, "p")
    check_floating(q, "q")
    check_same_shape(p, q, "p", "q")
    if p.dim() == 0 or not -p.dim() <= dim < p.dim():
        raise ValueError(f"`dim` must index a dimension of `p` (shape {tuple(p.shape)}), got {dim}")
    # Detached: the checks read values only, and need no graph (nor its warnings).
    check_distribution(p.detach(), "p", dim=dim)
    check_distribution(q.detach(), "q", dim=dim)

    mixture = (p + q) / 2
    terms = _relative_entropy_terms(p, mixture) + _relative_entropy_terms(q, mixture)
    return terms.sum(dim) / 2


def _relative_entropy_terms(x: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
    """The terms ``x * log(x / mixture)`` of KL(x || mixture), with 0 where ``x == 0``."""
    positive = x > 0
    # The double where keeps log(0) out of the graph, so that its NaN gradient
    # cannot leak through the branch that is not selected.
    safe_x = torch.where(positive, x, 1.0)
    safe_mixture = torch.where(positive, mixture, 1.0)
    return torch.where(positive, safe_x * (safe_x.log() - safe_mixture.log()), 0.0)

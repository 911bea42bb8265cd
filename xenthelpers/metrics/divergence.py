"""The Jensen-Shannon divergence between probability vectors."""

from __future__ import annotations

import torch

from .._validation import (
    check_floating,
    check_same_shape,
    check_scalar,
    distribution_holds,
    run_deferred,
)


def js_divergence(
    p: torch.Tensor,
    q: torch.Tensor,
    *,
    dim: int = -1,
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Jensen-Shannon divergence, in nats, between the probability vectors along ``dim``.

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
        Probabilities, not logits (apply ``softmax`` to logits first), of the
        same shape: non-negative and summing to 1 along ``dim``. Zeros are
        allowed.
    dim : int, default -1
        The dimension that holds the distributions.
    validate_args : bool, default True
        Check that ``p`` and ``q`` are probability vectors (no NaN, entries
        :math:`\ge 0`, sums within ``1e-4`` of 1), reading them back from the
        device once. ``False`` skips this check: the call then never
        synchronises with an accelerator and ``torch.compile`` traces it
        without a graph break. Shapes, dtypes and ``dim`` are always checked.

    Returns
    -------
    Tensor
        The divergence of each pair of distributions, with ``dim`` removed
        (like ``scipy.spatial.distance.jensenshannon``, no reduction: take
        ``.mean()`` for a loss).

    Notes
    -----
    With :math:`t_k = (p_k - q_k) / (p_k + q_k)`, each term is

    .. math::

        \begin{aligned}
        p_k \log\frac{p_k}{m_k} + q_k \log\frac{q_k}{m_k}
        &= m_k \bigl[(1 + t_k) \log(1 + t_k) + (1 - t_k) \log(1 - t_k)\bigr] \\
        &= m_k \bigl[2 t_k \operatorname{artanh} t_k + \log(1 - t_k^2)\bigr],
        \end{aligned}

    a non-negative number. For close probabilities (:math:`|t_k| \le 1/2`)
    the last form is used: it holds :math:`t_k^2` to a few roundings, where
    the difference of two logarithms loses the digits that :math:`p_k` and
    :math:`q_k` share (in float32 up to a few percent of the divergence of
    two similar rows). The second form is used for distant probabilities.
    The sum over ``dim`` adds non-negative terms only, so the result keeps
    the relative precision of the input's dtype: no computation in a wider
    dtype is needed, which some accelerators lack.

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
    :cite:t:`lin1991`.

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
    check_scalar(dim, "dim", integer=True)
    if p.dim() == 0 or not -p.dim() <= dim < p.dim():
        raise ValueError(f"`dim` must index a dimension of `p` (shape {tuple(p.shape)}), got {dim}")
    if validate_args:
        run_deferred(distribution_holds(p, "p", dim=dim), distribution_holds(q, "q", dim=dim))
    return _divergence_terms(p, q).sum(dim) / 4


def _divergence_terms(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``2 m f(t)`` with ``f(t) = (1 + t) log(1 + t) + (1 - t) log(1 - t)``, elementwise.

    Both forms of ``f`` are evaluated everywhere and one is picked; the input of
    each is kept where its logarithms are finite, so that the branch not taken
    cannot send a NaN into the gradient.
    """
    total = p + q  # 2 m
    safe_total = torch.where(total > 0, total, 1.0)  # t = 0 where p = q = 0
    t = (p - q) / safe_total
    close = t.abs() <= 0.5
    t_close = torch.where(close, t, 0.0)
    f_close = 2 * t_close * torch.atanh(t_close) + torch.log1p(-t_close.square())
    # 1 + t and 1 - t, each computed from its own numerator to keep its precision.
    f_far = _x_log_x(2 * p / safe_total) + _x_log_x(2 * q / safe_total)
    return total * torch.where(close, f_close, f_far)


def _x_log_x(x: torch.Tensor) -> torch.Tensor:
    """``x log x`` with the value 0 and a zero gradient at ``x = 0``."""
    positive = x > 0
    safe_x = torch.where(positive, x, 1.0)
    return torch.where(positive, safe_x * safe_x.log(), 0.0)

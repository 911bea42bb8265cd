"""The hierarchical cross-entropy, the leaf log-probabilities and the loss module."""

from __future__ import annotations

import math

import torch

from ..._reduction import Reduction, reduce_loss
from ..._validation import (
    Deferred,
    check_class_logits_shape,
    check_floating,
    check_reduction,
    class_indices_hold,
    result_finite_holds,
    run_deferred,
)
from .._module import LossModule
from .taxonomy import Taxonomy, _Indices


def hierarchical_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    taxonomy: Taxonomy,
    *,
    reduction: Reduction = "mean",
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Cross-entropy of a tree-structured softmax: a sum of local cross-entropies.

    Each decision node :math:`v` of the taxonomy turns the logits of its
    children into a local distribution
    :math:`q_v = \operatorname{softmax}(z_v)`. The probability of leaf
    :math:`y` is the product of the local probabilities along its path
    :math:`(v_1, c_1), \dots, (v_D, c_D)` from the root, so each element
    contributes

    .. math::

        \ell = -\log P(y) = \sum_{s=1}^{D} -\log q_{v_s}(c_s),

    exactly, with :math:`D` the depth of :math:`y`. The sum runs over the
    decisions on the path only: the logits of every other decision have
    exactly zero gradient. A tree with one decision (every leaf a child of the
    root) gives ``torch.nn.functional.cross_entropy``.

    Parameters
    ----------
    logits : Tensor
        Shape ``(N, num_logits)`` or ``(N, num_logits, d1, ...)``: one logit per
        non-root node, laid out as described in :class:`Taxonomy`. Only the
        logits on each example's path are read.
    target : Tensor
        Class (leaf) indices in ``[0, num_leaves)``, shape ``(N,)`` or ``(N, d1, ...)``.
    taxonomy : Taxonomy
        The tree.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the element losses, shaped like ``target``.
    validate_args : bool, default True
        Check the values of the inputs (class indices in range, a finite loss at
        every position), reading them back from the device once. ``False`` skips
        these checks: the call then never synchronises with an accelerator and
        ``torch.compile`` traces it without a graph break. Shapes, dtypes and
        options are always checked.

    Returns
    -------
    Tensor
        A scalar, or the element losses for ``reduction="none"``. With no
        element (an empty batch) ``"mean"`` is NaN and ``"sum"`` is 0, as for
        ``torch.nn.functional.cross_entropy``.

    Notes
    -----
    The computation is batched with no loop over examples: it gathers, for
    each example, the ``(max_depth, max_children)`` logits of the decisions
    on its path and takes a masked log-softmax over each decision's children.
    Time and memory per example are proportional to
    ``max_depth * max_children`` (the sum of the branching factors along the
    path, for a tree whose decisions at each depth have equally many
    children), not to the number of leaves. The logits themselves are still a
    dense ``(N, num_logits)`` input; to avoid computing them all, use
    :class:`HierarchicalSoftmax`. The log-softmax is shifted by each
    decision's largest logit, so logits of any finite size are safe.

    References
    ----------
    :cite:t:`goodman2001`; :cite:t:`morin2005`.

    Examples
    --------
    Classes ``a``, ``b`` under one node and ``c`` under the root. The loss of
    ``b`` is the root's cross-entropy for "go left" plus the left node's for
    "take b":

    >>> import torch.nn.functional as F
    >>> tax = Taxonomy([-1, 0, 1, 1, 0])
    >>> logits = torch.tensor([[1.0, 0.0, 0.5, -0.5]])  # [ab, c | a, b]
    >>> hierarchical_cross_entropy(logits, torch.tensor([1]), tax)
    tensor(1.6265)
    >>> (F.cross_entropy(logits[:, :2], torch.tensor([0]))
    ...  + F.cross_entropy(logits[:, 2:], torch.tensor([1])))
    tensor(1.6265)
    """
    taxonomy = _check_taxonomy(taxonomy)
    flat = _flat_logits(logits, taxonomy)
    check_class_logits_shape(logits, target)
    check_reduction(reduction)
    labels, deferred = _leaf_labels(target.reshape(-1), taxonomy, validate_args)
    index = taxonomy._indices(logits.device)
    steps = index.children[index.path_decisions[labels]]  # (B, D, C) logit indices
    gathered = flat.gather(1, steps.flatten(1)).view(steps.shape)
    loss = _path_nll(gathered, labels, index)
    if validate_args:
        run_deferred(*deferred, result_finite_holds(loss, {"logits": logits}))
    return reduce_loss(loss.view(target.shape), reduction)


def leaf_log_probs(
    logits: torch.Tensor, taxonomy: Taxonomy, *, validate_args: bool = True
) -> torch.Tensor:
    r"""Log-probability of every leaf under the tree-structured softmax.

    .. math::

        \log P(y) = \sum_{s=1}^{D_y} \log \operatorname{softmax}(z_{v_s})_{c_s},

    for every class :math:`y` at once, so ``leaf_log_probs(logits,
    taxonomy).exp()`` sums to one over the classes and ``.argmax(1)`` is the
    most probable leaf (which a greedy walk from the root need not find).

    Parameters
    ----------
    logits : Tensor
        Shape ``(N, num_logits)`` or ``(N, num_logits, d1, ...)``.
    taxonomy : Taxonomy
        The tree.
    validate_args : bool, default True
        Check that every position gets a finite distribution, reading the
        result back from the device once; ``False`` skips this check.

    Returns
    -------
    Tensor
        Shape ``(N, num_leaves)`` or ``(N, num_leaves, d1, ...)``, classes
        along dim 1.

    Notes
    -----
    Every local log-softmax is computed with a scatter over the decisions
    (time and memory proportional to ``num_logits``), and the leaves'
    log-probabilities are accumulated one depth at a time; the
    result agrees with :func:`hierarchical_cross_entropy`, which computes
    only the target's path.

    Examples
    --------
    >>> tax = Taxonomy([-1, 0, 1, 1, 0])
    >>> log_p = leaf_log_probs(torch.tensor([[1.0, 0.0, 0.5, -0.5]]), tax)
    >>> log_p.exp()
    tensor([[0.5344, 0.1966, 0.2689]])
    >>> -log_p[0, 1]
    tensor(1.6265)
    """
    taxonomy = _check_taxonomy(taxonomy)
    flat = _flat_logits(logits, taxonomy)
    log_p = _leaf_log_probs_flat(flat, taxonomy)
    if validate_args:
        run_deferred(result_finite_holds(log_p.logsumexp(dim=1), {"logits": logits}))
    shape = (logits.shape[0], *logits.shape[2:], taxonomy.num_leaves)
    return log_p.view(shape).movedim(-1, 1)


class HierarchicalCrossEntropyLoss(LossModule):
    """Module form of :func:`hierarchical_cross_entropy`.

    Parameters
    ----------
    taxonomy : Taxonomy
        The tree; kept as an attribute.
    reduction : {"mean", "sum", "none"}, default "mean"
    validate_args : bool, default True
        Passed on to :func:`hierarchical_cross_entropy`.

    Examples
    --------
    >>> criterion = HierarchicalCrossEntropyLoss(Taxonomy.complete((2, 2)))
    >>> criterion  # doctest: +NORMALIZE_WHITESPACE
    HierarchicalCrossEntropyLoss(taxonomy=Taxonomy(num_leaves=4, num_decisions=3,
                                 num_logits=6, max_depth=2), reduction='mean')
    >>> criterion(torch.zeros(3, 6), torch.tensor([0, 1, 3]))  # 2 log 2
    tensor(1.3863)
    """

    function = staticmethod(hierarchical_cross_entropy)
    options = ("taxonomy",)

    def __init__(
        self, taxonomy: Taxonomy, reduction: Reduction = "mean", validate_args: bool = True
    ) -> None:
        super().__init__(
            taxonomy=_check_taxonomy(taxonomy), reduction=reduction, validate_args=validate_args
        )


# ------------------------------------------------------------------- shared steps


def _check_taxonomy(taxonomy: object) -> Taxonomy:
    """Return ``taxonomy`` if it is a :class:`Taxonomy`."""
    if not isinstance(taxonomy, Taxonomy):
        raise ValueError(f"`taxonomy` must be a Taxonomy, got {type(taxonomy).__name__}")
    return taxonomy


def _flat_logits(logits: torch.Tensor, taxonomy: Taxonomy) -> torch.Tensor:
    """Check ``(N, num_logits, d1, ...)`` logits and return them as ``(B, num_logits)``."""
    check_floating(logits, "logits")
    if logits.dim() < 2 or logits.shape[1] != taxonomy.num_logits:
        raise ValueError(
            f"`logits` must have shape (N, {taxonomy.num_logits}) or "
            f"(N, {taxonomy.num_logits}, d1, ...), one logit per non-root node, "
            f"got {tuple(logits.shape)}"
        )
    return logits.movedim(1, -1).reshape(-1, taxonomy.num_logits)


def _leaf_labels(
    target: torch.Tensor, taxonomy: Taxonomy, validate_args: bool
) -> tuple[torch.Tensor, list[Deferred]]:
    """``target`` as ``int64`` indices and, when validating, the deferred range check.

    An index out of range would make the gathers fail before the checks are read:
    it is replaced by 0 there, and the deferred check reports it.
    """
    labels = target.long()
    if not validate_args:
        return labels, []
    in_range = class_indices_hold(labels, taxonomy.num_leaves, "target")
    return torch.where(in_range.holds, labels, 0), [in_range]


def _path_nll(path_logits: torch.Tensor, target: torch.Tensor, index: _Indices) -> torch.Tensor:
    """Sum of local cross-entropies from the logits of the decisions on each path.

    ``path_logits`` has shape ``(B, max_depth, max_children)``: step ``s`` of
    example ``b`` holds the logits of the children of decision
    ``path_decisions[target[b], s]``. Padding children are set to ``-inf``, so
    each step is an exact log-softmax over that decision's children; padding
    steps (past the leaf) repeat the root's decision, which is finite, and are
    zeroed with ``torch.where``, so they add nothing to the value or the gradient.
    """
    decisions = index.path_decisions[target]  # (B, D)
    exists = index.children_mask[decisions]  # (B, D, C)
    local = torch.log_softmax(path_logits.masked_fill(~exists, -math.inf), dim=2)
    chosen = local.gather(2, index.path_branches[target].unsqueeze(2)).squeeze(2)
    return -torch.where(index.path_mask[target], chosen, 0.0).sum(dim=1)


def _local_log_probs(flat: torch.Tensor, index: _Indices) -> torch.Tensor:
    """Log-softmax of every logit within its decision, ``(B, num_logits)``, in O(num_logits)."""
    batch, num_decisions = flat.shape[0], index.children.shape[0]
    segment = index.logit_decisions.expand(batch, -1)
    # A shift by each decision's largest logit; the result does not depend on
    # it, so it is detached and the gradient is that of log-softmax.
    top = flat.new_full((batch, num_decisions), -math.inf)
    top = top.scatter_reduce(1, segment, flat.detach(), "amax").detach()
    shifted = flat - top.gather(1, segment)
    total = flat.new_zeros(batch, num_decisions).scatter_add(1, segment, shifted.exp())
    return shifted - total.log().gather(1, segment)


def _leaf_log_probs_flat(flat: torch.Tensor, taxonomy: Taxonomy) -> torch.Tensor:
    index = taxonomy._indices(flat.device)
    local = _local_log_probs(flat, index)
    # Logits are breadth-first, so every depth is a contiguous block whose
    # parents all lie in the previous block: accumulate one depth at a time.
    blocks: list[torch.Tensor] = []
    start, previous_start = 0, 0
    for size in taxonomy._logits_per_depth:
        block = local[:, start : start + size]
        if blocks:  # parents' positions within the previous block
            parents = index.parent_logits[start : start + size] - previous_start
            block = block + blocks[-1].index_select(1, parents)
        blocks.append(block)
        previous_start, start = start, start + size
    return torch.cat(blocks, dim=1).index_select(1, index.leaf_logits)

r"""A softmax over the leaves of a tree, factorised into local softmaxes along the paths.

A :class:`Taxonomy` describes a rooted tree whose leaves are the classes. Every
internal node is a *decision*: it owns one logit per child, and a softmax over
those logits gives the probability of descending into each child. The
probability of a leaf is the product of the local probabilities on the path
from the root to it, so that its negative log is a sum of local cross-entropies
{Goodman 2001; Morin and Bengio 2005}:

.. math::

    -\log P(\text{leaf } y \mid x)
    = \sum_{(v, c) \in \operatorname{path}(y)} -\log \operatorname{softmax}(z_v)_c ,

where :math:`z_v` holds the logits of the children of decision node :math:`v`
and :math:`c` is the child that the path takes.

- :class:`Taxonomy`: the tree, with the index tensors the losses need;
- :func:`hierarchical_cross_entropy`: the loss, from a full vector of logits;
- :func:`leaf_log_probs`: the log-probability of every leaf, for prediction;
- :class:`HierarchicalCrossEntropyLoss`: the loss as an ``nn.Module``;
- :class:`HierarchicalSoftmax`: an output layer that computes, for the loss,
  only the logits of the decisions on each example's path, so that its cost
  grows with the depth of the tree rather than with the number of leaves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._reduction import Reduction, reduce_loss
from .._validation import (
    check_class_indices,
    check_floating,
    check_not_empty,
    check_positive_int,
    check_reduction,
    check_result_finite,
    check_tensor,
)

ROOT_NAME = "(root)"


@dataclass(frozen=True)
class _Indices:
    """The index tensors of a taxonomy, on one device."""

    children: torch.Tensor  # (num_decisions, max_children) logit indices, padded with 0
    children_mask: torch.Tensor  # (num_decisions, max_children) True where a child exists
    path_decisions: torch.Tensor  # (num_leaves, max_depth) padded with 0 (the root)
    path_branches: torch.Tensor  # (num_leaves, max_depth) padded with 0
    path_mask: torch.Tensor  # (num_leaves, max_depth)
    path_nodes: torch.Tensor  # (num_leaves, max_depth + 1) padded with -1
    depth: torch.Tensor  # (num_leaves,)
    logit_decisions: torch.Tensor  # (num_logits,)
    parent_logits: torch.Tensor  # (num_logits,) logit of the parent node, -1 for the root
    leaf_logits: torch.Tensor  # (num_leaves,)


class Taxonomy:
    r"""A rooted tree whose leaves are the classes of a hierarchical softmax.

    The tree is given by a parent array: node ``i`` has parent ``parents[i]``,
    and the root, the only node with parent ``-1``, may sit at any position.
    Nodes with children are *decisions*; nodes without are *leaves*, and the
    leaves, in increasing node order, are the classes ``0, ..., L - 1``
    that a target refers to. :meth:`from_paths`, :meth:`from_nested` and
    :meth:`complete` build the parent array from friendlier descriptions.

    **Logit layout.** Every node except the root owns one logit, the score of
    descending into it from its parent, so a model outputs
    ``num_logits = num_nodes - 1`` numbers per example. The logits are laid out
    in breadth-first order: the children of each decision are contiguous, the
    decisions follow one another in breadth-first order, and all nodes of depth
    :math:`d` come before those of depth :math:`d + 1`. ``logit_nodes[j]`` is
    the node that logit ``j`` scores and ``node_logits[i]`` the logit of node
    ``i`` (``-1`` for the root).

    Parameters
    ----------
    parents : sequence of int or Tensor
        Parent of every node, ``-1`` for the root: at least two nodes, exactly
        one root, and every node's chain of parents ends at the root (no cycle).
    names : sequence of str, optional
        A name per node, for display; ``None`` numbers them.

    Attributes
    ----------
    parents : Tensor
        ``(num_nodes,)``, the parent array (``int64``).
    node_depth : Tensor
        ``(num_nodes,)``, the number of edges from the root.
    leaves : Tensor
        ``(num_leaves,)``, the node of each class.
    depth : Tensor
        ``(num_leaves,)``, the number of decisions on the path to each leaf.
    decision_nodes : Tensor
        ``(num_decisions,)``, the node of each decision, in breadth-first
        order (the root is decision 0).
    logit_nodes, node_logits : Tensor
        The logit layout described above.
    path_decisions, path_branches, path_mask : Tensor
        ``(num_leaves, max_depth)``: for the path to each leaf, the decision
        taken at each step, the position of the chosen child among that
        decision's children, and ``True`` for the steps that exist (the others
        are padding, set to 0).
    path_nodes : Tensor
        ``(num_leaves, max_depth + 1)``, the nodes from the root to each leaf,
        padded with ``-1``.
    children, children_mask : Tensor
        ``(num_decisions, max_children)``, the logit indices of each decision's
        children (padding set to 0) and ``True`` where a child exists.
    names : list of str
        The node names.

    Notes
    -----
    A decision with a single child is allowed; its local probability is 1,
    so it adds nothing to the loss and its logit never receives a gradient.
    The tensors live on the CPU; the functions copy the ones they need to the
    device of the logits on first use and keep the copies.

    Examples
    --------
    Three classes: ``a`` and ``b`` share a parent, ``c`` hangs from the root.

    >>> tax = Taxonomy([-1, 0, 1, 1, 0], names=["root", "ab", "a", "b", "c"])
    >>> tax
    Taxonomy(num_leaves=3, num_decisions=2, num_logits=4, max_depth=2)
    >>> tax.leaf_names
    ['a', 'b', 'c']
    >>> tax.depth
    tensor([2, 2, 1])
    >>> [tax.names[i] for i in tax.logit_nodes.tolist()]  # breadth-first
    ['ab', 'c', 'a', 'b']
    >>> tax.leaf_distance(torch.tensor([0, 0, 0]), torch.tensor([0, 1, 2]))
    tensor([0, 2, 3])
    """

    def __init__(
        self, parents: Sequence[int] | torch.Tensor, *, names: Sequence[str] | None = None
    ) -> None:
        parent_list = _check_parents(parents)
        num_nodes = len(parent_list)
        if names is None:
            names = [str(i) for i in range(num_nodes)]
        elif (
            isinstance(names, str)
            or len(names) != num_nodes
            or not all(isinstance(name, str) for name in names)
        ):
            raise ValueError(f"`names` must hold one string per node ({num_nodes})")
        self.names = list(names)

        children: list[list[int]] = [[] for _ in range(num_nodes)]
        for node, parent in enumerate(parent_list):
            if parent >= 0:
                children[parent].append(node)
        root = parent_list.index(-1)
        order = [root]  # breadth-first, children in node order
        for node in order:
            order.extend(children[node])
        if len(order) != num_nodes:  # some node's chain of parents never reaches the root
            raise ValueError("`parents` must describe a tree: some nodes form a cycle")

        depth_of = [0] * num_nodes
        position = [0] * num_nodes  # rank of each node among its siblings
        for node in order[1:]:
            depth_of[node] = depth_of[parent_list[node]] + 1
        for kids in children:
            for rank, child in enumerate(kids):
                position[child] = rank
        decisions = [node for node in order if children[node]]
        decision_of = [-1] * num_nodes
        for i, node in enumerate(decisions):
            decision_of[node] = i
        node_logit = [-1] * num_nodes
        for j, node in enumerate(order[1:]):
            node_logit[node] = j
        leaves = [node for node in range(num_nodes) if not children[node]]

        self.parents = torch.tensor(parent_list, dtype=torch.long)
        self.node_depth = torch.tensor(depth_of, dtype=torch.long)
        self.leaves = torch.tensor(leaves, dtype=torch.long)
        self.depth = self.node_depth[self.leaves]
        self.decision_nodes = torch.tensor(decisions, dtype=torch.long)
        self.logit_nodes = torch.tensor(order[1:], dtype=torch.long)
        self.node_logits = torch.tensor(node_logit, dtype=torch.long)

        # Breadth-first order keeps each decision's children contiguous among the logits.
        counts = torch.tensor([len(children[node]) for node in decisions], dtype=torch.long)
        first_child = torch.tensor([children[node][0] for node in decisions], dtype=torch.long)
        first = self.node_logits[first_child]
        slots = torch.arange(int(counts.max()))
        self.children_mask = slots < counts[:, None]
        self.children = torch.where(self.children_mask, first[:, None] + slots, 0)

        # Walk up from every leaf at once, then read each chain from the root down.
        max_depth = int(self.depth.max())
        up = [self.leaves]
        for _ in range(max_depth):
            up.append(torch.where(up[-1] >= 0, self.parents[up[-1].clamp(min=0)], -1))
        chains = torch.stack(up, dim=1)  # (L, max_depth + 1): leaf, parent, ..., -1
        steps = torch.arange(max_depth + 1)
        from_root = (self.depth[:, None] - steps).clamp(min=0)
        self.path_nodes = torch.where(steps <= self.depth[:, None], chains.gather(1, from_root), -1)
        self.path_mask = steps[:-1] < self.depth[:, None]
        inner_nodes, child_nodes = self.path_nodes[:, :-1], self.path_nodes[:, 1:]
        decision_index = torch.tensor(decision_of, dtype=torch.long)
        sibling_rank = torch.tensor(position, dtype=torch.long)
        self.path_decisions = torch.where(
            self.path_mask, decision_index[inner_nodes.clamp(min=0)], 0
        )
        self.path_branches = torch.where(self.path_mask, sibling_rank[child_nodes.clamp(min=0)], 0)
        self._cache: dict[torch.device, _Indices] = {}

    # ----------------------------------------------------------------- constructors

    @classmethod
    def from_paths(cls, paths: Sequence[Sequence[str]]) -> Taxonomy:
        """Build the tree from the path of names leading to each leaf (root left out).

        Nodes are identified by their path, so two nodes may share a name under
        different parents. Nodes are numbered in order of first appearance,
        so the classes follow the order of ``paths``.

        Parameters
        ----------
        paths : sequence of sequences of str
            One non-empty path per leaf, e.g. ``("strings", "bowed", "cello")``.
            No path may repeat or be a prefix of another (a leaf has no children).

        Examples
        --------
        >>> tax = Taxonomy.from_paths([("x", "a"), ("x", "b"), ("y",)])
        >>> tax.parents
        tensor([-1,  0,  1,  1,  0])
        >>> tax.leaf_names
        ['a', 'b', 'y']
        """
        if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence) or not paths:
            raise ValueError("`paths` must be a non-empty sequence of paths")
        ids: dict[tuple[str, ...], int] = {(): 0}
        parents, names = [-1], [ROOT_NAME]
        ends: set[tuple[str, ...]] = set()
        for path in paths:
            if isinstance(path, (str, bytes)) or not isinstance(path, Sequence) or not path:
                raise ValueError(f"`paths` must hold non-empty sequences of names, got {path!r}")
            if not all(isinstance(name, str) for name in path):
                raise ValueError(f"`paths` must hold names (str), got {path!r}")
            key = tuple(path)
            if key in ids:
                raise ValueError(
                    f"`paths` names the node {key!r} as a leaf twice or as a leaf and an inner node"
                )
            for depth in range(1, len(key) + 1):
                prefix = key[:depth]
                if prefix in ends:
                    raise ValueError(f"`paths` makes the leaf {prefix!r} a parent")
                if prefix not in ids:
                    ids[prefix] = len(parents)
                    parents.append(ids[prefix[:-1]])
                    names.append(prefix[-1])
            ends.add(key)
        return cls(parents, names=names)

    @classmethod
    def from_nested(cls, tree: Mapping[str, object]) -> Taxonomy:
        """Build the tree from nested dictionaries.

        Parameters
        ----------
        tree : mapping
            The root's children: each key is a child's name and its value is the
            child's own children, given as another mapping, as a list of leaf
            names, or as ``None`` for a leaf.

        Examples
        --------
        >>> tax = Taxonomy.from_nested({"x": ["a", "b"], "y": None})
        >>> tax.leaf_names
        ['a', 'b', 'y']
        """
        if not isinstance(tree, Mapping) or not tree:
            raise ValueError("`tree` must be a non-empty mapping of names to subtrees")
        paths: list[tuple[str, ...]] = []

        def walk(subtree: object, prefix: tuple[str, ...]) -> None:
            if subtree is None:
                paths.append(prefix)
            elif isinstance(subtree, Mapping) and subtree:
                for name, child in subtree.items():
                    walk(child, (*prefix, name))
            elif isinstance(subtree, (list, tuple)) and subtree:
                for name in subtree:
                    paths.append((*prefix, name))
            else:
                raise ValueError(
                    f"`tree` must map names to a non-empty mapping, a non-empty list of "
                    f"leaf names or None, got {subtree!r} under {prefix!r}"
                )

        walk(tree, ())
        return cls.from_paths(paths)

    @classmethod
    def complete(cls, branching: Sequence[int]) -> Taxonomy:
        """A complete tree: every node at depth ``d`` has ``branching[d]`` children.

        Nodes are numbered breadth-first, so the classes are the leaves from
        left to right; a node's name lists the child positions leading to it.

        Parameters
        ----------
        branching : sequence of int
            Children per node at each depth, every entry >= 1.

        Examples
        --------
        >>> tax = Taxonomy.complete((2, 3))
        >>> tax.num_leaves, tax.num_logits, tax.leaf_names[:4]
        (6, 8, ['0.0', '0.1', '0.2', '1.0'])
        """
        if (
            isinstance(branching, (str, bytes))
            or not isinstance(branching, Sequence)
            or not branching
        ):
            raise ValueError(f"`branching` must be a non-empty sequence of ints, got {branching!r}")
        for width in branching:
            if isinstance(width, bool) or not isinstance(width, int) or width < 1:
                raise ValueError(f"`branching` must hold integers >= 1, got {branching!r}")
        parents, names = [-1], [ROOT_NAME]
        level = [0]
        for width in branching:
            next_level = []
            for node in level:
                for position in range(width):
                    next_level.append(len(parents))
                    parents.append(node)
                    prefix = "" if node == 0 else names[node] + "."
                    names.append(f"{prefix}{position}")
            level = next_level
        return cls(parents, names=names)

    # ----------------------------------------------------------------- sizes

    @property
    def num_nodes(self) -> int:
        """Number of nodes, the root included."""
        return self.parents.numel()

    @property
    def num_leaves(self) -> int:
        """Number of leaves, the classes :math:`L`."""
        return self.leaves.numel()

    @property
    def num_decisions(self) -> int:
        """Number of internal nodes, each with its own local softmax."""
        return self.decision_nodes.numel()

    @property
    def num_logits(self) -> int:
        """Logits per example, one per node except the root."""
        return self.num_nodes - 1

    @property
    def max_depth(self) -> int:
        """The largest number of decisions on a path."""
        return self.path_mask.shape[1]

    @property
    def max_children(self) -> int:
        """The largest number of children of a decision."""
        return self.children.shape[1]

    @property
    def leaf_names(self) -> list[str]:
        """The names of the classes, in class order."""
        return [self.names[i] for i in self.leaves.tolist()]

    def __repr__(self) -> str:
        return (
            f"Taxonomy(num_leaves={self.num_leaves}, num_decisions={self.num_decisions}, "
            f"num_logits={self.num_logits}, max_depth={self.max_depth})"
        )

    # ----------------------------------------------------------------- queries

    def path_logits(self, leaf: int) -> torch.Tensor:
        """The logits of the decisions on the path to class ``leaf``.

        These are the children of every decision on the path (the chosen child
        and its siblings), in breadth-first order: the only logits that the
        loss of an example of class ``leaf`` depends on.

        Examples
        --------
        >>> Taxonomy([-1, 0, 1, 1, 0]).path_logits(2)  # a leaf under the root
        tensor([0, 1])
        """
        if isinstance(leaf, bool) or not isinstance(leaf, int) or not (0 <= leaf < self.num_leaves):
            raise ValueError(f"`leaf` must be an integer in [0, {self.num_leaves}), got {leaf!r}")
        steps = self.path_decisions[leaf][self.path_mask[leaf]]
        return self.children[steps][self.children_mask[steps]].sort().values

    def leaf_distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        r"""The number of edges between leaves ``a`` and ``b`` in the tree.

        With :math:`d(\cdot)` the depth and :math:`\operatorname{lca}` the
        lowest common ancestor, the distance is
        :math:`d(a) + d(b) - 2\, d(\operatorname{lca}(a, b))`: 0 for the same
        leaf, 2 for two leaves with the same parent.

        Parameters
        ----------
        a, b : Tensor
            Class indices in ``[0, num_leaves)``, of shapes that broadcast.

        Returns
        -------
        Tensor
            ``int64`` distances of the broadcast shape, on the device of ``a``.

        Examples
        --------
        >>> tax = Taxonomy.complete((2, 2))
        >>> tax.leaf_distance(torch.tensor(0), torch.arange(4))
        tensor([0, 2, 4, 4])
        """
        check_class_indices(a, self.num_leaves, "a")
        check_class_indices(b, self.num_leaves, "b")
        nodes = self._indices(a.device).path_nodes
        a, b = torch.broadcast_tensors(a.long(), b.to(a.device).long())
        path_a, path_b = nodes[a], nodes[b]  # (..., max_depth + 1)
        same = ((path_a == path_b) & (path_a >= 0)).long().cumprod(dim=-1)
        lca_depth = same.sum(dim=-1) - 1
        depth = self._indices(a.device).depth
        return depth[a] + depth[b] - 2 * lca_depth

    def _indices(self, device: torch.device) -> _Indices:
        """The index tensors on ``device``, copied once and cached."""
        device = torch.device(device)
        if device not in self._cache:
            parent_logits = self.node_logits[self.parents[self.logit_nodes]]
            logit_decisions = torch.empty(self.num_logits, dtype=torch.long)
            logit_decisions[self.children[self.children_mask]] = torch.arange(
                self.num_decisions
            ).repeat_interleave(self.children_mask.sum(dim=1))
            self._cache[device] = _Indices(
                children=self.children.to(device),
                children_mask=self.children_mask.to(device),
                path_decisions=self.path_decisions.to(device),
                path_branches=self.path_branches.to(device),
                path_mask=self.path_mask.to(device),
                path_nodes=self.path_nodes.to(device),
                depth=self.depth.to(device),
                logit_decisions=logit_decisions.to(device),
                parent_logits=parent_logits.to(device),
                leaf_logits=self.node_logits[self.leaves].to(device),
            )
        return self._cache[device]


def _check_parents(parents: Sequence[int] | torch.Tensor) -> list[int]:
    """Return the parent array as a list of ints after checking its shape and values."""
    if isinstance(parents, torch.Tensor):
        if parents.dim() != 1 or parents.is_floating_point() or parents.is_complex():
            raise ValueError(f"`parents` must be a 1-D integer tensor, got {parents!r}")
        parent_list = [int(p) for p in parents.tolist()]
    elif isinstance(parents, (str, bytes)) or not isinstance(parents, Sequence):
        raise ValueError(f"`parents` must be a sequence of ints, got {type(parents).__name__}")
    else:
        if not all(isinstance(p, int) and not isinstance(p, bool) for p in parents):
            raise ValueError(f"`parents` must hold integers, got {list(parents)!r}")
        parent_list = list(parents)
    num_nodes = len(parent_list)
    if num_nodes < 2:
        raise ValueError(f"`parents` must describe at least two nodes, got {num_nodes}")
    roots = [i for i, p in enumerate(parent_list) if p == -1]
    if len(roots) != 1:
        raise ValueError(f"`parents` must have exactly one root (-1), found {len(roots)}")
    for node, parent in enumerate(parent_list):
        if parent != -1 and not 0 <= parent < num_nodes:
            raise ValueError(
                f"`parents` must hold -1 or node indices in [0, {num_nodes}), "
                f"found {parent} at node {node}"
            )
        if parent == node:
            raise ValueError(f"`parents` makes node {node} its own parent")
    return parent_list


# --------------------------------------------------------------------- the loss


def _check_taxonomy(taxonomy: object) -> Taxonomy:
    if not isinstance(taxonomy, Taxonomy):
        raise ValueError(f"`taxonomy` must be a Taxonomy, got {type(taxonomy).__name__}")
    return taxonomy


def _flatten_logits(logits: torch.Tensor, taxonomy: Taxonomy) -> torch.Tensor:
    """Check ``(N, num_logits, d1, ...)`` logits and return them as ``(B, num_logits)``."""
    check_floating(logits, "logits")
    if logits.dim() < 2 or logits.shape[1] != taxonomy.num_logits:
        raise ValueError(
            f"`logits` must have shape (N, {taxonomy.num_logits}) or "
            f"(N, {taxonomy.num_logits}, d1, ...), one logit per non-root node, "
            f"got {tuple(logits.shape)}"
        )
    check_not_empty(logits, "logits")
    return logits.movedim(1, -1).reshape(-1, taxonomy.num_logits)


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


def hierarchical_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    taxonomy: Taxonomy,
    *,
    reduction: Reduction = "mean",
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

    Returns
    -------
    Tensor
        A scalar, or the element losses for ``reduction="none"``.

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
    Goodman, J. (2001). Classes for Fast Maximum Entropy Training. *ICASSP*.

    Morin, F., and Bengio, Y. (2005). Hierarchical Probabilistic Neural
    Network Language Model. *AISTATS*.

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
    flat = _flatten_logits(logits, taxonomy)
    expected = (logits.shape[0], *logits.shape[2:])
    check_tensor(target, "target")
    if tuple(target.shape) != expected:
        raise ValueError(
            f"`target` must have shape {expected} to match `logits` of shape "
            f"{tuple(logits.shape)}, got {tuple(target.shape)}"
        )
    check_class_indices(target, taxonomy.num_leaves, "target")
    check_reduction(reduction)
    index = taxonomy._indices(logits.device)
    labels = target.reshape(-1).long()
    steps = index.children[index.path_decisions[labels]]  # (B, D, C) logit indices
    gathered = flat.gather(1, steps.flatten(1)).view(steps.shape)
    loss = _path_nll(gathered, labels, index)
    check_result_finite(loss, logits=logits)
    return reduce_loss(loss.view(expected), reduction)


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
    sizes = torch.bincount(taxonomy.node_depth[taxonomy.logit_nodes]).tolist()[1:]
    blocks: list[torch.Tensor] = []
    start, previous_start = 0, 0
    for size in sizes:
        block = local[:, start : start + size]
        if blocks:  # parents' positions within the previous block
            parents = index.parent_logits[start : start + size] - previous_start
            block = block + blocks[-1].index_select(1, parents)
        blocks.append(block)
        previous_start, start = start, start + size
    return torch.cat(blocks, dim=1).index_select(1, index.leaf_logits)


def leaf_log_probs(logits: torch.Tensor, taxonomy: Taxonomy) -> torch.Tensor:
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
    flat = _flatten_logits(logits, taxonomy)
    log_p = _leaf_log_probs_flat(flat, taxonomy)
    check_result_finite(log_p.logsumexp(dim=1), logits=logits)
    shape = (logits.shape[0], *logits.shape[2:], taxonomy.num_leaves)
    return log_p.view(shape).movedim(-1, 1)


# --------------------------------------------------------------------- modules


class HierarchicalCrossEntropyLoss(nn.Module):
    """Module form of :func:`hierarchical_cross_entropy`.

    Parameters
    ----------
    taxonomy : Taxonomy
        The tree; kept as an attribute.
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> criterion = HierarchicalCrossEntropyLoss(Taxonomy.complete((2, 2)))
    >>> criterion  # doctest: +NORMALIZE_WHITESPACE
    HierarchicalCrossEntropyLoss(Taxonomy(num_leaves=4, num_decisions=3, num_logits=6,
                                          max_depth=2), reduction='mean')
    >>> criterion(torch.zeros(3, 6), torch.tensor([0, 1, 3]))  # 2 log 2
    tensor(1.3863)
    """

    def __init__(self, taxonomy: Taxonomy, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.taxonomy = _check_taxonomy(taxonomy)
        check_reduction(reduction)
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return ``hierarchical_cross_entropy(logits, target, taxonomy, ...)``."""
        return hierarchical_cross_entropy(logits, target, self.taxonomy, reduction=self.reduction)

    def extra_repr(self) -> str:
        """The options, as shown by ``repr(module)``."""
        return f"{self.taxonomy!r}, reduction={self.reduction!r}"


class HierarchicalSoftmax(nn.Module):
    r"""A linear output layer over a taxonomy whose loss reads only the path's logits.

    The layer holds one weight row :math:`w_j` and bias :math:`b_j` per logit
    (per non-root node), like ``nn.Linear(in_features, taxonomy.num_logits)``,
    and is initialised the same way. :meth:`forward` returns every logit.
    :meth:`loss` computes only the logits :math:`w_j^\top h + b_j` of the
    children of the decisions on each example's path, about
    ``max_depth * max_children`` dot products per example instead of
    ``num_logits``: the saving of {Morin and Bengio 2005}. The result equals
    ``hierarchical_cross_entropy(layer(input), target, taxonomy)``.

    PyTorch's ``nn.AdaptiveLogSoftmaxWithLoss`` is a related two-level tree
    built from class frequencies.

    Parameters
    ----------
    in_features : int
        Size :math:`h` of each input vector.
    taxonomy : Taxonomy
        The tree.
    bias : bool, default True
        Whether to learn a bias per logit.
    device, dtype : optional
        Where and in which floating-point type to create the parameters.

    Attributes
    ----------
    weight : torch.nn.Parameter
        Shape ``(num_logits, in_features)``.
    bias : torch.nn.Parameter or None
        Shape ``(num_logits,)``.

    Notes
    -----
    The gradient of :attr:`weight` is a dense tensor that is zero outside the
    rows on the batch's paths; allocating it costs ``num_logits * in_features``
    per batch, shared by all examples of the batch.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> layer = HierarchicalSoftmax(8, Taxonomy.complete((2, 2, 2)))
    >>> layer  # doctest: +NORMALIZE_WHITESPACE
    HierarchicalSoftmax(in_features=8, Taxonomy(num_leaves=8, num_decisions=7,
                        num_logits=14, max_depth=3), bias=True)
    >>> h, y = torch.randn(5, 8), torch.tensor([0, 3, 4, 7, 7])
    >>> layer(h).shape
    torch.Size([5, 14])
    >>> full = hierarchical_cross_entropy(layer(h), y, layer.taxonomy)
    >>> torch.allclose(layer.loss(h, y), full)
    True
    >>> layer.leaf_log_probs(h).exp().sum(1)
    tensor([1.0000, 1.0000, 1.0000, 1.0000, 1.0000], grad_fn=<SumBackward1>)
    """

    def __init__(
        self,
        in_features: int,
        taxonomy: Taxonomy,
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        check_positive_int(in_features, "in_features")
        self.in_features = in_features
        self.taxonomy = _check_taxonomy(taxonomy)
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(
            torch.empty(taxonomy.num_logits, in_features, device=device, dtype=dtype).uniform_(
                -bound, bound
            )
        )
        if bias:
            self.bias = nn.Parameter(
                torch.empty(taxonomy.num_logits, device=device, dtype=dtype).uniform_(-bound, bound)
            )
        else:
            self.register_parameter("bias", None)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """Every logit, ``(N, num_logits)``, as ``nn.Linear`` would compute it."""
        self._check_input(input)
        return F.linear(input, self.weight, self.bias)

    def loss(
        self, input: torch.Tensor, target: torch.Tensor, *, reduction: Reduction = "mean"
    ) -> torch.Tensor:
        """The hierarchical cross-entropy, from the logits on each example's path only.

        Parameters
        ----------
        input : Tensor
            Shape ``(N, in_features)``.
        target : Tensor
            Class indices in ``[0, num_leaves)``, shape ``(N,)``.
        reduction : {"mean", "sum", "none"}, default "mean"
        """
        self._check_input(input)
        check_tensor(target, "target")
        if tuple(target.shape) != (input.shape[0],):
            raise ValueError(
                f"`target` must have shape ({input.shape[0]},) to match `input`, "
                f"got {tuple(target.shape)}"
            )
        check_class_indices(target, self.taxonomy.num_leaves, "target")
        check_reduction(reduction)
        index = self.taxonomy._indices(input.device)
        labels = target.long()
        steps = index.children[index.path_decisions[labels]]  # (N, D, C)
        rows = F.embedding(steps, self.weight)  # (N, D, C, in_features)
        path_logits = (rows * input[:, None, None, :]).sum(dim=3)
        if self.bias is not None:
            path_logits = path_logits + self.bias[steps]
        loss = _path_nll(path_logits, labels, index)
        check_result_finite(loss, input=input)
        return reduce_loss(loss, reduction)

    def leaf_log_probs(self, input: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of all leaves, ``(N, num_leaves)``; see :func:`leaf_log_probs`."""
        return leaf_log_probs(self.forward(input), self.taxonomy)

    def extra_repr(self) -> str:
        """The options, as shown by ``repr(module)``."""
        return f"in_features={self.in_features}, {self.taxonomy!r}, bias={self.bias is not None}"

    def _check_input(self, input: torch.Tensor) -> None:
        check_floating(input, "input")
        if input.dim() != 2 or input.shape[1] != self.in_features:
            raise ValueError(
                f"`input` must have shape (N, {self.in_features}), got {tuple(input.shape)}"
            )
        check_not_empty(input, "input")

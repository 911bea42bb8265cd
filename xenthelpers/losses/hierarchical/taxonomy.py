"""The tree of a hierarchical softmax: its nodes, its logit layout and its paths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import torch

from ..._validation import check_class_indices

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

    def to(self, device: torch.device) -> _Indices:
        """A copy with every tensor on ``device``."""
        return _Indices(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


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
        self.names = _check_names(names, len(parent_list))
        children = _children_of(parent_list)
        order = _breadth_first(children, root=parent_list.index(-1))
        self._number_nodes(parent_list, children, order)
        self._tabulate_children(children)
        self._tabulate_paths(children)
        # Logits per depth, for the depth-by-depth accumulation of leaf_log_probs.
        self._logits_per_depth = tuple(self.node_depth[self.logit_nodes].bincount().tolist()[1:])
        self._cache = {torch.device("cpu"): self._index_tensors()}

    def _number_nodes(
        self, parent_list: list[int], children: list[list[int]], order: list[int]
    ) -> None:
        """The node tables: depths, leaves, decisions and the breadth-first logit layout."""
        num_nodes = len(parent_list)
        depth_of = [0] * num_nodes
        for node in order[1:]:  # a parent comes before its children
            depth_of[node] = depth_of[parent_list[node]] + 1
        node_logit = [-1] * num_nodes
        for logit, node in enumerate(order[1:]):
            node_logit[node] = logit
        self.parents = torch.tensor(parent_list, dtype=torch.long)
        self.node_depth = torch.tensor(depth_of, dtype=torch.long)
        self.leaves = torch.tensor(
            [node for node in range(num_nodes) if not children[node]], dtype=torch.long
        )
        self.depth = self.node_depth[self.leaves]
        self.decision_nodes = torch.tensor(
            [node for node in order if children[node]], dtype=torch.long
        )
        self.logit_nodes = torch.tensor(order[1:], dtype=torch.long)
        self.node_logits = torch.tensor(node_logit, dtype=torch.long)

    def _tabulate_children(self, children: list[list[int]]) -> None:
        """``children`` and ``children_mask``: each decision's child logits, padded."""
        decisions = self.decision_nodes.tolist()
        counts = torch.tensor([len(children[node]) for node in decisions], dtype=torch.long)
        # Breadth-first order keeps each decision's children contiguous among the logits.
        first_child = torch.tensor([children[node][0] for node in decisions], dtype=torch.long)
        first = self.node_logits[first_child]
        slots = torch.arange(int(counts.max()))
        self.children_mask = slots < counts[:, None]
        self.children = torch.where(self.children_mask, first[:, None] + slots, 0)

    def _tabulate_paths(self, children: list[list[int]]) -> None:
        """The path tables: nodes, decisions and branches from the root to every leaf."""
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
        decision_index, sibling_rank = _decision_index_and_sibling_rank(
            children, self.decision_nodes.tolist()
        )
        inner_nodes = self.path_nodes[:, :-1].clamp(min=0)
        child_nodes = self.path_nodes[:, 1:].clamp(min=0)
        self.path_decisions = torch.where(self.path_mask, decision_index[inner_nodes], 0)
        self.path_branches = torch.where(self.path_mask, sibling_rank[child_nodes], 0)

    def _index_tensors(self) -> _Indices:
        """The tables the losses index with, on the CPU."""
        logit_decisions = torch.empty(self.num_logits, dtype=torch.long)
        logit_decisions[self.children[self.children_mask]] = torch.arange(
            self.num_decisions
        ).repeat_interleave(self.children_mask.sum(dim=1))
        return _Indices(
            children=self.children,
            children_mask=self.children_mask,
            path_decisions=self.path_decisions,
            path_branches=self.path_branches,
            path_mask=self.path_mask,
            path_nodes=self.path_nodes,
            depth=self.depth,
            logit_decisions=logit_decisions,
            parent_logits=self.node_logits[self.parents[self.logit_nodes]],
            leaf_logits=self.node_logits[self.leaves],
        )

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
        index = self._indices(a.device)
        a, b = torch.broadcast_tensors(a.long(), b.to(a.device).long())
        path_a, path_b = index.path_nodes[a], index.path_nodes[b]  # (..., max_depth + 1)
        same = ((path_a == path_b) & (path_a >= 0)).long().cumprod(dim=-1)
        lca_depth = same.sum(dim=-1) - 1
        return index.depth[a] + index.depth[b] - 2 * lca_depth

    def _indices(self, device: torch.device | str) -> _Indices:
        """The index tensors on ``device``, copied once and cached."""
        device = torch.device(device)
        if device not in self._cache:
            self._cache[device] = self._cache[torch.device("cpu")].to(device)
        return self._cache[device]


# ------------------------------------------------------------------- building steps


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


def _check_names(names: Sequence[str] | None, num_nodes: int) -> list[str]:
    """The node names, numbers by default."""
    if names is None:
        return [str(i) for i in range(num_nodes)]
    if (
        isinstance(names, str)
        or len(names) != num_nodes
        or not all(isinstance(name, str) for name in names)
    ):
        raise ValueError(f"`names` must hold one string per node ({num_nodes})")
    return list(names)


def _children_of(parent_list: list[int]) -> list[list[int]]:
    """The children of every node, in node order."""
    children: list[list[int]] = [[] for _ in parent_list]
    for node, parent in enumerate(parent_list):
        if parent >= 0:
            children[parent].append(node)
    return children


def _breadth_first(children: list[list[int]], root: int) -> list[int]:
    """The nodes in breadth-first order from ``root``, children in node order."""
    order = [root]
    for node in order:
        order.extend(children[node])
    if len(order) != len(children):  # some node's chain of parents never reaches the root
        raise ValueError("`parents` must describe a tree: some nodes form a cycle")
    return order


def _decision_index_and_sibling_rank(
    children: list[list[int]], decisions: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """For every node: its index among the decisions (-1 for a leaf), its rank among siblings."""
    decision_index = [-1] * len(children)
    for i, node in enumerate(decisions):
        decision_index[node] = i
    sibling_rank = [0] * len(children)
    for kids in children:
        for rank, child in enumerate(kids):
            sibling_rank[child] = rank
    return (
        torch.tensor(decision_index, dtype=torch.long),
        torch.tensor(sibling_rank, dtype=torch.long),
    )

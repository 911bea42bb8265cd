"""The tree-structured (hierarchical) softmax: taxonomy, loss, leaf probabilities, modules."""

from __future__ import annotations

import itertools
import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.devices import DEVICES
from xenthelpers.losses.hierarchical import (
    HierarchicalCrossEntropyLoss,
    HierarchicalSoftmax,
    Taxonomy,
    hierarchical_cross_entropy,
    leaf_log_probs,
)

REDUCTIONS = ["mean", "sum", "none"]

# A small irregular tree, its root in the middle, numbered out of breadth-first order:
#            4 (root)
#        /   |    \
#       0    6     2
#     / | \        |
#    1  3  7       5
#      / \
#     8   9
IRREGULAR = [4, 0, 4, 0, -1, 2, 4, 0, 3, 3]


def _random_parents(num_nodes: int, seed: int) -> list[int]:
    """A random tree: node i > 0 hangs from an earlier node, then the labels are shuffled."""
    generator = torch.Generator().manual_seed(seed)
    parents = [-1] + [
        int(torch.randint(0, i, (1,), generator=generator)) for i in range(1, num_nodes)
    ]
    relabel = torch.randperm(num_nodes, generator=generator).tolist()
    shuffled = [0] * num_nodes
    for node, parent in enumerate(parents):
        shuffled[relabel[node]] = -1 if parent < 0 else relabel[parent]
    return shuffled


def _children(parents: list[int]) -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {i: [] for i in range(len(parents))}
    for node, parent in enumerate(parents):
        if parent >= 0:
            kids[parent].append(node)
    return kids


def _reference_nll(logits: torch.Tensor, target: torch.Tensor, parents: list[int]) -> torch.Tensor:
    """-log P(leaf) by walking up from each leaf, one F.cross_entropy per decision (a loop)."""
    tax = Taxonomy(parents)
    kids = _children(parents)
    node_logit = tax.node_logits.tolist()
    leaves = tax.leaves.tolist()
    losses = []
    for row, leaf_class in zip(logits, target.tolist()):
        node, total = leaves[leaf_class], row.new_zeros(())
        while parents[node] >= 0:
            siblings = kids[parents[node]]
            local = row[[node_logit[s] for s in siblings]]
            total = total + F.cross_entropy(
                local[None], torch.tensor([siblings.index(node)], device=row.device)
            )
            node = parents[node]
        losses.append(total)
    return torch.stack(losses)


def _reference_distance(parents: list[int], a: int, b: int) -> int:
    """Edges between two nodes by breadth-first search on the undirected tree."""
    neighbours = _children(parents)
    for node, parent in enumerate(parents):
        if parent >= 0:
            neighbours[node] = [*neighbours[node], parent]
    frontier, seen, steps = {a}, {a}, 0
    while b not in frontier:
        frontier = {n for f in frontier for n in neighbours[f]} - seen
        seen |= frontier
        steps += 1
    return steps


def _batch(tax: Taxonomy, n: int = 32, seed: int = 0, dtype=torch.float64, scale: float = 3.0):
    generator = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, tax.num_logits, generator=generator, dtype=dtype)
    target = torch.randint(0, tax.num_leaves, (n,), generator=generator)
    return logits, target


# --------------------------------------------------------------------- the taxonomy


def test_irregular_tree_tables():
    tax = Taxonomy(IRREGULAR)
    assert tax.leaves.tolist() == [1, 5, 6, 7, 8, 9]
    assert tax.depth.tolist() == [2, 2, 1, 2, 3, 3]
    assert tax.decision_nodes.tolist() == [4, 0, 2, 3]  # breadth-first, root first
    assert tax.logit_nodes.tolist() == [0, 2, 6, 1, 3, 7, 5, 8, 9]
    assert tax.node_logits[4] == -1 and tax.node_logits[8] == 7
    assert (tax.num_nodes, tax.num_leaves, tax.num_decisions, tax.num_logits) == (10, 6, 4, 9)
    assert (tax.max_depth, tax.max_children) == (3, 3)
    # leaf 8 (class 4): root -> 0 (branch 0) -> 3 (branch 1) -> 8 (branch 0)
    assert tax.path_nodes[4].tolist() == [4, 0, 3, 8]
    assert tax.path_decisions[4].tolist() == [0, 1, 3]
    assert tax.path_branches[4].tolist() == [0, 1, 0]
    # leaf 6 (class 2) is a child of the root: one real step, two padded ones
    assert tax.path_mask[2].tolist() == [True, False, False]
    assert tax.path_nodes[2].tolist() == [4, 6, -1, -1]
    assert tax.children[tax.children_mask].tolist() == list(range(9))


def test_children_of_each_decision_are_contiguous_logits():
    tax = Taxonomy(_random_parents(40, seed=3))
    for row, mask in zip(tax.children, tax.children_mask):
        kids = row[mask]
        assert torch.equal(kids, torch.arange(int(kids[0]), int(kids[0]) + len(kids)))
    depth_of_logit = tax.node_depth[tax.logit_nodes]
    assert bool((depth_of_logit.diff() >= 0).all()), "logits must be sorted by depth"


def test_from_paths_and_from_nested_build_the_same_tree():
    nested = {"strings": {"bowed": ["violin", "cello"], "plucked": ["harp"]}, "drum": None}
    paths = [
        ("strings", "bowed", "violin"),
        ("strings", "bowed", "cello"),
        ("strings", "plucked", "harp"),
        ("drum",),
    ]
    a, b = Taxonomy.from_nested(nested), Taxonomy.from_paths(paths)
    assert torch.equal(a.parents, b.parents) and a.names == b.names
    assert a.leaf_names == ["violin", "cello", "harp", "drum"]
    assert a.names[0] == "(root)"
    assert a.depth.tolist() == [3, 3, 3, 1]


def test_from_paths_allows_repeated_names_under_different_parents():
    tax = Taxonomy.from_paths([("a", "other"), ("a", "x"), ("b", "other"), ("b", "y")])
    assert tax.leaf_names == ["other", "x", "other", "y"]
    assert tax.num_nodes == 7


def test_complete_tree():
    tax = Taxonomy.complete((3, 2, 4))
    assert tax.num_leaves == 24 and tax.num_logits == 3 + 6 + 24
    assert bool((tax.depth == 3).all())
    assert tax.leaf_names[:5] == ["0.0.0", "0.0.1", "0.0.2", "0.0.3", "0.1.0"]
    assert tax.max_children == 4


def test_a_tensor_parent_array_is_accepted():
    assert torch.equal(Taxonomy(torch.tensor(IRREGULAR)).parents, Taxonomy(IRREGULAR).parents)


def test_path_logits_are_the_children_of_the_decisions_on_the_path():
    tax = Taxonomy(IRREGULAR)
    # class 4 is node 8: decisions 4, 0, 3 own logits {0,1,2}, {3,4,5}, {7,8}
    assert tax.path_logits(4).tolist() == [0, 1, 2, 3, 4, 5, 7, 8]
    assert tax.path_logits(2).tolist() == [0, 1, 2]


@settings(max_examples=30)
@given(num_nodes=st.integers(2, 25), seed=st.integers(0, 10_000))
def test_leaf_distance_matches_breadth_first_search(num_nodes, seed):
    parents = _random_parents(num_nodes, seed)
    tax = Taxonomy(parents)
    leaves = tax.leaves.tolist()
    a, b = zip(*itertools.product(range(tax.num_leaves), repeat=2))
    ours = tax.leaf_distance(torch.tensor(a), torch.tensor(b)).tolist()
    expected = [_reference_distance(parents, leaves[i], leaves[j]) for i, j in zip(a, b)]
    assert ours == expected


def test_leaf_distance_broadcasts():
    tax = Taxonomy.complete((2, 2))
    matrix = tax.leaf_distance(torch.arange(4)[:, None], torch.arange(4)[None, :])
    assert matrix.tolist() == [[0, 2, 4, 4], [2, 0, 4, 4], [4, 4, 0, 2], [4, 4, 2, 0]]


def test_repr():
    assert repr(Taxonomy(IRREGULAR)) == (
        "Taxonomy(num_leaves=6, num_decisions=4, num_logits=9, max_depth=3)"
    )


# --------------------------------------------------------------------- identities


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("parents", [IRREGULAR, _random_parents(30, 1), _random_parents(12, 2)])
def test_loss_is_the_sum_of_local_cross_entropies_on_the_path(parents, device):
    tax = Taxonomy(parents)
    logits, target = _batch(tax, n=40)
    logits, target = logits.to(device), target.to(device)
    ours = hierarchical_cross_entropy(logits, target, tax, reduction="none")
    torch.testing.assert_close(ours, _reference_nll(logits, target, parents), rtol=0, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_leaf_probabilities_sum_to_one_and_match_the_loss(device):
    tax = Taxonomy(_random_parents(50, 4))
    logits, target = _batch(tax, n=64)
    logits, target = logits.to(device), target.to(device)
    log_p = leaf_log_probs(logits, tax)
    assert log_p.shape == (64, tax.num_leaves)
    torch.testing.assert_close(log_p.exp().sum(1), torch.ones(64, dtype=torch.float64,
                                                               device=device), rtol=0, atol=1e-12)
    loss = hierarchical_cross_entropy(logits, target, tax, reduction="none")
    torch.testing.assert_close(-log_p.gather(1, target[:, None]).squeeze(1), loss,
                               rtol=0, atol=1e-12)


def test_leaf_probabilities_float32():
    tax = Taxonomy.complete((4, 4, 4))
    logits, _ = _batch(tax, dtype=torch.float32)
    total = leaf_log_probs(logits, tax).exp().sum(1)
    torch.testing.assert_close(total, torch.ones(32), rtol=0, atol=1e-5)


def test_argmax_of_leaf_log_probs_is_the_most_probable_leaf_by_brute_force():
    tax = Taxonomy(IRREGULAR)
    logits, _ = _batch(tax, n=50)
    every = torch.stack(
        [hierarchical_cross_entropy(logits, torch.full((50,), k), tax, reduction="none")
         for k in range(tax.num_leaves)], dim=1)
    # Two computations of the same numbers: compare the chosen leaves' losses, which is
    # robust to a near-tie between two leaves, rather than the indices.
    chosen = every.gather(1, leaf_log_probs(logits, tax).argmax(1, keepdim=True)).squeeze(1)
    torch.testing.assert_close(chosen, every.min(1).values)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_one_level_tree_is_cross_entropy(reduction):
    flat = Taxonomy([-1] + [0] * 7)
    logits, target = _batch(flat, n=20)
    ours_in, torch_in = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    ours = hierarchical_cross_entropy(ours_in, target, flat, reduction=reduction)
    expected = F.cross_entropy(torch_in, target, reduction=reduction)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-13)
    ours.sum().backward()
    expected.sum().backward()
    torch.testing.assert_close(ours_in.grad, torch_in.grad, rtol=0, atol=1e-15)
    torch.testing.assert_close(leaf_log_probs(logits, flat), logits.log_softmax(1))


def test_two_level_tree_is_class_times_word_given_class():
    # Goodman's factorisation: P(w) = P(class(w)) P(w | class(w)), 3 classes of 4 words.
    tax = Taxonomy.complete((3, 4))
    logits, target = _batch(tax, n=30)
    classes, words = logits[:, :3], logits[:, 3:].view(30, 3, 4)
    c, w = target // 4, target % 4
    expected = F.cross_entropy(classes, c, reduction="none") + F.cross_entropy(
        words[torch.arange(30), c], w, reduction="none"
    )
    torch.testing.assert_close(
        hierarchical_cross_entropy(logits, target, tax, reduction="none"), expected,
        rtol=0, atol=1e-13,
    )


def test_reductions():
    tax = Taxonomy(IRREGULAR)
    logits, target = _batch(tax)
    each = hierarchical_cross_entropy(logits, target, tax, reduction="none")
    assert each.shape == (32,)
    torch.testing.assert_close(hierarchical_cross_entropy(logits, target, tax), each.mean())
    torch.testing.assert_close(
        hierarchical_cross_entropy(logits, target, tax, reduction="sum"), each.sum()
    )


def test_extra_dimensions_are_independent_positions():
    tax = Taxonomy(IRREGULAR)
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, tax.num_logits, 4, 5, generator=generator, dtype=torch.float64)
    target = torch.randint(0, tax.num_leaves, (3, 4, 5), generator=generator)
    ours = hierarchical_cross_entropy(logits, target, tax, reduction="none")
    flat_logits = logits.movedim(1, -1).reshape(-1, tax.num_logits)
    expected = hierarchical_cross_entropy(flat_logits, target.reshape(-1), tax, reduction="none")
    assert ours.shape == (3, 4, 5)
    torch.testing.assert_close(ours.reshape(-1), expected, rtol=0, atol=0)
    log_p = leaf_log_probs(logits, tax)
    assert log_p.shape == (3, tax.num_leaves, 4, 5)
    torch.testing.assert_close(
        log_p.movedim(1, -1).reshape(-1, tax.num_leaves), leaf_log_probs(flat_logits, tax)
    )


@settings(max_examples=40)
@given(num_nodes=st.integers(2, 30), seed=st.integers(0, 10_000), scale=st.floats(0.1, 30.0))
def test_properties_on_random_trees(num_nodes, seed, scale):
    parents = _random_parents(num_nodes, seed)
    tax = Taxonomy(parents)
    logits, target = _batch(tax, n=8, seed=seed, scale=scale)
    loss = hierarchical_cross_entropy(logits, target, tax, reduction="none")
    log_p = leaf_log_probs(logits, tax)
    assert bool((loss >= 0).all())
    torch.testing.assert_close(log_p.logsumexp(1), torch.zeros(8, dtype=torch.float64),
                               rtol=0, atol=1e-10)
    torch.testing.assert_close(-log_p.gather(1, target[:, None]).squeeze(1), loss,
                               rtol=0, atol=1e-10)
    torch.testing.assert_close(loss, _reference_nll(logits, target, parents), rtol=0, atol=1e-10)


# --------------------------------------------------------------------- gradients


@pytest.mark.parametrize("device", DEVICES)
def test_gradient_reaches_only_the_decisions_on_the_path(device):
    tax = Taxonomy(_random_parents(40, 5))
    logits, _ = _batch(tax, n=1, scale=1.0)
    for leaf in range(tax.num_leaves):
        z = logits.to(device).clone().requires_grad_()
        hierarchical_cross_entropy(z, torch.tensor([leaf], device=device), tax).backward()
        on_path = torch.zeros(tax.num_logits, dtype=torch.bool)
        on_path[tax.path_logits(leaf)] = True
        grad = z.grad[0].cpu()
        assert bool((grad[~on_path] == 0).all()), "an off-path logit has a gradient"
        single_child = tax.children_mask.sum(1) == 1  # their logit's local probability is 1
        lonely = tax.children[single_child][:, 0]
        informative = on_path.clone()
        informative[lonely] = False
        assert bool((grad[informative] != 0).all())


def test_gradient_on_each_path_decision_is_local_softmax_minus_one_hot():
    tax = Taxonomy(IRREGULAR)
    logits, target = _batch(tax, n=1)
    z = logits.clone().requires_grad_()
    hierarchical_cross_entropy(z, target, tax, reduction="sum").backward()
    leaf = int(target)
    for step in range(int(tax.depth[leaf])):
        kids = tax.children[tax.path_decisions[leaf, step]]
        kids = kids[tax.children_mask[tax.path_decisions[leaf, step]]]
        expected = logits[0, kids].softmax(0)
        expected[tax.path_branches[leaf, step]] -= 1
        torch.testing.assert_close(z.grad[0, kids], expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_loss(reduction):
    tax = Taxonomy(IRREGULAR)
    logits, target = _batch(tax, n=6)
    logits.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda z: hierarchical_cross_entropy(z, target, tax, reduction=reduction), (logits,)
    )
    assert torch.autograd.gradgradcheck(
        lambda z: hierarchical_cross_entropy(z, target, tax, reduction=reduction), (logits,)
    )


def test_gradcheck_leaf_log_probs():
    tax = Taxonomy(_random_parents(15, 7))
    logits, _ = _batch(tax, n=4)
    logits.requires_grad_()
    assert torch.autograd.gradcheck(lambda z: leaf_log_probs(z, tax), (logits,))


def test_gradcheck_hierarchical_softmax_layer():
    tax = Taxonomy(IRREGULAR)
    layer = HierarchicalSoftmax(5, tax, dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(7, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, tax.num_leaves, (7,), generator=generator)

    def loss(x, weight, bias):
        del layer.weight, layer.bias  # plain tensors in place of the parameters
        layer.weight, layer.bias = weight, bias
        return layer.loss(x, target)

    weight = layer.weight.detach().clone().requires_grad_()
    bias = layer.bias.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, w, b: hierarchical_cross_entropy(F.linear(x, w, b), target, tax),
        (x, weight, bias),
    )
    assert torch.autograd.gradcheck(loss, (x, weight, bias))


# --------------------------------------------------------------------- extreme logits


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("size", [1e4, 1e30])
def test_extreme_logits_give_finite_exact_values(dtype, size):
    tax = Taxonomy(IRREGULAR)
    logits, target = _batch(tax, n=50, dtype=dtype, scale=1.0)
    z = (size * logits.sign()).requires_grad_()
    loss = hierarchical_cross_entropy(z, target, tax, reduction="none")
    loss.sum().backward()
    assert bool(torch.isfinite(loss).all()) and bool(torch.isfinite(z.grad).all())
    # At logits of +-size each local softmax is uniform over its largest logits, so the
    # loss is a sum of log(number of tied winners) or about `size` per lost decision.
    expected = _reference_nll(z.detach().double(), target, IRREGULAR)
    torch.testing.assert_close(loss.double(), expected, rtol=1e-6, atol=1e-6)
    assert bool(torch.isfinite(leaf_log_probs(z.detach(), tax)).all())


def test_large_equal_logits_keep_their_precision():
    flat = Taxonomy([-1, 0, 0])
    z = torch.tensor([[1e4, 1e4 - 3.0]])
    expected = F.cross_entropy(z, torch.tensor([1]))
    torch.testing.assert_close(hierarchical_cross_entropy(z, torch.tensor([1]), flat), expected)


# --------------------------------------------------------------------- modules


def test_module_matches_function_and_repr():
    tax = Taxonomy(IRREGULAR)
    logits, target = _batch(tax)
    for reduction in REDUCTIONS:
        criterion = HierarchicalCrossEntropyLoss(tax, reduction=reduction)
        torch.testing.assert_close(
            criterion(logits, target),
            hierarchical_cross_entropy(logits, target, tax, reduction=reduction),
        )
    assert repr(HierarchicalCrossEntropyLoss(tax, reduction="sum")) == (
        "HierarchicalCrossEntropyLoss(taxonomy=Taxonomy(num_leaves=6, num_decisions=4, "
        "num_logits=9, max_depth=3), reduction='sum')"
    )
    unchecked = HierarchicalCrossEntropyLoss(tax, validate_args=False)
    torch.testing.assert_close(unchecked(logits, target),
                               hierarchical_cross_entropy(logits, target, tax), rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bias", [True, False])
def test_layer_loss_equals_the_loss_of_its_full_logits(bias, device):
    tax = Taxonomy(_random_parents(60, 8))
    torch.manual_seed(0)
    layer = HierarchicalSoftmax(6, tax, bias=bias, dtype=torch.float64, device=device)
    x = torch.randn(25, 6, dtype=torch.float64, device=device)
    target = torch.randint(0, tax.num_leaves, (25,), device=device)
    for reduction in REDUCTIONS:
        torch.testing.assert_close(
            layer.loss(x, target, reduction=reduction),
            hierarchical_cross_entropy(layer(x), target, tax, reduction=reduction),
            rtol=0, atol=1e-12,
        )
    layer.loss(x, target).backward()
    path_grad = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    hierarchical_cross_entropy(layer(x), target, tax).backward()
    for ours, expected in zip(path_grad, layer.parameters()):
        torch.testing.assert_close(ours, expected.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(layer.leaf_log_probs(x), leaf_log_probs(layer(x), tax))


def test_layer_initialisation_and_repr():
    torch.manual_seed(0)
    layer = HierarchicalSoftmax(16, Taxonomy.complete((2, 2)), bias=False)
    assert layer.weight.shape == (6, 16) and layer.bias is None
    assert float(layer.weight.detach().abs().max()) <= 1 / math.sqrt(16)
    assert repr(layer).startswith("HierarchicalSoftmax(in_features=16, Taxonomy(")


# --------------------------------------------------------------------- conventions


def test_empty_input_is_answered_as_cross_entropy_does():
    tax = Taxonomy(IRREGULAR)
    layer = HierarchicalSoftmax(4, tax)
    logits, x = torch.zeros(0, tax.num_logits, 3), torch.zeros(0, 4)
    target = torch.zeros(0, 3, dtype=torch.long)
    for loss in (
        lambda reduction: hierarchical_cross_entropy(logits, target, tax, reduction=reduction),
        lambda reduction: layer.loss(x, target[:, 0], reduction=reduction),
    ):
        assert loss("mean").isnan() and loss("sum") == 0
        assert loss("none").numel() == 0
    assert leaf_log_probs(logits, tax).shape == (0, tax.num_leaves, 3)


def test_layer_loss_and_leaf_log_probs_run_on_the_meta_device_without_validation():
    tax = Taxonomy(IRREGULAR)
    layer = HierarchicalSoftmax(4, tax, device="meta")
    x = torch.empty(5, 4, device="meta", requires_grad=True)
    target = torch.empty(5, dtype=torch.long, device="meta")
    loss = layer.loss(x, target, validate_args=False)
    assert loss.device.type == "meta" and loss.dim() == 0
    loss.backward()
    log_p = leaf_log_probs(torch.empty(5, tax.num_logits, device="meta"), tax, validate_args=False)
    assert log_p.shape == (5, tax.num_leaves) and log_p.device.type == "meta"


def test_layer_loss_and_leaf_log_probs_compile_to_one_graph_without_validation():
    tax = Taxonomy(_random_parents(20, 6))
    layer = HierarchicalSoftmax(4, tax, dtype=torch.float64)
    x, target = torch.randn(7, 4, dtype=torch.float64), torch.randint(0, tax.num_leaves, (7,))

    def both(x, target):
        return (layer.loss(x, target, validate_args=False),
                layer.leaf_log_probs(x, validate_args=False))

    compiled = torch.compile(both, fullgraph=True, backend="eager")
    for ours, expected in zip(compiled(x, target), both(x, target)):
        torch.testing.assert_close(ours, expected, rtol=0, atol=0)
    torch.testing.assert_close(layer.loss(x, target), both(x, target)[0], rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("validate_args, most", [(False, 0), (True, 1)])
def test_layer_loss_reads_the_device_at_most_once(validate_args, most):
    tax = Taxonomy.complete((3, 4))
    layer = HierarchicalSoftmax(8, tax, device="cuda")
    x = torch.randn(16, 8, device="cuda")
    target = torch.randint(0, tax.num_leaves, (16,), device="cuda")
    layer.loss(x, target, validate_args=validate_args)  # warm-up: index tensors copied once
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            layer.loss(x, target, validate_args=validate_args)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in record if "synchroniz" in str(w.message)]
    assert len(syncs) <= most, [str(w.message) for w in syncs]


# --------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("parents", "match"),
    [
        ("abc", "sequence of ints"),
        (3, "sequence of ints"),
        ([-1, 0.5], "integers"),
        ([-1, True], "integers"),
        (torch.tensor([-1.0, 0.0]), "1-D integer tensor"),
        (torch.tensor([[-1, 0]]), "1-D integer tensor"),
        ([-1], "at least two nodes"),
        ([0, 0], "exactly one root"),
        ([-1, -1, 0], "exactly one root"),
        ([-1, 5], r"\[0, 2\)"),
        ([-1, -2], r"\[0, 2\)"),
        ([-1, 1], "its own parent"),
        ([-1, 2, 1], "cycle"),
    ],
)
def test_invalid_parents(parents, match):
    with pytest.raises(ValueError, match=match):
        Taxonomy(parents)


@pytest.mark.parametrize("names", [["a", "b"], "abc", ["a", "b", 3]])
def test_invalid_names(names):
    with pytest.raises(ValueError, match="`names`"):
        Taxonomy([-1, 0, 0], names=names)


@pytest.mark.parametrize(
    ("paths", "match"),
    [
        ([], "non-empty sequence"),
        ("ab", "non-empty sequence"),
        ([()], "non-empty sequences"),
        (["ab"], "non-empty sequences"),
        ([("a", 1)], r"names \(str\)"),
        ([("a", "b"), ("a", "b")], "twice"),
        ([("a", "b"), ("a",)], "twice or as a leaf and an inner node"),
        ([("a",), ("a", "b")], "a parent"),
    ],
)
def test_invalid_paths(paths, match):
    with pytest.raises(ValueError, match=match):
        Taxonomy.from_paths(paths)


@pytest.mark.parametrize("tree", [{}, ["a"], {"a": {}}, {"a": []}, {"a": 3}])
def test_invalid_nested(tree):
    with pytest.raises(ValueError, match="`tree`"):
        Taxonomy.from_nested(tree)


@pytest.mark.parametrize("branching", [(), "22", (2, 0), (2, 1.5), (True,), 3])
def test_invalid_branching(branching):
    with pytest.raises(ValueError, match="`branching`"):
        Taxonomy.complete(branching)


@pytest.mark.parametrize("leaf", [-1, 6, 1.0, True])
def test_invalid_leaf_for_path_logits(leaf):
    with pytest.raises(ValueError, match="`leaf`"):
        Taxonomy(IRREGULAR).path_logits(leaf)


def test_invalid_leaf_distance_arguments():
    tax = Taxonomy(IRREGULAR)
    with pytest.raises(ValueError, match="`a`"):
        tax.leaf_distance(torch.tensor([6]), torch.tensor([0]))
    with pytest.raises(ValueError, match="`b`"):
        tax.leaf_distance(torch.tensor([0]), torch.tensor([0.0]))


def test_invalid_logits():
    tax = Taxonomy(IRREGULAR)
    target = torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"`logits` must have shape \(N, 9\)"):
        hierarchical_cross_entropy(torch.zeros(2, 8), target, tax)
    with pytest.raises(ValueError, match=r"`logits` must have shape \(N, 9\)"):
        hierarchical_cross_entropy(torch.zeros(9), target, tax)
    with pytest.raises(ValueError, match="floating-point"):
        hierarchical_cross_entropy(torch.zeros(2, 9, dtype=torch.long), target, tax)
    with pytest.raises(ValueError, match=r"`logits` must have shape \(N, 9\)"):
        leaf_log_probs(torch.zeros(2, 10), tax)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_logits_raise(bad):
    tax = Taxonomy(IRREGULAR)
    logits = torch.zeros(2, 9)
    logits[0, 0] = bad  # logit of node 0, on the path of class 0
    with pytest.raises(ValueError, match="`logits`"):
        hierarchical_cross_entropy(logits, torch.tensor([0, 1]), tax)
    with pytest.raises(ValueError, match="`logits`"):
        leaf_log_probs(logits, tax)


def test_invalid_target():
    tax = Taxonomy(IRREGULAR)
    logits = torch.zeros(2, 9)
    with pytest.raises(ValueError, match=r"`target` must have shape \(2,\)"):
        hierarchical_cross_entropy(logits, torch.tensor([0, 1, 2]), tax)
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        hierarchical_cross_entropy(logits, torch.tensor([0, 6]), tax)
    with pytest.raises(ValueError, match=r"\[0, 6\)"):  # not read as the last leaf
        hierarchical_cross_entropy(logits, torch.tensor([0, -1]), tax)
    with pytest.raises(ValueError, match="integer class indices"):
        hierarchical_cross_entropy(logits, torch.tensor([0.0, 1.0]), tax)
    with pytest.raises(TypeError, match="`target`"):
        hierarchical_cross_entropy(logits, [0, 1], tax)


def test_invalid_reduction_and_taxonomy():
    tax = Taxonomy(IRREGULAR)
    with pytest.raises(ValueError, match="`reduction`"):
        hierarchical_cross_entropy(torch.zeros(2, 9), torch.tensor([0, 1]), tax, reduction="avg")
    with pytest.raises(ValueError, match="`taxonomy`"):
        hierarchical_cross_entropy(torch.zeros(2, 9), torch.tensor([0, 1]), IRREGULAR)
    with pytest.raises(ValueError, match="`taxonomy`"):
        leaf_log_probs(torch.zeros(2, 9), None)
    with pytest.raises(ValueError, match="`reduction`"):
        HierarchicalCrossEntropyLoss(tax, reduction="avg")
    with pytest.raises(ValueError, match="`taxonomy`"):
        HierarchicalCrossEntropyLoss(IRREGULAR)


def test_invalid_layer_arguments():
    tax = Taxonomy(IRREGULAR)
    with pytest.raises(ValueError, match="`in_features`"):
        HierarchicalSoftmax(0, tax)
    with pytest.raises(ValueError, match="`taxonomy`"):
        HierarchicalSoftmax(4, IRREGULAR)
    layer = HierarchicalSoftmax(4, tax)
    with pytest.raises(ValueError, match=r"`input` must have shape \(N, 4\)"):
        layer(torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"`target` must have shape \(3,\)"):
        layer.loss(torch.zeros(3, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        layer.loss(torch.zeros(3, 4), torch.tensor([0, 1, 9]))
    with pytest.raises(ValueError, match="`reduction`"):
        layer.loss(torch.zeros(3, 4), torch.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="`input`"):
        layer.loss(torch.full((3, 4), math.nan), torch.tensor([0, 1, 2]))
    with torch.no_grad():
        layer.weight[0, 0] = math.inf
    with pytest.raises(ValueError, match="`weight`"):
        layer.loss(torch.ones(3, 4), torch.tensor([0, 1, 2]))


def test_index_tensors_are_cached_per_device():
    tax = Taxonomy(IRREGULAR)
    assert tax._indices(torch.device("cpu")) is tax._indices("cpu")

"""Tests for xenthelpers.data.taxonomy: Gaussian classes generated down a tree."""

from __future__ import annotations

import math

import pytest
import torch

from xenthelpers.data.gaussian_classes import GaussianClasses
from xenthelpers.data.taxonomy import TaxonomyClasses, make_taxonomy_classes
from xenthelpers.losses.hierarchical import Taxonomy


def _make(branching=(3, 3, 3), seed=0, **options):
    generator = torch.Generator().manual_seed(seed)
    return make_taxonomy_classes(Taxonomy.complete(branching), generator=generator, **options)


def test_is_a_gaussian_classes_over_the_leaves():
    classes = _make(dim=5, dtype=torch.float64)
    tax = classes.taxonomy
    assert isinstance(classes, GaussianClasses)
    assert classes.num_classes == tax.num_leaves == 27 and classes.dim == 5
    assert classes.node_means.shape == (tax.num_nodes, 5)
    assert torch.equal(classes.means, classes.node_means[tax.leaves])
    assert bool((classes.node_means[0] == 0).all())  # the root
    x, y = classes.sample(100, generator=torch.Generator().manual_seed(1))
    assert x.shape == (100, 5) and x.dtype == torch.float64 and y.max() < 27
    torch.testing.assert_close(classes.posterior(x).sum(1), torch.ones(100, dtype=torch.float64))


def test_same_generator_seed_same_means_other_seed_other_means():
    assert torch.equal(_make(seed=3).node_means, _make(seed=3).node_means)
    assert not torch.equal(_make(seed=3).node_means, _make(seed=4).node_means)


def test_offsets_shrink_by_the_decay_per_level():
    # Many children per level and a high dimension make the average offset length
    # close to its target spread * decay ** (t - 1): the relative sd of one length is
    # about 1 / sqrt(2 d) = 0.03 and we average over >= 8 of them.
    classes = _make(branching=(8, 8, 8), dim=256, spread=5.0, decay=0.4, dtype=torch.float64)
    tax = classes.taxonomy
    nodes = tax.logit_nodes
    offsets = classes.node_means[nodes] - classes.node_means[tax.parents[nodes]]
    depth = tax.node_depth[nodes]
    for t in (1, 2, 3):
        mean_length = offsets[depth == t].norm(dim=1).mean().item()
        assert math.isclose(mean_length, 5.0 * 0.4 ** (t - 1), rel_tol=0.05), (t, mean_length)


def test_siblings_are_closer_than_cousins():
    classes = _make(branching=(4, 4, 4), dim=64, spread=4.0, decay=0.5)
    tax = classes.taxonomy
    leaves = torch.arange(tax.num_leaves)
    tree = tax.leaf_distance(leaves[:, None], leaves[None, :])
    euclid = torch.cdist(classes.means, classes.means)
    means = [euclid[tree == d].mean().item() for d in (2, 4, 6)]
    assert means[0] < means[1] < means[2]


def test_bayes_errors_mostly_land_on_siblings():
    classes = _make(branching=(4, 4, 4), dim=16, spread=6.0, decay=0.5)
    x, y = classes.sample(4000, generator=torch.Generator().manual_seed(2))
    predicted = classes.posterior(x).argmax(1)
    distance = classes.taxonomy.leaf_distance(predicted, y)
    wrong = distance[predicted != y]
    assert (wrong == 2).double().mean() > 0.5


def test_irregular_tree_and_dtype():
    tax = Taxonomy.from_nested({"a": ["x", "y"], "b": None})
    classes = make_taxonomy_classes(tax, dim=3, dtype=torch.float64)
    assert classes.means.dtype == torch.float64 and classes.num_classes == 3
    assert repr(classes) == "TaxonomyClasses(num_classes=3, dim=3, scale=1.0, max_depth=2)"


def test_scale_is_the_noise_level():
    classes = _make(dim=4, scale=0.25, dtype=torch.float64)
    x, y = classes.sample(20_000, generator=torch.Generator().manual_seed(0))
    noise_sd = (x - classes.means[y]).std().item()
    assert math.isclose(noise_sd, 0.25, rel_tol=0.02)  # sd of the estimate ~ 0.25 / sqrt(1.6e5)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"dim": 0}, "`dim`"),
        ({"spread": 0.0}, "`spread`"),
        ({"decay": -1.0}, "`decay`"),
        ({"scale": math.inf}, "`scale`"),
        ({"dtype": torch.int64}, "`dtype`"),
        ({"generator": 3}, "`generator`"),
    ],
)
def test_invalid_options(options, match):
    with pytest.raises(ValueError, match=match):
        make_taxonomy_classes(Taxonomy.complete((2,)), **options)


def test_invalid_taxonomy():
    with pytest.raises(ValueError, match="`taxonomy`"):
        make_taxonomy_classes([-1, 0, 0])
    with pytest.raises(ValueError, match="`taxonomy`"):
        TaxonomyClasses([-1, 0, 0], torch.zeros(3, 2))


@pytest.mark.parametrize(
    ("node_means", "match"),
    [
        (torch.zeros(2, 2), r"shape \(3, d\)"),
        (torch.zeros(3), r"shape \(3, d\)"),
        (torch.zeros(3, 2, dtype=torch.long), "floating-point"),
        (torch.full((3, 2), math.nan), "NaN"),
    ],
)
def test_invalid_node_means(node_means, match):
    with pytest.raises(ValueError, match=match):
        TaxonomyClasses(Taxonomy([-1, 0, 0]), node_means)

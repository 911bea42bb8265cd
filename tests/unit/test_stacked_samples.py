"""sample_per_seed: one data set per seed, stacked along a seed dimension."""

from __future__ import annotations

from typing import NamedTuple

import pytest
import torch

from xenthelpers import sample_per_seed
from xenthelpers.data import (
    RarePositives,
    RarePositivesSample,
    make_barcode_regions,
    make_gaussian_classes,
    make_mixed_table,
    make_protein_localisation,
    make_taxonomy_classes,
)
from xenthelpers.losses import Taxonomy


def labelled(generator):
    x = torch.randn(5, 3, generator=generator)
    return x, (x.sum(1) > 0).long()


class Pair(NamedTuple):
    inputs: torch.Tensor
    labels: torch.Tensor


def test_each_slice_is_the_draw_of_its_own_seed():
    x, y = sample_per_seed(labelled, [3, 7, 11])
    assert x.shape == (5, 3, 3) and y.shape == (5, 3)
    for i, seed in enumerate([3, 7, 11]):
        alone = labelled(torch.Generator().manual_seed(seed))
        assert torch.equal(x[:, i], alone[0]) and torch.equal(y[:, i], alone[1])


def test_a_seed_draws_the_same_whatever_the_other_seeds():
    few, _ = sample_per_seed(labelled, [0, 1])
    many, _ = sample_per_seed(labelled, [5, 0, 1])
    assert torch.equal(few, many[:, 1:])


def test_dim_places_the_seed_dimension():
    table = sample_per_seed(lambda g: torch.randn(6, 2, generator=g), range(3), dim=2)
    assert table.shape == (6, 2, 3)
    assert sample_per_seed(lambda g: torch.randn(6, 2, generator=g), range(3), dim=0).shape == (3, 6, 2)
    assert sample_per_seed(lambda g: torch.randn(6, 2, generator=g), range(3), dim=-1).shape == (6, 2, 3)


def test_named_tuples_keep_their_type_and_plain_tuples_stay_tuples():
    pair = sample_per_seed(lambda g: Pair(*labelled(g)), range(2))
    assert isinstance(pair, Pair) and pair.inputs.shape == (5, 2, 3)
    assert type(sample_per_seed(labelled, range(2))) is tuple


def test_device_moves_the_result():
    x, _ = sample_per_seed(labelled, range(2), device="meta")
    assert x.device.type == "meta"


# --- data sets with a sample(num_samples, *, generator) method -----------------------------


def _data_sets():
    """Every data set of xenthelpers.data whose sample takes a size and a generator."""
    taxonomy = Taxonomy.complete((2, 2))
    return [
        make_gaussian_classes(3, dim=2),
        make_taxonomy_classes(taxonomy, dim=3, generator=torch.Generator().manual_seed(0)),
        RarePositives(positive_rate=0.2),
        make_protein_localisation(),
        make_barcode_regions(3, length=20, generator=torch.Generator().manual_seed(0)),
        make_mixed_table(1, 1, 1, seed=0),
    ]


@pytest.mark.parametrize("source", _data_sets(), ids=lambda s: type(s).__name__)
def test_a_data_set_is_sampled_with_each_seed_and_num_samples(source):
    stacked = sample_per_seed(source, [4, 9], num_samples=6)
    for i, seed in enumerate([4, 9]):
        alone = source.sample(6, generator=torch.Generator().manual_seed(seed))
        for field, single in zip(stacked, alone, strict=True):
            assert torch.equal(field[:, i], single)


def test_a_data_set_gives_what_the_equivalent_function_gives():
    classes = make_gaussian_classes(4, dim=3)
    direct = sample_per_seed(classes, range(5), num_samples=20, device="cpu")
    by_hand = sample_per_seed(lambda g: classes.sample(20, generator=g), range(5), device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(direct, by_hand, strict=True))


def test_a_data_set_keeps_its_named_tuple():
    sample = sample_per_seed(RarePositives(positive_rate=0.2), range(3), num_samples=8)
    assert isinstance(sample, RarePositivesSample)
    assert sample.inputs.shape == (8, 3, 2) and sample.component.shape == (8, 3)


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"source": "not callable"}, "source"),
        ({"source": 3}, "source"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [0, 1.5]}, "seeds"),
        ({"seeds": [True]}, "seeds"),
        ({"source": lambda g: [torch.zeros(2)]}, "tuple of tensors"),
        ({"source": lambda g: (torch.zeros(2), 3)}, "tuple of tensors"),
        ({"source": lambda g: torch.zeros(g.initial_seed() + 1)}, "same shape"),
        ({"dim": 3}, "dim"),
        ({"dim": -4}, "dim"),
        ({"num_samples": 10}, "num_samples"),
    ],
)
def test_rejects_bad_input(kwargs, match):
    arguments = {"source": labelled, "seeds": range(3), **kwargs}
    with pytest.raises(ValueError, match=match):
        sample_per_seed(arguments.pop("source"), arguments.pop("seeds"), **arguments)


@pytest.mark.parametrize("num_samples", [None, 0, 2.5, True])
def test_a_data_set_needs_a_positive_integer_num_samples(num_samples):
    with pytest.raises(ValueError, match="num_samples"):
        sample_per_seed(make_gaussian_classes(2), range(2), num_samples=num_samples)

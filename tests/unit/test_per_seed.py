"""sample_per_seed: one data set per seed, stacked along a seed dimension."""

from __future__ import annotations

from typing import NamedTuple

import pytest
import torch

from xenthelpers import sample_per_seed
from xenthelpers.data import make_gaussian_classes


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


def test_works_with_the_library_generators():
    classes = make_gaussian_classes(3, dim=2)
    x, y = sample_per_seed(lambda g: classes.sample(10, generator=g), range(4))
    assert x.shape == (10, 4, 2) and y.shape == (10, 4)


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


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"draw": "not callable"}, "draw"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [0, 1.5]}, "seeds"),
        ({"seeds": [True]}, "seeds"),
        ({"draw": lambda g: [torch.zeros(2)]}, "tuple of tensors"),
        ({"draw": lambda g: (torch.zeros(2), 3)}, "tuple of tensors"),
        ({"draw": lambda g: torch.zeros(g.initial_seed() + 1)}, "same shape"),
        ({"dim": 3}, "dim"),
        ({"dim": -4}, "dim"),
    ],
)
def test_rejects_bad_input(kwargs, match):
    arguments = {"draw": labelled, "seeds": range(3), **kwargs}
    with pytest.raises(ValueError, match=match):
        sample_per_seed(arguments.pop("draw"), arguments.pop("seeds"), **arguments)

"""Tests for xenthelpers.data.digits."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from tests.unit.devices import DEVICES
from xenthelpers import sample_per_seed
from xenthelpers.data import DigitsSplit, load_digits_split

DIGITS = load_digits()


def _split(seed: int = 0, **options) -> DigitsSplit:
    return load_digits_split(generator=torch.Generator().manual_seed(seed), **options)


def _raw_parts(split: DigitsSplit) -> list[np.ndarray]:
    """Each part's images on the original 0..16 scale, recovered column by column.

    Standardisation maps a column's raw levels one-to-one and in order onto its
    standardised levels (equal raw values give bit-equal results), so if the parts
    hold every image exactly once, the sorted distinct values of a column match the
    sorted distinct raw values of that column in scikit-learn's data.
    """
    x_all = np.concatenate([x.double().numpy() for x in split[::2]])
    raw = np.empty_like(x_all)
    for j in range(x_all.shape[1]):
        levels, raw_levels = np.unique(x_all[:, j]), np.unique(DIGITS.data[:, j])
        assert len(levels) == len(raw_levels), f"column {j} has lost or gained levels"
        raw[:, j] = raw_levels[np.searchsorted(levels, x_all[:, j])]
    bounds = np.cumsum([0] + [len(y) for y in split[1::2]])
    return [raw[a:b] for a, b in pairwise(bounds)]


def _sorted_rows(pixels: np.ndarray, labels: np.ndarray) -> np.ndarray:
    table = np.column_stack([pixels, labels])
    return table[np.lexsort(table.T[::-1])]


# ------------------------------------------------------------------ sizes and classes


def test_the_documented_sizes_and_class_counts():
    split = _split()
    counts = np.bincount(DIGITS.target)
    test = np.floor(0.3 * counts + 0.5).astype(int)
    valid = np.floor(0.2 * counts + 0.5).astype(int)
    assert torch.bincount(split.y_test).tolist() == test.tolist()
    assert torch.bincount(split.y_valid).tolist() == valid.tolist()
    assert torch.bincount(split.y_train).tolist() == (counts - test - valid).tolist()
    assert (len(split.y_train), len(split.y_valid), len(split.y_test)) == (899, 359, 539)
    assert split.x_train.shape == (899, 64) and split.y_train.dtype == torch.long
    assert split.x_train.dtype == torch.get_default_dtype()


def test_sizes_do_not_depend_on_the_seed():
    shapes = {tuple(tuple(t.shape) for t in _split(seed)) for seed in range(4)}
    assert len(shapes) == 1


def test_an_empty_validation_part():
    split = _split(valid_fraction=0.0, test_fraction=0.5)
    assert split.x_valid.shape == (0, 64) and split.y_valid.shape == (0,)
    assert len(split.y_train) + len(split.y_test) == 1797


# ------------------------------------------------------------------ content


@pytest.mark.parametrize("seed", [0, 3])
def test_the_parts_hold_every_image_once_with_its_label(seed):
    split = _split(seed, dtype=torch.float64)
    raw = np.concatenate(_raw_parts(split))
    labels = torch.cat(list(split[1::2])).numpy()
    np.testing.assert_array_equal(
        _sorted_rows(raw, labels), _sorted_rows(DIGITS.data, DIGITS.target)
    )


def test_standardised_with_the_training_statistics_only():
    """An independent NumPy standardisation of the recovered images."""
    split = _split(seed=1, dtype=torch.float64)
    raw = _raw_parts(split)
    mean, sd = raw[0].mean(0), raw[0].std(0)
    assert (sd == 0).any(), "the digits have blank border pixels: the sd = 0 case is exercised"
    sd = np.where(sd > 0, sd, 1.0)
    for x, part in zip(split[::2], raw, strict=True):
        np.testing.assert_allclose(x.numpy(), (part - mean) / sd, rtol=1e-12, atol=1e-12)


def test_the_parts_are_shuffled_not_sorted_by_class():
    y = _split().y_train
    assert (y.diff() != 0).sum() > 100  # sorted by class would change label 9 times


def test_float32_is_the_rounded_float64():
    single, double = _split(dtype=torch.float32), _split(dtype=torch.float64)
    for a, b in zip(single, double, strict=True):
        torch.testing.assert_close(a, b.to(a.dtype), rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_device(device):
    split = _split(device=device)
    assert all(t.device.type == torch.device(device).type for t in split)


# ------------------------------------------------------------------ seeds


def test_the_same_seed_gives_the_same_split_and_another_seed_another():
    a, b, c = _split(5), _split(5), _split(6)
    assert all(torch.equal(s, t) for s, t in zip(a, b, strict=True))
    assert not torch.equal(a.y_train, c.y_train)


def test_one_split_per_seed_stacks_for_an_ensemble():
    parts = sample_per_seed(lambda g: load_digits_split(generator=g), [0, 7])
    assert isinstance(parts, DigitsSplit)
    assert parts.x_train.shape == (899, 2, 64) and parts.y_test.shape == (539, 2)
    torch.testing.assert_close(parts.x_test[:, 1], _split(7).x_test, rtol=0, atol=0)


# ------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    "options, name",
    [
        ({"valid_fraction": -0.1}, "valid_fraction"),
        ({"valid_fraction": 1.0}, "valid_fraction"),
        ({"test_fraction": "0.3"}, "test_fraction"),
        ({"test_fraction": True}, "test_fraction"),
        ({"test_fraction": float("nan")}, "test_fraction"),
        ({"valid_fraction": 0.5, "test_fraction": 0.5}, "valid_fraction"),
        ({"dtype": torch.long}, "dtype"),
    ],
)
def test_bad_options_are_named(options, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        _split(**options)


def test_a_generator_is_required():
    with pytest.raises(ValueError, match="`generator`"):
        load_digits_split(generator=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        load_digits_split()  # type: ignore[call-arg]


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch):
    import sys

    from xenthelpers.data import digits

    digits._digits.cache_clear()
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    try:
        with pytest.raises(ImportError, match=r"xenthelpers\[book\]"):
            _split()
    finally:
        digits._digits.cache_clear()

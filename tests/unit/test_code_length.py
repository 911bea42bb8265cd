"""Tests for xenthelpers.metrics.code_length: labels through constriction's range coder."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.unit.devices import DEVICES
from xenthelpers.metrics import (
    code_length_bits,
    coding_overhead_bits,
    decode_labels,
    encode_labels,
    quantise_probs,
)

constriction = pytest.importorskip("constriction")

UNITS = 2**24


def _model(n=2000, k=10, seed=0, spread=3.0):
    """Rows from random logits and labels drawn from them, float64."""
    gen = torch.Generator().manual_seed(seed)
    probs = torch.softmax(spread * torch.randn(n, k, generator=gen, dtype=torch.float64), dim=1)
    labels = torch.multinomial(probs, 1, generator=gen).squeeze(1)
    return probs, labels


def _decoder_units(row: np.ndarray) -> np.ndarray:
    """The integer widths m_k that constriction's own decoder uses for one row.

    A fresh range decoder has range 2**64 - 1, so the first symbol is read at quantile
    point // (2**40 - 1). Placing the point at u * (2**40 - 1) makes the decoder look
    up quantile u; a binary search over u then finds where each class starts.
    """
    family = constriction.stream.model.Categorical(perfect=False)
    scale = (2**64 - 1) >> 24

    def symbol_at(u: int) -> int:
        point = u * scale
        words = np.array([point >> 32, point & 0xFFFFFFFF], dtype=np.uint32)
        decoder = constriction.stream.queue.RangeDecoder(words)
        return int(decoder.decode(family, row[None, :])[0])

    starts = [0]
    for k in range(1, len(row)):
        low, high = 0, UNITS - 1
        while low < high:
            mid = (low + high) // 2
            low, high = (low, mid) if symbol_at(mid) >= k else (mid + 1, high)
        starts.append(low)
    return np.diff(np.array([*starts, UNITS]))


# ---------------------------------------------------- the file on disk


@pytest.mark.parametrize("seed, spread", [(0, 1.0), (1, 3.0), (2, 10.0), (3, 40.0)])
def test_a_file_on_disk_decodes_exactly_and_has_the_quantised_code_length(tmp_path, seed, spread):
    probs, labels = _model(seed=seed, spread=spread)
    path = tmp_path / "labels.bin"
    path.write_bytes(encode_labels(probs, labels))

    data = path.read_bytes()
    assert torch.equal(decode_labels(data, probs), labels)
    bits = 8 * path.stat().st_size
    quantised = code_length_bits(probs, labels, quantised=True).item()
    # L~ <= B < L~ + 64 + N * delta (module docstring): two end words, and at most
    # delta = -log2(1 - 2**-8) bits per label lost to integer division.
    assert quantised <= bits < quantised + coding_overhead_bits(len(labels))


def test_file_length_is_the_cross_entropy_in_bits_when_no_probability_is_extreme():
    probs, labels = _model(spread=1.0)  # every probability far above 2**-24
    assert probs.min() > 2**-16
    bits = 8 * len(encode_labels(probs, labels))
    ideal = (F.cross_entropy(probs.log(), labels, reduction="sum") / math.log(2)).item()
    # q~ >= (1 - K 2**-24) q, and q~ <= q + 2**-23 costs at most log2(1 + 2**-7) per label
    per_label = math.log2(1 + 2**-23 / 2**-16)
    assert ideal - len(labels) * per_label <= bits < ideal + coding_overhead_bits(len(labels)) + 1


def test_confidently_wrong_labels_cost_24_bits_in_the_file_but_more_in_cross_entropy():
    probs = torch.tensor([[1 - 1e-30, 1e-30]] * 50 + [[0.0, 1.0]] * 50, dtype=torch.float64)
    labels = torch.tensor([1] * 50 + [0] * 50)
    costs = code_length_bits(probs, labels, quantised=True, reduction="none")
    assert torch.equal(costs, torch.full((100,), 24.0, dtype=torch.float64))
    ideal = code_length_bits(probs, labels, reduction="none")
    assert ideal[:50].min() > 99 and torch.isinf(ideal[50:]).all()
    data = encode_labels(probs, labels)
    assert torch.equal(decode_labels(data, probs), labels)
    assert 2400 <= 8 * len(data) < 2400 + coding_overhead_bits(100)


def test_decoding_a_prefix_gives_the_first_labels():
    probs, labels = _model(n=500)
    data = encode_labels(probs, labels)
    for n in (1, 17, 250, 500):
        assert torch.equal(decode_labels(data, probs[:n]), labels[:n])


def test_different_rows_decode_to_different_labels():
    probs, labels = _model(n=500)
    other, _ = _model(n=500, seed=9)
    assert not torch.equal(decode_labels(encode_labels(probs, labels), other), labels)


# ---------------------------------------------------- the quantised model


@pytest.mark.parametrize("seed", range(6))
def test_quantised_probs_are_the_intervals_of_constrictions_decoder(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 12))
    row = rng.dirichlet(np.full(k, 0.3))
    if seed % 2:
        row = np.exp(30 * rng.standard_normal(k))  # many entries far below 2**-24
        row /= row.sum()
    if seed % 3 == 0:
        row[rng.integers(k)] = 0.0
    expected = _decoder_units(row)
    units = quantise_probs(torch.from_numpy(row)[None, :]) * UNITS
    assert units.dtype == torch.float64
    assert np.array_equal(units[0].numpy().astype(np.int64), expected)


@pytest.mark.parametrize("device", DEVICES)
def test_quantised_probs_are_floored_and_close_to_the_model(device):
    probs, _ = _model(n=3000, k=10, spread=8.0)
    probs = probs.to(device)
    q = quantise_probs(probs)
    assert q.device == probs.device
    units = q * UNITS
    assert torch.equal(units, units.round())
    assert torch.equal(units.sum(dim=1), torch.full((3000,), float(UNITS), device=device))
    assert q.min() >= 2**-24
    # q~ >= (1 - K 2**-24) q, up to float64 rounding of the partial sums (far below a unit)
    assert (q - (1 - 10 / UNITS) * probs).min() > -1e-12
    assert (q - probs).max() < 2 * 2**-24


def test_unnormalised_rows_are_rescaled_like_constriction():
    probs, _ = _model(n=20, k=5)
    assert torch.equal(quantise_probs(probs * (1 + 5e-5)), quantise_probs(probs * (1 - 5e-5)))


# ---------------------------------------------------- code lengths


@pytest.mark.parametrize("device", DEVICES)
def test_ideal_code_length_is_cross_entropy_in_bits(device):
    probs, labels = _model(n=300, k=7, seed=4)
    probs, labels = probs.to(device), labels.to(device)
    nats = F.cross_entropy(probs.log(), labels, reduction="none")
    bits = code_length_bits(probs, labels, reduction="none")
    assert bits.device == probs.device
    torch.testing.assert_close(bits, nats / math.log(2), rtol=1e-12, atol=0)
    torch.testing.assert_close(
        code_length_bits(probs, labels, reduction="mean"), bits.mean(), rtol=1e-12, atol=0
    )


def test_float32_rows_code_like_their_float64_copy():
    probs, labels = _model(n=300)
    single = probs.float()
    data = encode_labels(single, labels)
    assert data == encode_labels(single.double(), labels)
    assert torch.equal(decode_labels(data, single), labels)


def test_overhead_bound_by_hand():
    assert coding_overhead_bits(0) == 64
    delta = -math.log2(1 - 1 / 256)
    assert coding_overhead_bits(1000) == pytest.approx(64 + 1000 * delta, rel=1e-15)


# ---------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "probs, target, match",
    [
        (torch.tensor([[0.5, 0.6]]), torch.tensor([0]), "`probs` must sum to 1"),
        (torch.tensor([[-0.5, 1.5]]), torch.tensor([0]), "`probs` must be non-negative"),
        (torch.tensor([[1.0]]), torch.tensor([0]), "`probs` must have between 2"),
        (torch.tensor([0.5, 0.5]), torch.tensor([0]), r"`probs` must have shape \(N, K\)"),
        (torch.tensor([[0.5, 0.5]]), torch.tensor([2]), r"`target` must hold class indices"),
        (torch.tensor([[0.5, 0.5]]), torch.tensor([0, 1]), r"`target` must have shape \(1,\)"),
        (torch.tensor([[0.5, 0.5]]), torch.tensor([0.0]), "`target` must hold integer"),
    ],
)
def test_bad_inputs_are_named(probs, target, match):
    for call in (
        lambda: encode_labels(probs, target),
        lambda: code_length_bits(probs, target),
    ):
        with pytest.raises(ValueError, match=match):
            call()


def test_bad_options_are_named():
    probs, labels = _model(n=4)
    with pytest.raises(ValueError, match="`quantised` must be True or False"):
        code_length_bits(probs, labels, quantised=1)
    with pytest.raises(ValueError, match="`reduction` must be one of"):
        code_length_bits(probs, labels, reduction="batchmean")
    with pytest.raises(ValueError, match="`num_labels` must be an integer"):
        coding_overhead_bits(2.5)
    with pytest.raises(ValueError, match="`num_labels` must lie in"):
        coding_overhead_bits(-1)
    with pytest.raises(ValueError, match="`data` must be bytes"):
        decode_labels([1, 2, 3, 4], probs)
    with pytest.raises(ValueError, match="`data` must hold whole 4-byte words"):
        decode_labels(b"abcde", probs)
    with pytest.raises(ValueError, match="`probs` must sum to 1"):
        decode_labels(b"abcd", 2 * probs)


def test_missing_constriction_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "constriction", None)
    probs, labels = _model(n=4)
    with pytest.raises(ImportError, match=r"xenthelpers\[book\]"):
        encode_labels(probs, labels)
    with pytest.raises(ImportError, match="pip install constriction"):
        decode_labels(b"", probs)
    # the rest of the module needs no constriction
    assert code_length_bits(probs, labels, quantised=True) > 0

"""Tests for xenthelpers.data.barcodes."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Categorical

from tests.unit.devices import DEVICES
from xenthelpers.data.barcodes import (
    BASES,
    BarcodeRegions,
    decode_barcodes,
    encode_barcodes,
    kmer_counts,
    kmer_names,
    make_barcode_regions,
)

FEW = settings(max_examples=40, deadline=None)
DNA = st.text(alphabet=BASES, min_size=1, max_size=40)


def _regions(num_regions=3, length=30, divergence=0.8, seed=0, priors=None):
    return make_barcode_regions(num_regions, length=length, divergence=divergence,
                                priors=priors, generator=torch.Generator().manual_seed(seed))


def _counter_kmers(sequence: str, k: int) -> list[int]:
    """k-mer counts with collections.Counter, independently of the function under test."""
    found = Counter(sequence[i : i + k] for i in range(len(sequence) - k + 1))
    return [found[name] for name in kmer_names(k)]


# ----------------------------------------------------------------- kmer_counts


@FEW
@given(sequences=st.lists(DNA, min_size=1, max_size=4), k=st.integers(1, 4))
def test_kmer_counts_match_a_counter(sequences, k):
    length = min(len(s) for s in sequences)
    sequences = [s[:length] for s in sequences]
    if k > length:
        return
    counts = kmer_counts(encode_barcodes(sequences), k, dtype=torch.float64)
    expected = torch.tensor([_counter_kmers(s, k) for s in sequences], dtype=torch.float64)
    assert torch.equal(counts, expected)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_every_row_sums_to_the_number_of_windows(k):
    barcodes, _ = _regions(length=25).sample(8, generator=torch.Generator().manual_seed(0))
    counts = kmer_counts(barcodes, k)
    assert counts.shape == (8, 4**k)
    assert bool((counts.sum(1) == 25 - k + 1).all())


def test_one_mers_are_base_counts():
    barcodes, _ = _regions(length=30).sample(5, generator=torch.Generator().manual_seed(1))
    expected = torch.stack([torch.bincount(row, minlength=4) for row in barcodes]).float()
    assert torch.equal(kmer_counts(barcodes, 1, dtype=torch.float32), expected)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_summing_out_the_last_base_gives_shorter_kmers_except_the_final_window(k):
    barcodes, _ = _regions(length=20).sample(6, generator=torch.Generator().manual_seed(2))
    longer = kmer_counts(barcodes, k, dtype=torch.float64).reshape(6, -1, 4).sum(2)
    shorter = kmer_counts(barcodes, k - 1, dtype=torch.float64)
    final = kmer_counts(barcodes[:, -(k - 1):], k - 1, dtype=torch.float64)
    assert torch.equal(longer, shorter - final)


def test_column_order_is_kmer_names():
    for index, name in enumerate(kmer_names(3)):
        counts = kmer_counts(encode_barcodes([name]), 3)
        assert counts[0].nonzero().flatten().tolist() == [index]


def test_kmer_counts_use_the_default_dtype_unless_told():
    barcodes = encode_barcodes(["ACGTAC"])
    assert kmer_counts(barcodes, 2).dtype == torch.get_default_dtype()
    assert kmer_counts(barcodes, 2, dtype=torch.float64).dtype == torch.float64


@pytest.mark.parametrize("device", DEVICES)
def test_kmer_counts_stay_on_the_device_of_the_barcodes(device):
    barcodes, _ = _regions(length=12).sample(4, generator=torch.Generator().manual_seed(3))
    counts = kmer_counts(barcodes.to(device), 2)
    assert counts.device.type == device
    assert torch.equal(counts.cpu(), kmer_counts(barcodes, 2))


def test_kmer_names_are_lexicographic_and_complete():
    names = kmer_names(3)
    assert len(names) == 64 and len(set(names)) == 64
    assert names == sorted(names, key=lambda n: [BASES.index(b) for b in n])
    assert names[0] == "AAA" and names[-1] == "TTT"


# ----------------------------------------------------------------- encode and decode


@FEW
@given(sequences=st.lists(st.text(alphabet=BASES, min_size=5, max_size=5), min_size=1,
                          max_size=5))
def test_encode_decode_round_trip(sequences):
    assert decode_barcodes(encode_barcodes(sequences)) == sequences


# ----------------------------------------------------------------- the regions and their posterior


def test_bayes_logits_are_affine_in_two_mer_counts():
    regions = _regions(num_regions=4, length=50, priors=torch.tensor(
        [0.1, 0.2, 0.3, 0.4], dtype=torch.float64))
    barcodes, _ = regions.sample(100, generator=torch.Generator().manual_seed(0))
    counts = kmer_counts(barcodes, 2, dtype=torch.float64)
    weights = regions.transitions.log().reshape(4, 16).T  # (16, R)
    affine = math.log(0.25) + counts @ weights + regions.priors.log()
    torch.testing.assert_close(regions.posterior_logits(barcodes), affine, rtol=1e-12, atol=1e-10)


def test_log_likelihood_matches_categorical_distributions():
    regions = _regions(num_regions=2, length=10)
    barcodes, _ = regions.sample(7, generator=torch.Generator().manual_seed(5))
    for r in range(2):
        expected = Categorical(probs=torch.full((4,), 0.25, dtype=torch.float64)).log_prob(
            barcodes[:, 0])
        for t in range(1, 10):
            rows = regions.transitions[r][barcodes[:, t - 1]]
            expected = expected + Categorical(probs=rows).log_prob(barcodes[:, t])
        torch.testing.assert_close(regions.log_likelihood(barcodes)[:, r], expected)


def test_posterior_is_bayes_rule():
    priors = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    regions = _regions(priors=priors)
    barcodes, _ = regions.sample(20, generator=torch.Generator().manual_seed(0))
    joint = regions.log_likelihood(barcodes).exp() * priors
    torch.testing.assert_close(regions.posterior(barcodes), joint / joint.sum(1, keepdim=True))


def test_without_divergence_the_posterior_is_the_prior():
    priors = torch.tensor([0.6, 0.4], dtype=torch.float64)
    regions = make_barcode_regions(2, length=20, divergence=0.0, priors=priors,
                                   generator=torch.Generator().manual_seed(0))
    barcodes, _ = regions.sample(10, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(regions.posterior(barcodes), priors.expand(10, 2))


def test_larger_divergence_and_longer_barcodes_are_easier():
    def bayes_accuracy(length, divergence):
        regions = _regions(num_regions=4, length=length, divergence=divergence, seed=1)
        barcodes, region = regions.sample(3000, generator=torch.Generator().manual_seed(2))
        return (regions.posterior(barcodes).argmax(1) == region).double().mean().item()

    assert bayes_accuracy(60, 0.2) < bayes_accuracy(60, 0.6) < bayes_accuracy(240, 0.6)


def test_the_posterior_is_calibrated_on_its_own_samples():
    regions = _regions(num_regions=3, length=40, divergence=0.5)
    barcodes, region = regions.sample(20000, generator=torch.Generator().manual_seed(0))
    posterior = regions.posterior(barcodes)
    one_hot = torch.nn.functional.one_hot(region, 3).double()
    # E[1{y = r} - p(r | x)] = 0 for every region; 5 standard errors of a mean.
    gap = (one_hot - posterior).mean(0)
    bound = 5 * (one_hot - posterior).std(0) / math.sqrt(20000)
    assert bool((gap.abs() < bound).all())


# ----------------------------------------------------------------- sampling


def test_sample_is_reproducible_and_labels_follow_the_priors():
    priors = torch.tensor([0.7, 0.2, 0.1], dtype=torch.float64)
    regions = _regions(priors=priors, length=5)
    first = regions.sample(6000, generator=torch.Generator().manual_seed(9))
    again = regions.sample(6000, generator=torch.Generator().manual_seed(9))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert first[0].shape == (6000, 5) and first[0].dtype == torch.int64
    frequency = torch.bincount(first[1], minlength=3).double() / 6000
    assert bool(((frequency - priors).abs() < 5 * (priors * (1 - priors) / 6000).sqrt()).all())


def test_each_region_writes_with_its_own_transition_matrix():
    regions = _regions(num_regions=2, length=200, divergence=1.0)
    barcodes, region = regions.sample(400, generator=torch.Generator().manual_seed(0))
    for r in range(2):
        pairs = kmer_counts(barcodes[region == r], 2, dtype=torch.float64).sum(0).reshape(4, 4)
        frequencies = pairs / pairs.sum(1, keepdim=True)
        p = regions.transitions[r]
        bound = 5 * (p * (1 - p) / pairs.sum(1, keepdim=True)).sqrt() + 1e-12
        assert bool(((frequencies - p).abs() < bound).all())


def test_first_base_is_uniform_in_every_region():
    regions = _regions(num_regions=2, length=3, divergence=2.0)
    barcodes, region = regions.sample(20000, generator=torch.Generator().manual_seed(0))
    for r in range(2):
        first = barcodes[region == r, 0]
        frequency = torch.bincount(first, minlength=4).double() / len(first)
        assert bool(((frequency - 0.25).abs() < 5 * math.sqrt(0.1875 / len(first))).all())


def test_repr():
    assert repr(_regions(num_regions=3, length=30)) == "BarcodeRegions(num_regions=3, length=30)"


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("barcodes", "message"),
    [
        (torch.tensor([[0, 4]]), r"\[0, 4\)"),
        (torch.tensor([[-1, 0]]), r"\[0, 4\)"),
        (torch.tensor([[0.0, 1.0]]), "integer"),
        (torch.tensor([0, 1, 2]), "shape"),
        (torch.zeros(2, 0, dtype=torch.int64), "shape"),
    ],
)
def test_invalid_barcodes_raise(barcodes, message):
    with pytest.raises(ValueError, match=message) as info:
        kmer_counts(barcodes, 1)
    assert "`barcodes`" in str(info.value)


@pytest.mark.parametrize("k", [0, 6, 2.0, True])
def test_invalid_k_raises(k):
    with pytest.raises(ValueError, match="`k`"):
        kmer_counts(encode_barcodes(["ACGTA"]), k)


def test_k_above_the_cap_raises():
    with pytest.raises(ValueError, match="`k`"):
        kmer_names(13)


def test_invalid_dtype_raises():
    with pytest.raises(ValueError, match="`dtype`"):
        kmer_counts(encode_barcodes(["ACGT"]), 2, dtype=torch.int64)


@pytest.mark.parametrize(
    "sequences", ["ACGT", [], ["ACGT", "ACG"], ["ACGN"], [""], [b"ACGT"]]
)
def test_encode_rejects_bad_sequences(sequences):
    with pytest.raises(ValueError, match="`sequences`"):
        encode_barcodes(sequences)


@pytest.mark.parametrize(
    ("transitions", "message"),
    [
        (torch.full((2, 3, 3), 1 / 3, dtype=torch.float64), "shape"),
        (torch.full((4, 4), 0.25, dtype=torch.float64), "shape"),
        (torch.full((2, 4, 4), 0.3, dtype=torch.float64), "sum to 1"),
        (torch.ones(2, 4, 4, dtype=torch.int64), "floating-point"),
    ],
)
def test_invalid_transitions_raise(transitions, message):
    with pytest.raises(ValueError, match=message) as info:
        BarcodeRegions(transitions, length=10)
    assert "`transitions`" in str(info.value)


def test_reducible_regional_chain_raises():
    transitions = torch.eye(4, dtype=torch.float64).expand(2, 4, 4).clone()
    with pytest.raises(ValueError, match="irreducible"):
        BarcodeRegions(transitions, length=10)


@pytest.mark.parametrize("length", [0, 1, 2.5])
def test_invalid_length_raises(length):
    with pytest.raises(ValueError, match="`length`"):
        BarcodeRegions(torch.full((2, 4, 4), 0.25, dtype=torch.float64), length=length)


@pytest.mark.parametrize(
    ("priors", "message"),
    [
        (torch.tensor([1.0], dtype=torch.float64), "shape"),
        (torch.tensor([0.7, 0.7], dtype=torch.float64), "sum to 1"),
        (torch.tensor([1, 0]), "floating-point"),
    ],
)
def test_invalid_priors_raise(priors, message):
    with pytest.raises(ValueError, match=message) as info:
        BarcodeRegions(torch.full((2, 4, 4), 0.25, dtype=torch.float64), length=5, priors=priors)
    assert "`priors`" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_regions": 1}, "num_regions"),
        ({"num_regions": 3, "divergence": -0.1}, "divergence"),
        ({"num_regions": 3, "length": 1}, "length"),
    ],
)
def test_make_barcode_regions_validates_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        make_barcode_regions(**kwargs)


def test_sample_size_must_be_positive():
    with pytest.raises(ValueError, match="`num_samples`"):
        _regions().sample(0)

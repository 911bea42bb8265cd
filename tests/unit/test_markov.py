"""Tests for xenthelpers.data.markov."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Categorical

from xenthelpers.data.markov import MarkovSource, make_markov_source

FEW = settings(max_examples=30, deadline=None)
TWO_STATE = torch.tensor([[0.9, 0.1], [0.5, 0.5]], dtype=torch.float64)


def _random_chain(num_states: int, seed: int, sharpness: float = 1.5) -> MarkovSource:
    return make_markov_source(num_states, sharpness=sharpness,
                              generator=torch.Generator().manual_seed(seed))


def _numpy_stationary(transition: np.ndarray) -> np.ndarray:
    """The left eigenvector of eigenvalue 1, independently of the class under test."""
    values, vectors = np.linalg.eig(transition.T)
    vector = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    return vector / vector.sum()


# ----------------------------------------------------------------- stationary distribution


def test_two_state_chain_has_closed_form_stationary_distribution_and_entropy_rate():
    a, b = 0.1, 0.5  # P(0 -> 1), P(1 -> 0)
    source = MarkovSource(TWO_STATE)
    expected_pi = torch.tensor([b, a], dtype=torch.float64) / (a + b)
    torch.testing.assert_close(source.stationary_distribution(), expected_pi, rtol=0, atol=1e-15)

    def h(p):
        return -p * math.log(p) - (1 - p) * math.log(1 - p)

    expected_rate = (b * h(a) + a * h(b)) / (a + b)
    assert source.entropy_rate() == pytest.approx(expected_rate, rel=1e-14)


@FEW
@given(num_states=st.integers(2, 12), seed=st.integers(0, 2**16),
       sharpness=st.floats(0.0, 4.0))
def test_stationary_distribution_is_invariant_and_matches_numpy_eigenvector(
    num_states, seed, sharpness
):
    source = _random_chain(num_states, seed, sharpness)
    pi = source.stationary_distribution()
    assert pi.dtype == torch.float64 and pi.shape == (num_states,)
    assert bool((pi > 0).all())
    torch.testing.assert_close(pi.sum(), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(pi @ source.transition, pi, rtol=0, atol=1e-12)
    reference = _numpy_stationary(source.transition.numpy())
    np.testing.assert_allclose(pi.numpy(), reference, rtol=0, atol=1e-10)


def test_stationary_distribution_returns_a_copy():
    source = MarkovSource(TWO_STATE)
    source.stationary_distribution().zero_()
    assert source.stationary_distribution().sum().item() == pytest.approx(1.0)


# ----------------------------------------------------------------- entropy rate


@pytest.mark.parametrize("num_states", [2, 5, 30])
def test_uniform_rows_have_entropy_rate_log_v(num_states):
    transition = torch.full((num_states, num_states), 1.0 / num_states, dtype=torch.float64)
    assert MarkovSource(transition).entropy_rate() == pytest.approx(math.log(num_states),
                                                                     rel=1e-14)


def test_chain_with_identical_rows_has_entropy_rate_of_that_row():
    p = torch.tensor([0.5, 0.25, 0.125, 0.125], dtype=torch.float64)
    source = MarkovSource(p.expand(4, 4).clone())
    torch.testing.assert_close(source.stationary_distribution(), p)
    assert source.entropy_rate() == pytest.approx(1.75 * math.log(2), rel=1e-14)


def test_deterministic_cycle_has_entropy_rate_zero():
    cycle = torch.roll(torch.eye(3, dtype=torch.float64), 1, dims=1)  # 0 -> 1 -> 2 -> 0
    source = MarkovSource(cycle)
    assert source.entropy_rate() == 0.0
    torch.testing.assert_close(source.stationary_distribution(),
                               torch.full((3,), 1 / 3, dtype=torch.float64))
    tokens = source.sample(4, 9, generator=torch.Generator().manual_seed(0))
    assert bool(((tokens[:, 1:] - tokens[:, :-1]) % 3 == 1).all())


@FEW
@given(num_states=st.integers(2, 10), seed=st.integers(0, 2**16))
def test_entropy_rate_matches_numpy_formula_and_lies_between_zero_and_log_v(num_states, seed):
    source = _random_chain(num_states, seed)
    transition = source.transition.numpy()
    pi = _numpy_stationary(transition)
    expected = -np.sum(pi[:, None] * transition * np.log(transition))
    assert source.entropy_rate() == pytest.approx(expected, rel=1e-10)
    assert 0 < source.entropy_rate() <= math.log(num_states) + 1e-12


def test_entropy_rate_is_the_long_run_negative_log_likelihood_per_token():
    source = _random_chain(6, seed=3)
    tokens = source.sample(2000, 200, generator=torch.Generator().manual_seed(1))
    per_token = -source.transition.log()[tokens[:, :-1], tokens[:, 1:]]
    per_sequence = per_token.mean(1)  # independent sequences
    standard_error = per_sequence.std().item() / math.sqrt(len(per_sequence))
    assert abs(per_token.mean().item() - source.entropy_rate()) < 4 * standard_error


def test_entropy_rate_does_not_depend_on_initial_distribution():
    start = torch.tensor([1.0, 0.0], dtype=torch.float64)
    assert MarkovSource(TWO_STATE, initial=start).entropy_rate() == \
        MarkovSource(TWO_STATE).entropy_rate()


# ----------------------------------------------------------------- cross-entropy rate


def test_cross_entropy_rate_of_the_true_chain_is_the_entropy_rate():
    source = _random_chain(7, seed=0)
    assert source.cross_entropy_rate(source.transition) == pytest.approx(source.entropy_rate(),
                                                                          rel=1e-14)


@FEW
@given(num_states=st.integers(2, 9), seed=st.integers(0, 2**16), scale=st.floats(0.0, 5.0))
def test_cross_entropy_rate_is_entropy_rate_plus_weighted_kl(num_states, seed, scale):
    source = _random_chain(num_states, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = torch.softmax(scale * torch.randn(num_states, num_states, generator=gen,
                                              dtype=torch.float64), dim=1)
    p = source.transition
    kl = (p * (p.log() - model.log())).sum(1)
    expected = source.entropy_rate() + float(source.stationary_distribution() @ kl)
    got = source.cross_entropy_rate(model)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got >= source.entropy_rate() - 1e-12  # Gibbs' inequality


def test_context_free_model_scores_stationary_cross_entropy():
    source = _random_chain(5, seed=2)
    pi = source.stationary_distribution()
    q = torch.softmax(torch.randn(5, generator=torch.Generator().manual_seed(0),
                                  dtype=torch.float64), 0)
    assert source.cross_entropy_rate(q) == pytest.approx(-(pi * q.log()).sum().item(), rel=1e-13)
    entropy_pi = -(pi * pi.log()).sum().item()
    assert source.cross_entropy_rate(pi) == pytest.approx(entropy_pi, rel=1e-13)
    assert source.cross_entropy_rate(pi) >= source.entropy_rate()  # conditioning reduces entropy


def test_cross_entropy_rate_is_infinite_when_a_possible_transition_gets_zero():
    model = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    assert MarkovSource(TWO_STATE).cross_entropy_rate(model) == math.inf


def test_zero_probability_transitions_cost_nothing_where_the_chain_never_goes():
    cycle = torch.roll(torch.eye(3, dtype=torch.float64), 1, dims=1)
    assert MarkovSource(cycle).cross_entropy_rate(cycle) == 0.0


# ----------------------------------------------------------------- sampling


def test_sample_shape_dtype_range_and_reproducibility():
    source = _random_chain(5, seed=0)
    first = source.sample(7, 11, generator=torch.Generator().manual_seed(4))
    again = source.sample(7, 11, generator=torch.Generator().manual_seed(4))
    assert first.shape == (7, 11) and first.dtype == torch.int64
    assert torch.equal(first, again)
    assert int(first.min()) >= 0 and int(first.max()) < 5
    other = source.sample(7, 11, generator=torch.Generator().manual_seed(5))
    assert not torch.equal(first, other)


def test_sampled_transition_frequencies_match_the_matrix():
    source = _random_chain(4, seed=1)
    tokens = source.sample(4000, 100, generator=torch.Generator().manual_seed(0))
    counts = torch.zeros(4, 4, dtype=torch.float64)
    counts.index_put_((tokens[:, :-1].reshape(-1), tokens[:, 1:].reshape(-1)),
                      torch.ones(tokens[:, 1:].numel(), dtype=torch.float64), accumulate=True)
    frequencies = counts / counts.sum(1, keepdim=True)
    p = source.transition
    standard_error = (p * (1 - p) / counts.sum(1, keepdim=True)).sqrt()
    assert bool(((frequencies - p).abs() < 5 * standard_error + 1e-12).all())


def test_stationary_start_gives_stationary_marginals_at_every_position():
    source = _random_chain(3, seed=5)
    tokens = source.sample(20000, 3, generator=torch.Generator().manual_seed(0))
    pi = source.stationary_distribution()
    bound = 5 * (pi * (1 - pi) / 20000).sqrt()
    for t in range(3):
        frequency = torch.bincount(tokens[:, t], minlength=3).double() / 20000
        assert bool(((frequency - pi).abs() < bound).all())


def test_initial_distribution_is_respected():
    start = torch.tensor([0.0, 1.0], dtype=torch.float64)
    tokens = MarkovSource(TWO_STATE, initial=start).sample(
        50, 4, generator=torch.Generator().manual_seed(0))
    assert bool((tokens[:, 0] == 1).all())


def test_zero_probability_transitions_are_never_sampled():
    transition = torch.tensor([[0.0, 1.0, 0.0], [0.3, 0.0, 0.7], [1.0, 0.0, 0.0]],
                              dtype=torch.float64)
    tokens = MarkovSource(transition).sample(500, 40, generator=torch.Generator().manual_seed(0))
    assert bool((transition[tokens[:, :-1], tokens[:, 1:]] > 0).all())


def test_float32_chain_samples_and_reports_float64_quantities():
    source = make_markov_source(4, dtype=torch.float32,
                                generator=torch.Generator().manual_seed(0))
    assert source.transition.dtype == torch.float32
    assert source.stationary_distribution().dtype == torch.float64
    assert source.sample(3, 5, generator=torch.Generator().manual_seed(0)).shape == (3, 5)


# ----------------------------------------------------------------- log_prob, encode, decode


def test_log_prob_matches_categorical_distributions():
    source = _random_chain(5, seed=8)
    tokens = source.sample(6, 9, generator=torch.Generator().manual_seed(0))
    expected = Categorical(probs=source.initial).log_prob(tokens[:, 0])
    for t in range(1, 9):
        expected = expected + Categorical(probs=source.transition[tokens[:, t - 1]]).log_prob(
            tokens[:, t])
    torch.testing.assert_close(source.log_prob(tokens), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(source.log_prob(tokens[2]), expected[2], rtol=1e-12, atol=1e-12)


def test_log_prob_of_a_single_token_is_its_initial_probability():
    source = MarkovSource(TWO_STATE)
    pi = source.stationary_distribution()
    torch.testing.assert_close(source.log_prob(torch.tensor([[1]])), pi[1:].log())


def test_encode_decode_round_trip():
    source = make_markov_source(3, alphabet="xyz", generator=torch.Generator().manual_seed(0))
    assert torch.equal(source.encode("zyx"), torch.tensor([2, 1, 0]))
    tokens = source.sample(2, 6, generator=torch.Generator().manual_seed(1))
    texts = source.decode(tokens)
    assert isinstance(texts, list) and len(texts) == 2
    assert torch.equal(torch.stack([source.encode(text) for text in texts]), tokens)
    assert source.decode(tokens[0]) == texts[0]


def test_repr_names_the_entropy_rate():
    assert "entropy_rate=0.3864" in repr(MarkovSource(TWO_STATE))


# ----------------------------------------------------------------- make_markov_source


def test_make_markov_source_is_reproducible_and_sharpness_zero_is_uniform():
    one = make_markov_source(6, generator=torch.Generator().manual_seed(3))
    two = make_markov_source(6, generator=torch.Generator().manual_seed(3))
    assert torch.equal(one.transition, two.transition)
    flat = make_markov_source(6, sharpness=0.0)
    torch.testing.assert_close(flat.transition, torch.full((6, 6), 1 / 6, dtype=torch.float64))


def test_sharper_chains_have_lower_entropy_rate_on_average():
    rates = [np.mean([_random_chain(8, seed, sharpness).entropy_rate() for seed in range(20)])
             for sharpness in (0.5, 1.0, 2.0, 4.0)]
    assert all(a > b for a, b in zip(rates, rates[1:]))


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("transition", "message"),
    [
        (torch.tensor([[0.5, 0.5]], dtype=torch.float64), "square matrix"),
        (torch.ones(2, 2, 2, dtype=torch.float64) / 2, "square matrix"),
        (torch.empty(0, 0, dtype=torch.float64), "square matrix"),
        (torch.tensor([[1, 0], [0, 1]]), "floating-point"),
        (torch.tensor([[0.6, 0.6], [0.5, 0.5]], dtype=torch.float64), "sum to 1"),
        (torch.tensor([[1.5, -0.5], [0.5, 0.5]], dtype=torch.float64), "non-negative"),
        (torch.tensor([[math.nan, 1.0], [0.5, 0.5]], dtype=torch.float64), "NaN"),
        (torch.eye(2, dtype=torch.float64), "irreducible"),
        (torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=torch.float64), "irreducible"),
    ],
)
def test_invalid_transition_raises(transition, message):
    with pytest.raises(ValueError, match=message) as info:
        MarkovSource(transition)
    assert "`transition`" in str(info.value)


def test_transition_must_be_a_tensor():
    with pytest.raises(TypeError, match="`transition`"):
        MarkovSource([[0.5, 0.5], [0.5, 0.5]])


@pytest.mark.parametrize(
    ("initial", "message"),
    [
        (torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), "shape"),
        (torch.tensor([0.7, 0.7], dtype=torch.float64), "sum to 1"),
        (torch.tensor([1, 0]), "floating-point"),
    ],
)
def test_invalid_initial_raises(initial, message):
    with pytest.raises(ValueError, match=f"`initial`.*{message}|{message}.*`initial`"):
        MarkovSource(TWO_STATE, initial=initial)


@pytest.mark.parametrize("alphabet", ["a", "abc", "aa", 12])
def test_invalid_alphabet_raises(alphabet):
    with pytest.raises(ValueError, match="`alphabet`"):
        MarkovSource(TWO_STATE, alphabet=alphabet)


def test_decode_and_encode_need_an_alphabet():
    source = MarkovSource(TWO_STATE)
    with pytest.raises(ValueError, match="`alphabet`"):
        source.decode(torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="`alphabet`"):
        source.encode("ab")


def test_encode_rejects_foreign_characters_and_non_strings():
    source = MarkovSource(TWO_STATE, alphabet="ab")
    with pytest.raises(ValueError, match="`text`.*outside"):
        source.encode("abc")
    with pytest.raises(ValueError, match="`text`"):
        source.encode(["a"])


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (torch.tensor([[0, 2]]), r"\[0, 2\)"),
        (torch.tensor([[-1, 0]]), r"\[0, 2\)"),
        (torch.tensor([[0.0, 1.0]]), "integer"),
        (torch.zeros(2, 2, 2, dtype=torch.int64), "shape"),
        (torch.zeros(3, 0, dtype=torch.int64), "shape"),
    ],
)
def test_invalid_tokens_raise(tokens, message):
    with pytest.raises(ValueError, match=message) as info:
        MarkovSource(TWO_STATE).log_prob(tokens)
    assert "`tokens`" in str(info.value)


@pytest.mark.parametrize(("num_sequences", "length"), [(0, 5), (5, 0), (2.0, 5), (True, 5)])
def test_invalid_sample_sizes_raise(num_sequences, length):
    name = "num_sequences" if num_sequences in (0, 2.0) or num_sequences is True else "length"
    with pytest.raises(ValueError, match=f"`{name}`"):
        MarkovSource(TWO_STATE).sample(num_sequences, length)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (torch.ones(3, 3, dtype=torch.float64) / 3, "shape"),
        (torch.tensor([[0.9, 0.9], [0.5, 0.5]], dtype=torch.float64), "sum to 1"),
        (torch.tensor([1, 0]), "floating-point"),
    ],
)
def test_invalid_model_raises(model, message):
    with pytest.raises(ValueError, match=message) as info:
        MarkovSource(TWO_STATE).cross_entropy_rate(model)
    assert "`model`" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_states": 1}, "num_states"),
        ({"num_states": 0}, "num_states"),
        ({"num_states": 3, "sharpness": -1.0}, "sharpness"),
        ({"num_states": 3, "sharpness": math.inf}, "sharpness"),
        ({"num_states": 3, "dtype": torch.int64}, "dtype"),
        ({"num_states": 3, "alphabet": "ab"}, "alphabet"),
    ],
)
def test_make_markov_source_validates_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        make_markov_source(**kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_log_prob_runs_on_cuda_tokens():
    source = _random_chain(4, seed=0)
    tokens = source.sample(3, 6, generator=torch.Generator().manual_seed(0))
    on_gpu = source.log_prob(tokens.cuda())
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), source.log_prob(tokens))

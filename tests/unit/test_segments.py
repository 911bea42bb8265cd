"""Tests for xenthelpers.data.segments."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from xenthelpers.data import SegmentModel, SegmentSample, isolated_positions

THREE_MEANS = torch.tensor([[1.0, 0.0], [-0.5, 0.8], [-0.5, -0.8]], dtype=torch.float64)


def _model(mean_lengths=(8.0, 4.0, 6.0), min_length=3, **options) -> SegmentModel:
    return SegmentModel(THREE_MEANS, list(mean_lengths), min_length=min_length, **options)


def _runs(row: list[int]) -> list[tuple[int, int]]:
    """(label, length) of every run of equal labels, in order."""
    return [(label, len(list(group))) for label, group in itertools.groupby(row)]


# ----------------------------------------------------------------- the sampled sequences


def test_every_complete_segment_is_at_least_min_length_and_neighbours_differ():
    model = _model(min_length=3)
    _, labels = model.sample(200, 300, generator=torch.Generator().manual_seed(0))
    for row in labels.tolist():
        runs = _runs(row)
        assert all(length >= 3 for _, length in runs[:-1])  # the last one is cut by the end
    assert not isolated_positions(labels).any()


def test_exact_length_segments_when_the_mean_is_the_minimum():
    model = _model(mean_lengths=(4.0, 4.0, 4.0), min_length=4)
    _, labels = model.sample(50, 41, generator=torch.Generator().manual_seed(1))
    for row in labels.tolist():
        assert [length for _, length in _runs(row)] == [4] * 10 + [1]


def test_label_frequencies_match_the_long_run_shares_within_sampling_error():
    model = _model()
    _, labels = model.sample(400, 1000, generator=torch.Generator().manual_seed(2))
    shares = torch.bincount(labels.flatten(), minlength=3).double() / labels.numel()
    expected = model.residue_frequencies()
    torch.testing.assert_close(expected.sum(), torch.tensor(1.0, dtype=torch.float64))
    # Positions within a segment are dependent: count segments (about N L / 6 = 67,000)
    # rather than positions. A share moves by about sd(length)/mean/sqrt(segments)
    # < 1 / sqrt(67,000) ~ 0.004; five of those is a loose, safe tolerance.
    assert (shares - expected).abs().max().item() < 5 / math.sqrt(labels.numel() / 6)


def test_segment_lengths_follow_the_shifted_geometric_distribution():
    model = _model()
    _, labels = model.sample(400, 1000, generator=torch.Generator().manual_seed(3))
    lengths: dict[int, list[int]] = {0: [], 1: [], 2: []}
    for row in labels.tolist():
        for label, length in _runs(row)[:-1]:
            lengths[label].append(length)
    for label, observed in lengths.items():
        h = float(model.end_probability[label])
        mean, sd = model.mean_lengths[label].item(), math.sqrt(1 - h) / h
        n = len(observed)
        # Dropping the last (cut) run biases the mean down by about mean / L < 0.01.
        assert abs(sum(observed) / n - mean) < 5 * sd / math.sqrt(n) + 0.01
        share_minimum = sum(length == 3 for length in observed) / n
        assert abs(share_minimum - h) < 5 * math.sqrt(h * (1 - h) / n)


def test_length_probabilities_are_a_distribution_with_the_given_means():
    model = _model(mean_lengths=(3.0, 5.0, 12.5))
    probs = model.length_probabilities(2000)
    assert probs[:, :3].abs().max().item() == 0.0
    torch.testing.assert_close(probs.sum(1), torch.ones(3, dtype=torch.float64))
    n = torch.arange(2001, dtype=torch.float64)
    torch.testing.assert_close((probs * n).sum(1), model.mean_lengths)


def test_state_chain_rows_sum_to_one_and_its_stationary_labels_are_the_frequencies():
    model = _model(switch=torch.tensor([[0, 0.2, 0.8], [0.5, 0, 0.5], [0.9, 0.1, 0]],
                                       dtype=torch.float64))
    transition = model.state_transition
    torch.testing.assert_close(transition.sum(1), torch.ones(9, dtype=torch.float64))
    power = torch.linalg.matrix_power(transition, 4096)  # aperiodic: rows converge
    state_shares = power[0]
    label_shares = torch.zeros(3, dtype=torch.float64).index_add_(
        0, model.state_labels, state_shares)
    torch.testing.assert_close(label_shares, model.residue_frequencies(), rtol=0, atol=1e-10)


def test_observations_are_gaussian_around_the_label_means():
    model = _model(noise_sd=0.5)
    inputs, labels = model.sample(100, 200, generator=torch.Generator().manual_seed(4))
    residuals = inputs - THREE_MEANS[labels]
    n = residuals.numel()
    assert abs(residuals.mean().item()) < 5 * 0.5 / math.sqrt(n)
    assert abs(residuals.std().item() - 0.5) < 5 * 0.5 / math.sqrt(2 * n)


def test_sample_is_reproducible_and_seeds_differ():
    model = _model()
    first = model.sample(4, 50, generator=torch.Generator().manual_seed(5))
    again = model.sample(4, 50, generator=torch.Generator().manual_seed(5))
    other = model.sample(4, 50, generator=torch.Generator().manual_seed(6))
    assert isinstance(first, SegmentSample)
    assert torch.equal(first.inputs, again.inputs) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.labels, other.labels)
    assert first.inputs.dtype == torch.float64 and first.labels.dtype == torch.int64


# ----------------------------------------------------------------- exact inference


def _path_log_prob(model: SegmentModel, path: tuple[int, ...]) -> float:
    """log P(label path) from the segment description, independently of the state chain."""
    runs = _runs(list(path))
    total = math.log(model.initial[runs[0][0]])
    for i, (label, length) in enumerate(runs):
        h = float(model.end_probability[label])
        extra = max(length - model.min_length, 0)  # positions after the minimum
        if extra:
            total += -math.inf if h == 1 else extra * math.log1p(-h)
        if i < len(runs) - 1:  # a complete segment, then a switch
            if length < model.min_length:
                return -math.inf
            total += math.log(h) + math.log(model.switch[label, runs[i + 1][0]])
        # else: cut by the end, the segment lasts at least `length`
    return total


@pytest.mark.parametrize("min_length, length", [(1, 6), (2, 7), (3, 7)])
def test_viterbi_and_posterior_match_enumerating_every_label_path(min_length, length):
    model = _model(mean_lengths=(4.0, 3.0, 6.0), min_length=min_length,
                   initial=torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64))
    scores = 1.5 * torch.randn(4, length, 3, generator=torch.Generator().manual_seed(7),
                               dtype=torch.float64)
    paths = list(itertools.product(range(3), repeat=length))
    index = torch.tensor(paths)
    prior = torch.tensor([_path_log_prob(model, p) for p in paths], dtype=torch.float64)
    for n in range(4):
        joint = prior + scores[n].gather(1, index.T).sum(0)  # (number of paths,)
        assert model.viterbi(scores[n]).tolist() == list(paths[int(joint.argmax())])
        weights = torch.softmax(joint, 0)
        expected = torch.stack([(weights[:, None] * (index[:, t, None] == torch.arange(3)))
                                .sum(0) for t in range(length)])
        torch.testing.assert_close(model.posterior(scores[n]), expected, rtol=0, atol=1e-12)
    batch = model.viterbi(scores)
    assert batch.shape == (4, length)


def test_viterbi_paths_have_no_short_segments_but_the_posterior_argmax_may():
    model = _model()
    inputs, _ = model.sample(200, 100, generator=torch.Generator().manual_seed(8))
    scores = model.log_emissions(inputs)
    path = model.viterbi(scores)
    for row in path.tolist():
        assert all(length >= 3 for _, length in _runs(row)[:-1])
    posterior = model.posterior(scores)
    torch.testing.assert_close(posterior.sum(-1), torch.ones(200, 100, dtype=torch.float64))


def test_scores_shifted_per_position_give_the_same_path_and_posterior():
    model = _model()
    inputs, _ = model.sample(20, 60, generator=torch.Generator().manual_seed(9))
    scores = model.log_emissions(inputs)
    shift = torch.randn(20, 60, 1, generator=torch.Generator().manual_seed(10),
                        dtype=torch.float64)
    assert torch.equal(model.viterbi(scores), model.viterbi(scores + shift))
    torch.testing.assert_close(model.posterior(scores + shift), model.posterior(scores))


def test_log_emissions_are_gaussian_log_densities():
    model = _model(noise_sd=0.7)
    x = torch.tensor([[0.3, -1.2], [2.0, 0.5]], dtype=torch.float64)
    expected = torch.distributions.Normal(THREE_MEANS[None], 0.7).log_prob(x[:, None]).sum(-1)
    torch.testing.assert_close(model.log_emissions(x), expected, rtol=0, atol=1e-13)


def test_isolated_positions_by_hand():
    labels = torch.tensor([[0, 1, 0, 0, 2, 2, 1, 2, 0], [1, 1, 1, 2, 2, 2, 0, 0, 0]])
    assert isolated_positions(labels).nonzero().tolist() == [[0, 1], [0, 6], [0, 7]]
    assert not isolated_positions(torch.tensor([0, 1])).any()
    stacked = isolated_positions(torch.stack([labels, labels.flip(1)]))  # (2, 2, 9)
    assert torch.equal(stacked[0], isolated_positions(labels))


# ----------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"means": torch.zeros(1, 2, dtype=torch.float64)}, "means"),
        ({"means": torch.zeros(3, 2, dtype=torch.int64)}, "means"),
        ({"mean_lengths": [2.0, 4.0, 4.0]}, "mean_lengths"),
        ({"mean_lengths": [4.0, 4.0]}, "mean_lengths"),
        ({"mean_lengths": "abc"}, "mean_lengths"),
        ({"min_length": 0}, "min_length"),
        ({"noise_sd": 0.0}, "noise_sd"),
        ({"noise_sd": "1"}, "noise_sd"),
        ({"switch": torch.full((3, 3), 1 / 3, dtype=torch.float64)}, "switch"),
        ({"switch": torch.tensor([[0, 1, 0], [1, 0, 0], [0.5, 0.5, 0]],
                                 dtype=torch.float64)}, "switch"),
        ({"switch": torch.tensor([[0, 0.5, 0.4], [0.5, 0, 0.5], [0.5, 0.5, 0]],
                                 dtype=torch.float64)}, "switch"),
        ({"initial": torch.tensor([0.5, 0.6, 0.0], dtype=torch.float64)}, "initial"),
        ({"initial": torch.tensor([0.5, 0.5], dtype=torch.float64)}, "initial"),
    ],
)
def test_bad_constructor_arguments_are_named(kwargs, name):
    arguments = {"means": THREE_MEANS, "mean_lengths": [4.0, 4.0, 4.0], **kwargs}
    means = arguments.pop("means")
    lengths = arguments.pop("mean_lengths")
    with pytest.raises(ValueError, match=f"`{name}`"):
        SegmentModel(means, lengths, **arguments)


def test_bad_call_arguments_are_named():
    model = _model()
    with pytest.raises(ValueError, match="`num_sequences`"):
        model.sample(0, 10)
    with pytest.raises(ValueError, match="`length`"):
        model.sample(2, 0)
    with pytest.raises(ValueError, match="`inputs`"):
        model.log_emissions(torch.zeros(4, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="`scores`"):
        model.viterbi(torch.zeros(2, 5, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="`scores`"):
        model.posterior(torch.full((5, 3), math.nan, dtype=torch.float64))
    with pytest.raises(ValueError, match="`max_length`"):
        model.length_probabilities(0)
    with pytest.raises(ValueError, match="`labels`"):
        isolated_positions(torch.zeros(5))
    with pytest.raises(ValueError, match="`labels`"):
        isolated_positions(torch.tensor(3))

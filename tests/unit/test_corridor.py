"""Tests for xenthelpers.data.corridor."""

from __future__ import annotations

import math

import pytest
import torch

from xenthelpers.data import Corridor

F64 = torch.float64
LEFT, STAY, RIGHT = 0, 1, 2


def _constant(corridor: Corridor, action: int) -> torch.Tensor:
    """The policy that takes ``action`` in every cell."""
    policy = torch.zeros(corridor.num_states, 3, dtype=F64)
    policy[:, action] = 1.0
    return policy


def _uniform(corridor: Corridor) -> torch.Tensor:
    return torch.full((corridor.num_states, 3), 1 / 3, dtype=F64)


def _random_policies(corridor: Corridor, count: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(count, corridor.num_states, 3, generator=g, dtype=F64)
    return torch.softmax(logits, dim=-1)


# ------------------------------------------------------------------ the dynamics, by hand


def test_gust_on_the_track_by_hand():
    corridor = Corridor(half_width=2, gust=0.5)
    track = 2  # index of x = 0
    torch.testing.assert_close(
        corridor.transition[STAY, track], torch.tensor([0, 0.25, 0.5, 0.25, 0], dtype=F64)
    )
    torch.testing.assert_close(
        corridor.transition[RIGHT, track], torch.tensor([0, 0, 0.25, 0.5, 0.25], dtype=F64)
    )


def test_walls_clip_the_gust_and_the_slide():
    corridor = Corridor(half_width=1, gust=0.5)
    # From x = 0, stepping right: x' = 1 + w, and x' = 2 is clipped to the wall at 1.
    torch.testing.assert_close(
        corridor.transition[RIGHT, 1], torch.tensor([0, 0.25, 0.75], dtype=F64)
    )
    # From x = 1, anything but a step left slides into the wall; a step left reaches the track.
    for action in (STAY, RIGHT):
        torch.testing.assert_close(
            corridor.transition[action, 2], torch.tensor([0, 0, 1.0], dtype=F64)
        )
    torch.testing.assert_close(corridor.transition[LEFT, 2], torch.tensor([0, 1.0, 0], dtype=F64))


def test_partial_slide_by_hand():
    corridor = Corridor(half_width=3, gust=0.0, slide=0.25)
    x_minus_1 = 2
    expected_stay = torch.zeros(7, dtype=F64)
    expected_stay[[1, 2]] = torch.tensor([0.25, 0.75], dtype=F64)  # slide to -2, or stay at -1
    torch.testing.assert_close(corridor.transition[STAY, x_minus_1], expected_stay)
    expected_out = torch.zeros(7, dtype=F64)
    expected_out[[0, 1]] = torch.tensor([0.25, 0.75], dtype=F64)  # -1 - 1 - 1 or -1 - 1
    torch.testing.assert_close(corridor.transition[LEFT, x_minus_1], expected_out)
    expected_back = torch.zeros(7, dtype=F64)
    expected_back[3] = 1.0  # stepping towards the track always works
    torch.testing.assert_close(corridor.transition[RIGHT, x_minus_1], expected_back)


def test_cliff_cells_are_absorbing_and_walls_are_not():
    ledge = Corridor(half_width=2, gust=0.2, cliff=True)
    for action in (LEFT, STAY, RIGHT):
        for cell in (0, 4):
            row = torch.zeros(5, dtype=F64)
            row[cell] = 1.0
            torch.testing.assert_close(ledge.transition[action, cell], row)
    valley = Corridor(half_width=2, gust=0.2)
    assert valley.transition[RIGHT, 0, 1] == 1.0  # from the wall at -2, a step right climbs


def test_transition_rows_are_distributions():
    for corridor in (Corridor(), Corridor(half_width=3, gust=1.0, slide=0.3, cliff=True)):
        assert corridor.transition.shape == (3, corridor.num_states, corridor.num_states)
        assert bool((corridor.transition >= 0).all())
        torch.testing.assert_close(
            corridor.transition.sum(-1), torch.ones(3, corridor.num_states, dtype=F64)
        )


def test_expert_steps_towards_the_track_and_the_cost_marks_off_track_cells():
    corridor = Corridor(half_width=3)
    assert corridor.expert_actions.tolist() == [2, 2, 2, 1, 0, 0, 0]
    assert corridor.positions.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert corridor.cost.tolist() == [1, 1, 1, 0, 1, 1, 1]
    assert corridor.initial.tolist() == [0, 0, 0, 1, 0, 0, 0]
    torch.testing.assert_close(corridor.expert.sum(-1), torch.ones(7, dtype=F64))


# ------------------------------------------------------------------ exact evaluation


def test_expected_cost_of_uniform_policy_by_hand():
    # M = 1, no gusts. Step 1: off w.p. 2/3. From +-1 only the inward step (1/3) returns,
    # and from 0 two actions of three leave, so the walker is off w.p. 2/3 again.
    corridor = Corridor(half_width=1, gust=0.0)
    cost = corridor.expected_cost(_uniform(corridor), 2)
    torch.testing.assert_close(cost, torch.tensor([2 / 3, 4 / 3], dtype=F64))


def test_expert_cost_by_hand_and_long_run_rate():
    corridor = Corridor(half_width=2, gust=0.5)
    cost = corridor.expected_cost(corridor.expert, 3)
    torch.testing.assert_close(cost, torch.tensor([0.5, 0.75, 1.125], dtype=F64))
    # In the long run the expert is off the track a share gust / (1 + gust) of the steps.
    per_step = corridor.expected_cost(corridor.expert, 400).diff()[-1]
    assert abs(per_step - 0.5 / 1.5) < 1e-12


def test_expert_never_leaves_the_cells_next_to_the_track():
    corridor = Corridor(half_width=5, gust=0.3)
    d = corridor.state_distributions(corridor.expert, 50)
    assert bool((d[:, corridor.positions.abs() >= 2] == 0).all())


def test_state_distributions_are_distributions_that_start_on_the_track():
    corridor = Corridor(half_width=3)
    d = corridor.state_distributions(_random_policies(corridor, 4), 30)
    assert d.shape == (4, 31, 7)
    torch.testing.assert_close(d[:, 0], corridor.initial.expand(4, -1))
    torch.testing.assert_close(d.sum(-1), torch.ones(4, 31, dtype=F64))


def test_cost_to_go_agrees_with_forward_evaluation():
    corridor = Corridor(half_width=3, gust=0.3, slide=0.7)
    policies = _random_policies(corridor, 5, seed=3)
    forward = corridor.expected_cost(policies, 40)
    backward = corridor.cost_to_go(policies, 40)[..., 1:, :] @ corridor.initial
    torch.testing.assert_close(backward, forward, rtol=0, atol=1e-12)
    assert bool((corridor.cost_to_go(policies, 3)[..., 0, :] == 0).all())


def test_visitation_is_the_mean_of_the_decision_state_distributions():
    corridor = Corridor(half_width=2)
    policy = _random_policies(corridor, 1, seed=1)[0]
    d = corridor.state_distributions(policy, 7)
    torch.testing.assert_close(corridor.visitation(policy, 7), d[:-1].mean(0))
    assert abs(float(corridor.visitation(policy, 7).sum()) - 1) < 1e-14


def test_batched_policies_match_one_at_a_time():
    corridor = Corridor(half_width=3, cliff=True)
    policies = _random_policies(corridor, 6, seed=2).reshape(2, 3, 7, 3)
    batched = corridor.expected_cost(policies, 25)
    assert batched.shape == (2, 3, 25)
    for i in range(2):
        for j in range(3):
            torch.testing.assert_close(batched[i, j], corridor.expected_cost(policies[i, j], 25))


def test_cliff_keeps_what_falls():
    ledge = Corridor(half_width=2, gust=0.2, cliff=True)
    d = ledge.state_distributions(_constant(ledge, STAY), 200)
    fallen = d[:, [0, 4]].sum(-1)
    assert bool((fallen.diff() >= 0).all())
    assert float(fallen[-1]) > 0.99  # a walker that never steps back falls eventually


def test_float32_policy_is_accepted_and_evaluated_in_float64():
    corridor = Corridor(half_width=2)
    cost = corridor.expected_cost(_uniform(corridor).float(), 5)
    assert cost.dtype == F64
    torch.testing.assert_close(cost, corridor.expected_cost(_uniform(corridor), 5))


# ------------------------------------------------------------------ sampling


def test_sampled_costs_agree_with_the_exact_evaluator_within_sampling_error():
    corridor = Corridor(half_width=4, gust=0.3, slide=0.6)
    episodes, horizon = 20_000, 30
    for policy in (corridor.expert, _random_policies(corridor, 1, seed=5)[0]):
        states, _ = corridor.sample(
            policy, episodes, horizon, generator=torch.Generator().manual_seed(0)
        )
        per_episode = corridor.cost[states[:, 1:]].sum(1)
        exact = float(corridor.expected_cost(policy, horizon)[-1])
        se = float(per_episode.std()) / math.sqrt(episodes)
        assert abs(float(per_episode.mean()) - exact) < 4 * se
        # The distribution of the last state, cell by cell, within 4 binomial errors.
        final = torch.bincount(states[:, -1], minlength=corridor.num_states).double() / episodes
        exact_final = corridor.state_distributions(policy, horizon)[-1]
        binomial = (exact_final * (1 - exact_final) / episodes).sqrt()
        assert bool(((final - exact_final).abs() <= 4 * binomial + 1e-12).all())


def test_sampled_actions_follow_the_policy():
    corridor = Corridor(half_width=2)
    states, actions = corridor.sample(
        corridor.expert, 200, 40, generator=torch.Generator().manual_seed(1)
    )
    assert states.shape == (200, 41) and actions.shape == (200, 40)
    assert states.dtype == torch.int64 and actions.dtype == torch.int64
    assert bool((states[:, 0] == 2).all())  # every episode starts on the track
    assert torch.equal(actions, corridor.expert_actions[states[:, :-1]])
    assert int(states.min()) >= 1 and int(states.max()) <= 3  # the expert stays within one cell


def test_sampling_is_reproducible_with_a_seeded_generator():
    corridor = Corridor(half_width=3)
    policy = _uniform(corridor)
    first = corridor.sample(policy, 50, 20, generator=torch.Generator().manual_seed(7))
    second = corridor.sample(policy, 50, 20, generator=torch.Generator().manual_seed(7))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])


def test_zero_probability_actions_are_never_sampled():
    corridor = Corridor(half_width=2)
    policy = torch.zeros(5, 3, dtype=F64)
    policy[:, LEFT] = 0.5
    policy[:, RIGHT] = 0.5
    _, actions = corridor.sample(policy, 500, 20, generator=torch.Generator().manual_seed(2))
    assert not bool((actions == STAY).any())


# ------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"half_width": 0}, "half_width"),
        ({"half_width": 1.5}, "half_width"),
        ({"half_width": True}, "half_width"),
        ({"gust": -0.1}, "gust"),
        ({"gust": 1.5}, "gust"),
        ({"gust": "0.2"}, "gust"),
        ({"slide": 2.0}, "slide"),
        ({"slide": float("nan")}, "slide"),
        ({"cliff": 1}, "cliff"),
    ],
)
def test_bad_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        Corridor(**kwargs)


@pytest.mark.parametrize(
    "policy",
    [
        torch.full((4, 3), 1 / 3, dtype=F64),  # wrong number of cells
        torch.full((5, 2), 1 / 2, dtype=F64),  # wrong number of actions
        torch.full((5,), 1 / 3, dtype=F64),  # no action dimension
        torch.ones(5, 3, dtype=torch.int64),  # not floating point
        torch.full((5, 3), 0.5, dtype=F64),  # rows do not sum to one
        torch.tensor([[1.5, -0.5, 0.0]] * 5, dtype=F64),  # a negative probability
        torch.full((5, 3), float("nan"), dtype=F64),
    ],
)
def test_bad_policies_are_named(policy):
    corridor = Corridor(half_width=2)
    with pytest.raises(ValueError, match="`policy`"):
        corridor.expected_cost(policy, 3)


def test_policy_must_be_a_tensor():
    with pytest.raises(TypeError, match="`policy`"):
        Corridor(half_width=1).expected_cost([[1 / 3] * 3] * 3, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("horizon", [0, -1, 2.0, True])
def test_bad_horizons_are_named(horizon):
    corridor = Corridor(half_width=1)
    for method in (corridor.expected_cost, corridor.state_distributions, corridor.cost_to_go):
        with pytest.raises(ValueError, match="`horizon`"):
            method(corridor.expert, horizon)


def test_sample_needs_one_policy_and_positive_counts():
    corridor = Corridor(half_width=1)
    with pytest.raises(ValueError, match="one policy"):
        corridor.sample(corridor.expert.expand(2, -1, -1), 3, 3)
    with pytest.raises(ValueError, match="`num_episodes`"):
        corridor.sample(corridor.expert, 0, 3)
    with pytest.raises(ValueError, match="`horizon`"):
        corridor.sample(corridor.expert, 3, 0)

r"""A corridor with a recoverable drift: a tiny MDP for imitation learning.

Imitation learning's central question, how a cloned policy's mistakes compound over
a horizon, can be answered exactly on a small enough problem: the distribution of
the state at every step is a vector, a policy turns the dynamics into a Markov
chain, and the expected cost over ``T`` steps is ``T`` vector-matrix products, with
no rollout noise. :class:`Corridor` is such a problem, with the expert, the exact
evaluator and a sampler for collecting demonstrations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .._validation import (
    check_distribution,
    check_floating,
    check_positive_int,
    check_scalar,
    check_tensor,
)

__all__ = ["Corridor"]

#: How far a policy's rows may stray from summing to one.
ROW_SUM_ATOL = 1e-6

#: The moves of the three actions, in the order of the policy's last dimension.
MOVES = (-1, 0, 1)


@dataclass(frozen=True)
class Corridor:
    r"""A corridor of cells :math:`x \in \{-M, \dots, M\}` along a track at :math:`x = 0`.

    Every step costs 1 if it ends off the track, :math:`c(x) = [x \ne 0]`. The walker
    chooses :math:`a \in \{-1, 0, +1\}` (left, stay, right; action indices 0, 1, 2)
    and the next cell is :math:`x' = \operatorname{clip}(x + a + w, -M, M)`, where the
    disturbance :math:`w` is

    - on the track (:math:`x = 0`): a gust, :math:`w = \pm 1` with probability
      :math:`\delta / 2` each and :math:`w = 0` otherwise;
    - off the track: a slide away from it. The ground slopes down from the track, so
      unless the walker steps towards the track (:math:`a = -\operatorname{sign} x`)
      it slides one cell further out, :math:`w = \operatorname{sign} x`, with
      probability :math:`\rho` (``slide``); a step towards the track always succeeds.

    The drift is recoverable: the expert :math:`a^*(x) = -\operatorname{sign} x` steps
    back to the track from anywhere, and from a gust it is back after one step, so it
    never leaves :math:`\{-1, 0, 1\}`. With ``cliff=True`` the end cells
    :math:`\pm M` are absorbing instead of walls: a walker that reaches one stays
    there, paying 1 per step, whatever it does.

    A stochastic policy :math:`\pi(a \mid x)` is a tensor of shape
    ``(..., S, 3)`` with :math:`S = 2M + 1` rows (row :math:`x + M` for cell
    :math:`x`). It turns the dynamics into the Markov chain
    :math:`P_\pi(x, x') = \sum_a \pi(a \mid x)\, P(x' \mid x, a)`, so the distribution
    of the state after :math:`t` steps is :math:`d_t = d_0 P_\pi^t` and the expected
    cost over a horizon :math:`T` is, exactly,

    .. math::

        J_\pi(T) = \sum_{t=1}^{T} \mathbb{E}_{x \sim d_t}\,[x \ne 0]
        = \sum_{t=1}^{T} d_0 P_\pi^{t}\, c .

    :meth:`expected_cost` returns :math:`J_\pi(1), \dots, J_\pi(T)` in one pass, and
    :meth:`visitation` the distribution of the states at which the :math:`T`
    decisions are taken, :math:`\bar d_\pi = \frac1T \sum_{t=0}^{T-1} d_t`, under
    which :cite:t:`ross2010` measure a cloned policy's error.

    Parameters
    ----------
    half_width : int, default 8
        :math:`M \ge 1`; the corridor has :math:`2M + 1` cells.
    gust : float, default 0.2
        Probability :math:`\delta \in [0, 1]` that a gust pushes a walker off the
        track.
    slide : float, default 1.0
        Probability :math:`\rho \in [0, 1]` of sliding one cell outwards, off the
        track, when not stepping towards it.
    cliff : bool, default False
        Make the end cells :math:`\pm M` absorbing.

    Attributes
    ----------
    transition : torch.Tensor
        :math:`P(x' \mid x, a)`, float64, shape ``(3, S, S)``: action, cell, next cell.
    cost : torch.Tensor
        :math:`c(x)`, float64, shape ``(S,)``.
    initial : torch.Tensor
        :math:`d_0`, float64, shape ``(S,)``: every episode starts on the track.
    expert : torch.Tensor
        The expert's policy, one-hot rows, float64, shape ``(S, 3)``.
    expert_actions : torch.Tensor
        The expert's action index in every cell, int64, shape ``(S,)``.

    References
    ----------
    :cite:t:`ross2010`.

    Examples
    --------
    >>> corridor = Corridor(half_width=2, gust=0.5)
    >>> corridor.num_states, corridor.expert_actions.tolist()
    (5, [2, 2, 1, 0, 0])
    >>> corridor.expected_cost(corridor.expert, 3)  # a gust, then straight back
    tensor([0.5000, 0.7500, 1.1250], dtype=torch.float64)
    >>> stay = torch.zeros(5, 3, dtype=torch.float64)
    >>> stay[:, 1] = 1.0  # never steps: a gust, then a slide to the wall
    >>> corridor.expected_cost(stay, 3)
    tensor([0.5000, 1.2500, 2.1250], dtype=torch.float64)
    """

    half_width: int = 8
    gust: float = 0.2
    slide: float = 1.0
    cliff: bool = False
    transition: torch.Tensor = field(init=False, repr=False)
    cost: torch.Tensor = field(init=False, repr=False)
    initial: torch.Tensor = field(init=False, repr=False)
    expert: torch.Tensor = field(init=False, repr=False)
    expert_actions: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_scalar(self.half_width, "half_width", integer=True, min_val=1)
        check_scalar(self.gust, "gust", min_val=0.0, max_val=1.0)
        check_scalar(self.slide, "slide", min_val=0.0, max_val=1.0)
        if not isinstance(self.cliff, bool):
            raise ValueError(f"`cliff` must be a bool, got {type(self.cliff).__name__}")
        width = int(self.half_width)
        positions = torch.arange(-width, width + 1)
        num_states = positions.numel()
        transition = torch.zeros(len(MOVES), num_states, num_states, dtype=torch.float64)
        for a, move in enumerate(MOVES):
            for s, x in enumerate(positions.tolist()):
                for next_x, prob in self._outcomes(x, move):
                    transition[a, s, max(-width, min(width, next_x)) + width] += prob
        expert_actions = 1 - positions.sign()  # right (2) left of the track, left (0) right of it
        object.__setattr__(self, "transition", transition)
        object.__setattr__(self, "cost", (positions != 0).double())
        object.__setattr__(self, "initial", (positions == 0).double())
        object.__setattr__(self, "expert_actions", expert_actions)
        object.__setattr__(
            self, "expert", torch.nn.functional.one_hot(expert_actions, len(MOVES)).double()
        )

    def _outcomes(self, x: int, move: int) -> list[tuple[int, float]]:
        """The cells reachable from ``x`` with ``move`` (before clipping), with probabilities."""
        if self.cliff and abs(x) == self.half_width:
            return [(x, 1.0)]
        if x == 0:
            gust = float(self.gust)
            return [(move - 1, gust / 2), (move, 1.0 - gust), (move + 1, gust / 2)]
        outwards = 1 if x > 0 else -1
        if move == -outwards:
            return [(x + move, 1.0)]
        slide = float(self.slide)
        return [(x + move + outwards, slide), (x + move, 1.0 - slide)]

    @property
    def num_states(self) -> int:
        """Number of cells :math:`S = 2M + 1`."""
        return 2 * int(self.half_width) + 1

    @property
    def positions(self) -> torch.Tensor:
        """The cell :math:`x` of every state index, int64, shape ``(S,)``."""
        width = int(self.half_width)
        return torch.arange(-width, width + 1)

    def policy_transition(self, policy: torch.Tensor) -> torch.Tensor:
        r"""The Markov chain of a policy, :math:`P_\pi(x, x') = \sum_a \pi(a|x) P(x'|x, a)`.

        Parameters
        ----------
        policy : torch.Tensor
            Action probabilities, shape ``(..., S, 3)``, rows summing to one.

        Returns
        -------
        torch.Tensor
            Float64, shape ``(..., S, S)``, rows summing to one.
        """
        policy = self._check_policy(policy)
        return torch.einsum("...sa,ast->...st", policy, self.transition.to(policy.device))

    def state_distributions(self, policy: torch.Tensor, horizon: int) -> torch.Tensor:
        r"""The exact distribution of the state after each step, :math:`d_0, \dots, d_T`.

        Parameters
        ----------
        policy : torch.Tensor
            Action probabilities, shape ``(..., S, 3)``.
        horizon : int
            Number of steps :math:`T \ge 1`.

        Returns
        -------
        torch.Tensor
            Float64, shape ``(..., T + 1, S)``; row :math:`t` is :math:`d_t`.
        """
        check_positive_int(horizon, "horizon")
        chain = self.policy_transition(policy)
        current = self.initial.to(chain.device).expand(*chain.shape[:-2], -1)
        rows = [current]
        for _ in range(horizon):
            current = (current.unsqueeze(-2) @ chain).squeeze(-2)
            rows.append(current)
        return torch.stack(rows, dim=-2)

    def expected_cost(self, policy: torch.Tensor, horizon: int) -> torch.Tensor:
        r"""Exact expected cost :math:`J_\pi(T')` for every horizon :math:`T' = 1, \dots, T`.

        Parameters
        ----------
        policy : torch.Tensor
            Action probabilities, shape ``(..., S, 3)``.
        horizon : int
            Largest horizon :math:`T \ge 1`.

        Returns
        -------
        torch.Tensor
            Float64, shape ``(..., T)``; entry :math:`T' - 1` is the expected number of
            steps, among the first :math:`T'`, that end off the track.
        """
        distributions = self.state_distributions(policy, horizon)
        per_step = distributions[..., 1:, :] @ self.cost.to(distributions.device)
        return per_step.cumsum(-1)

    def cost_to_go(self, policy: torch.Tensor, horizon: int) -> torch.Tensor:
        r"""Exact expected cost still to come with :math:`k` steps left, from every cell.

        The backward recursion :math:`V_0 = 0` and

        .. math::

            V_k(x) = \sum_a \pi(a \mid x) \sum_{x'} P(x' \mid x, a)
            \bigl(c(x') + V_{k-1}(x')\bigr),

        so that :math:`J_\pi(T) = d_0 \cdot V_T`. With it the action values
        :math:`Q_k(x, a) = \sum_{x'} P(x' \mid x, a)(c(x') + V_{k-1}(x'))` of a policy
        are one product away.

        Parameters
        ----------
        policy : torch.Tensor
            Action probabilities, shape ``(..., S, 3)``.
        horizon : int
            Largest number of steps left, :math:`T \ge 1`.

        Returns
        -------
        torch.Tensor
            Float64, shape ``(..., T + 1, S)``; row :math:`k` is :math:`V_k`.
        """
        check_positive_int(horizon, "horizon")
        chain = self.policy_transition(policy)
        cost = self.cost.to(chain.device)
        current = torch.zeros(chain.shape[:-1], dtype=torch.float64, device=chain.device)
        rows = [current]
        for _ in range(horizon):
            current = (chain @ (cost + current).unsqueeze(-1)).squeeze(-1)
            rows.append(current)
        return torch.stack(rows, dim=-2)

    def visitation(self, policy: torch.Tensor, horizon: int) -> torch.Tensor:
        r"""Where the decisions are taken: :math:`\bar d_\pi = \frac1T \sum_{t=0}^{T-1} d_t`.

        Parameters
        ----------
        policy : torch.Tensor
            Action probabilities, shape ``(..., S, 3)``.
        horizon : int
            Number of decisions :math:`T \ge 1`.

        Returns
        -------
        torch.Tensor
            Float64, shape ``(..., S)``, summing to one.
        """
        return self.state_distributions(policy, horizon)[..., :-1, :].mean(-2)

    def sample(
        self,
        policy: torch.Tensor,
        num_episodes: int,
        horizon: int,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Roll out independent episodes of one policy from the track.

        Each step draws the action and then the next cell by inverse-CDF sampling,
        two uniform numbers per step, so a seeded generator gives the same episodes
        on any machine. The loop runs over steps and is vectorised over episodes.

        Parameters
        ----------
        policy : torch.Tensor
            Action probabilities of one policy, shape ``(S, 3)``.
        num_episodes : int
            Number of episodes ``N >= 1``.
        horizon : int
            Steps per episode ``T >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible episodes (the global one if ``None``).

        Returns
        -------
        states : torch.Tensor
            State indices (cell :math:`x` is index :math:`x + M`), int64, shape
            ``(N, T + 1)``, on the CPU.
        actions : torch.Tensor
            Action indices, int64, shape ``(N, T)``, on the CPU.
        """
        policy = self._check_policy(policy).detach().cpu()
        if policy.dim() != 2:
            raise ValueError(
                f"`policy` must be one policy of shape ({self.num_states}, 3) to sample from, "
                f"got {tuple(policy.shape)}"
            )
        check_positive_int(num_episodes, "num_episodes")
        check_positive_int(horizon, "horizon")
        uniforms = torch.rand(horizon, 2, num_episodes, generator=generator, dtype=torch.float64)
        action_cdf = _cumulative(policy)
        next_cdf = _cumulative(self.transition)
        states = torch.full((horizon + 1, num_episodes), int(self.half_width), dtype=torch.int64)
        actions = torch.empty(horizon, num_episodes, dtype=torch.int64)
        for t in range(horizon):
            cdf = action_cdf[states[t]]
            drawn = torch.searchsorted(cdf, uniforms[t, 0].unsqueeze(1), right=True)
            actions[t] = drawn.squeeze(1).clamp_(max=len(MOVES) - 1)
            rows = next_cdf[actions[t], states[t]]
            drawn = torch.searchsorted(rows, uniforms[t, 1].unsqueeze(1), right=True)
            states[t + 1] = drawn.squeeze(1).clamp_(max=self.num_states - 1)
        return states.T.contiguous(), actions.T.contiguous()

    def _check_policy(self, policy: torch.Tensor) -> torch.Tensor:
        check_tensor(policy, "policy")
        check_floating(policy, "policy")
        if policy.dim() < 2 or tuple(policy.shape[-2:]) != (self.num_states, len(MOVES)):
            raise ValueError(
                f"`policy` must have shape (..., {self.num_states}, {len(MOVES)}), "
                f"got {tuple(policy.shape)}"
            )
        check_distribution(policy, "policy", dim=-1, atol=ROW_SUM_ATOL)
        return policy.double()


def _cumulative(probs: torch.Tensor) -> torch.Tensor:
    """Row-wise CDFs with the last entry set to exactly 1 (guards against round-off)."""
    cdf = probs.cumsum(-1)
    cdf[..., -1] = 1.0
    return cdf.contiguous()

r"""A seeded Markov text source whose entropy rate is known exactly.

Real text has an unknown entropy rate, so a language model's cross-entropy on
it can be compared only with other models. A stationary first-order Markov
chain is the simplest source for which the best achievable cross-entropy per
token is a closed-form number:

.. math::

    \mathcal{H} = -\sum_{i} \pi_i \sum_{j} P_{ij} \log P_{ij},

with :math:`P` the transition matrix and :math:`\pi` its stationary
distribution :cite:p:`shannon1948` (Theorem 4.2.4 of :cite:t:`cover2006`).
:class:`MarkovSource` computes :math:`\pi` and :math:`\mathcal{H}`, the exact
expected cross-entropy of any bigram model against the chain, and draws
reproducible samples; :func:`make_markov_source` draws a random chain.
"""

from __future__ import annotations

import torch

from .._validation import (
    check_distribution,
    check_finite,
    check_floating,
    check_non_negative,
    check_positive_int,
    check_tensor,
)

#: Rows of a transition matrix must sum to one within this tolerance.
ROW_SUM_ATOL = 1e-6


class MarkovSource:
    r"""A first-order Markov chain over ``V`` tokens, with its exact entropy rate.

    Token :math:`x_t` is drawn from row :math:`x_{t-1}` of the transition
    matrix, :math:`p(x_t = j \mid x_{t-1} = i) = P_{ij}`, and the first token
    from ``initial`` (by default the stationary distribution :math:`\pi`, which
    makes every position distributed as :math:`\pi`). For an irreducible chain
    the entropy rate is

    .. math::

        \mathcal{H} = -\sum_{i=1}^V \pi_i \sum_{j=1}^V P_{ij} \log P_{ij}
        \quad \text{nats per token,}

    the smallest expected cross-entropy per token that any predictor can reach
    :cite:p:`shannon1948` (Theorem 4.2.4 of :cite:t:`cover2006`). A bigram model
    :math:`Q` scored on the chain has expected cross-entropy
    :math:`\mathcal{H} + \sum_i \pi_i \operatorname{KL}(P_{i\cdot} \,\|\,
    Q_{i\cdot}) \ge \mathcal{H}` (:meth:`cross_entropy_rate`).

    Parameters
    ----------
    transition : torch.Tensor
        Row-stochastic matrix :math:`P` of shape ``(V, V)``, floating point,
        rows summing to 1 within ``1e-6``. The chain must be irreducible (every
        token reachable from every other), so that :math:`\pi` is unique.
    initial : torch.Tensor, optional
        Distribution of the first token, shape ``(V,)``; the stationary
        distribution if ``None``.
    alphabet : str, optional
        ``V`` distinct characters, one per token, for :meth:`encode` and
        :meth:`decode`.

    See Also
    --------
    make_markov_source : a random chain drawn from a seeded generator.

    Examples
    --------
    >>> source = MarkovSource(torch.tensor([[0.9, 0.1], [0.5, 0.5]], dtype=torch.float64),
    ...                       alphabet="ab")
    >>> source.stationary_distribution()
    tensor([0.8333, 0.1667], dtype=torch.float64)
    >>> round(source.entropy_rate(), 4)  # nats per token
    0.3864
    >>> tokens = source.sample(2, 12, generator=torch.Generator().manual_seed(0))
    >>> tokens.shape
    torch.Size([2, 12])
    >>> source.decode(source.encode("abba"))
    'abba'
    """

    def __init__(
        self,
        transition: torch.Tensor,
        *,
        initial: torch.Tensor | None = None,
        alphabet: str | None = None,
    ) -> None:
        check_floating(transition, "transition")
        check_finite(transition, "transition")
        if (
            transition.dim() != 2
            or transition.shape[0] != transition.shape[1]
            or transition.shape[0] < 1
        ):
            raise ValueError(
                f"`transition` must be a square matrix of shape (V, V) with V >= 1, "
                f"got {tuple(transition.shape)}"
            )
        check_distribution(transition, "transition", dim=1, atol=ROW_SUM_ATOL)
        transition = transition.detach().cpu().clone()
        _check_irreducible(transition)
        num_states = transition.shape[0]
        self.transition = transition
        self._stationary = _stationary(transition)
        if initial is None:
            initial = self._stationary.to(transition.dtype)
        else:
            check_floating(initial, "initial")
            if tuple(initial.shape) != (num_states,):
                raise ValueError(
                    f"`initial` must have shape ({num_states},) to match `transition`, "
                    f"got {tuple(initial.shape)}"
                )
            check_distribution(initial, "initial", atol=ROW_SUM_ATOL)
        self.initial = initial.detach().cpu().to(transition.dtype).clone()
        if alphabet is not None:
            _check_alphabet(alphabet, num_states)
        self.alphabet = alphabet

    @property
    def num_states(self) -> int:
        """Number of tokens :math:`V`."""
        return self.transition.shape[0]

    def __repr__(self) -> str:
        return (
            f"MarkovSource(num_states={self.num_states}, "
            f"entropy_rate={self.entropy_rate():.4f} nats)"
        )

    def stationary_distribution(self) -> torch.Tensor:
        r"""The stationary distribution :math:`\pi`, with :math:`\pi P = \pi`.

        Returns
        -------
        torch.Tensor
            Shape ``(V,)``, float64, on the CPU.
        """
        return self._stationary.clone()

    def entropy_rate(self) -> float:
        r"""Entropy rate :math:`\mathcal{H}` in nats per token (divide by ``ln 2`` for bits).

        This is the entropy of the next token given the previous one, averaged
        over the stationary distribution; it does not depend on ``initial``.
        """
        transition = self.transition.double()
        row_entropy = -torch.special.xlogy(transition, transition).sum(1)
        return float(self._stationary @ row_entropy)

    def cross_entropy_rate(self, model: torch.Tensor) -> float:
        r"""Expected cross-entropy per token of a model that predicts with ``model``.

        For a bigram model :math:`Q` (shape ``(V, V)``, row :math:`i` the
        prediction after token :math:`i`) the result is

        .. math::

            -\sum_i \pi_i \sum_j P_{ij} \log Q_{ij}
            = \mathcal{H} + \sum_i \pi_i \operatorname{KL}(P_{i\cdot} \,\|\, Q_{i\cdot}),

        the limit of the model's held-out cross-entropy on an ever longer
        sample; it is never below :meth:`entropy_rate` (Gibbs' inequality). A
        context-free model :math:`q` (shape ``(V,)``) predicts the same
        distribution after every token and scores
        :math:`-\sum_j \pi_j \log q_j \ge \mathrm{H}(\pi)`. The result is
        ``inf`` if the model gives probability zero to a possible transition.

        Parameters
        ----------
        model : torch.Tensor
            Probabilities, shape ``(V, V)`` (rows summing to 1) or ``(V,)``.

        Returns
        -------
        float
            Nats per token.
        """
        check_floating(model, "model")
        num_states = self.num_states
        if tuple(model.shape) not in ((num_states, num_states), (num_states,)):
            raise ValueError(
                f"`model` must have shape ({num_states}, {num_states}) or ({num_states},), "
                f"got {tuple(model.shape)}"
            )
        check_distribution(model, "model", dim=-1, atol=ROW_SUM_ATOL)
        model = model.detach().cpu().double().expand(num_states, num_states)
        transition = self.transition.double()
        per_row = -torch.special.xlogy(transition, model).sum(1)
        return float(self._stationary @ per_row)

    def sample(
        self,
        num_sequences: int,
        length: int,
        *,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw independent sequences from the chain.

        Every sequence starts from ``initial`` and then follows the transition
        matrix. The draw uses one uniform number per token (inverse-CDF
        sampling), so the same generator state gives the same tokens on any
        machine. The loop runs over positions and is vectorised over
        sequences: many sequences are cheap, one very long sequence is not.

        Parameters
        ----------
        num_sequences : int
            Number of sequences ``N >= 1``.
        length : int
            Tokens per sequence ``L >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible draws (the global one if ``None``).

        Returns
        -------
        torch.Tensor
            ``int64`` tokens of shape ``(N, L)``, on the CPU.
        """
        check_positive_int(num_sequences, "num_sequences")
        check_positive_int(length, "length")
        # Position-major uniforms, so that each position's draws are contiguous.
        uniforms = torch.rand(length, num_sequences, generator=generator, dtype=torch.float64)
        initial_cdf = _cumulative(self.initial.double())
        row_cdf = _cumulative(self.transition.double())
        last = self.num_states - 1
        tokens = torch.empty(length, num_sequences, dtype=torch.int64)
        tokens[0] = torch.searchsorted(initial_cdf, uniforms[0], right=True).clamp_(max=last)
        for t in range(1, length):
            cdf = row_cdf[tokens[t - 1]]
            drawn = torch.searchsorted(cdf, uniforms[t].unsqueeze(1), right=True)
            tokens[t] = drawn.squeeze(1).clamp_(max=last)
        return tokens.T.contiguous()

    def log_prob(self, tokens: torch.Tensor) -> torch.Tensor:
        r"""Log-probability of each sequence under the chain, in nats.

        :math:`\log p(x_1, \dots, x_L) = \log \mathrm{initial}_{x_1}
        + \sum_{t=2}^L \log P_{x_{t-1} x_t}`.

        Parameters
        ----------
        tokens : torch.Tensor
            Integer tokens in ``[0, V)``, shape ``(L,)`` or ``(N, L)``.

        Returns
        -------
        torch.Tensor
            Shape ``()`` or ``(N,)``, float64, on the device of ``tokens``.
        """
        tokens = self._check_tokens(tokens)
        batch = tokens if tokens.dim() == 2 else tokens.unsqueeze(0)
        log_initial = self.initial.double().to(batch.device).log()
        log_transition = self.transition.double().to(batch.device).log()
        total = log_initial[batch[:, 0]]
        if batch.shape[1] > 1:
            total = total + log_transition[batch[:, :-1], batch[:, 1:]].sum(1)
        return total if tokens.dim() == 2 else total[0]

    def encode(self, text: str) -> torch.Tensor:
        """Map a string over the alphabet to ``int64`` tokens of shape ``(len(text),)``."""
        alphabet = self._require_alphabet()
        if not isinstance(text, str):
            raise ValueError(f"`text` must be a string, got {type(text).__name__}")
        index = {char: i for i, char in enumerate(alphabet)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise ValueError(f"`text` holds characters outside the alphabet: {unknown!r}")
        return torch.tensor([index[char] for char in text], dtype=torch.int64)

    def decode(self, tokens: torch.Tensor) -> str | list[str]:
        """Map tokens back to text: a string for shape ``(L,)``, a list for ``(N, L)``."""
        alphabet = self._require_alphabet()
        tokens = self._check_tokens(tokens)
        if tokens.dim() == 1:
            return "".join(alphabet[i] for i in tokens.tolist())
        return ["".join(alphabet[i] for i in row) for row in tokens.tolist()]

    def _require_alphabet(self) -> str:
        if self.alphabet is None:
            raise ValueError("this source has no `alphabet`; pass one to MarkovSource")
        return self.alphabet

    def _check_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        check_tensor(tokens, "tokens")
        if tokens.dim() not in (1, 2) or tokens.shape[-1] < 1:
            raise ValueError(
                f"`tokens` must have shape (L,) or (N, L) with L >= 1, got {tuple(tokens.shape)}"
            )
        if tokens.is_floating_point() or tokens.is_complex() or tokens.dtype == torch.bool:
            raise ValueError(f"`tokens` must hold integer tokens, got dtype {tokens.dtype}")
        if tokens.numel():
            low, high = int(tokens.min()), int(tokens.max())
            if low < 0 or high >= self.num_states:
                raise ValueError(
                    f"`tokens` must lie in [0, {self.num_states}), found values in [{low}, {high}]"
                )
        return tokens.long()


def make_markov_source(
    num_states: int,
    *,
    sharpness: float = 1.0,
    alphabet: str | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> MarkovSource:
    r"""A random stationary Markov chain with softmax-of-Gaussian rows.

    Row :math:`i` of the transition matrix is
    :math:`P_{i\cdot} = \operatorname{softmax}(s\, g_i)` with
    :math:`g_i \sim \mathcal{N}(0, I_V)` drawn from ``generator``. The
    sharpness :math:`s` sets how predictable the source is: :math:`s = 0`
    gives uniform rows (entropy rate :math:`\log V`), a large :math:`s` gives
    peaked rows and a low entropy rate. Every entry is positive, so the chain
    is irreducible.

    Parameters
    ----------
    num_states : int
        Number of tokens :math:`V \ge 2`.
    sharpness : float, default 1.0
        Scale :math:`s \ge 0` of the Gaussian logits.
    alphabet : str, optional
        ``V`` distinct characters for encoding and decoding text.
    generator : torch.Generator, optional
        A CPU generator for a reproducible chain (the global one if ``None``).
    dtype : torch.dtype, default torch.float64
        Floating-point dtype of the transition matrix.

    Returns
    -------
    MarkovSource
        Starting from its stationary distribution.

    Examples
    --------
    >>> import math
    >>> source = make_markov_source(4, sharpness=2.0,
    ...                             generator=torch.Generator().manual_seed(0))
    >>> source.transition.shape
    torch.Size([4, 4])
    >>> 0 < source.entropy_rate() < math.log(4)
    True
    >>> abs(make_markov_source(3, sharpness=0.0).entropy_rate() - math.log(3)) < 1e-15
    True
    """
    check_positive_int(num_states, "num_states")
    if num_states < 2:
        raise ValueError(f"`num_states` must be >= 2, got {num_states}")
    check_non_negative(sharpness, "sharpness")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
    logits = torch.randn(num_states, num_states, generator=generator, dtype=torch.float64)
    transition = torch.softmax(float(sharpness) * logits, dim=1)
    return MarkovSource(transition.to(dtype), alphabet=alphabet)


def _cumulative(probs: torch.Tensor) -> torch.Tensor:
    """Row-wise CDFs with the last entry set to exactly 1 (guards against round-off)."""
    cdf = probs.cumsum(-1)
    cdf[..., -1] = 1.0
    return cdf.contiguous()


def _stationary(transition: torch.Tensor) -> torch.Tensor:
    r"""Solve :math:`\pi (P - I) = 0`, :math:`\sum_i \pi_i = 1` in float64."""
    num_states = transition.shape[0]
    system = transition.double().T - torch.eye(num_states, dtype=torch.float64)
    system[-1] = 1.0  # replace one (redundant) balance equation by the normalisation
    rhs = torch.zeros(num_states, dtype=torch.float64)
    rhs[-1] = 1.0
    pi: torch.Tensor = torch.linalg.solve(system, rhs).clamp_min(0.0)
    return pi / pi.sum()


def _check_irreducible(transition: torch.Tensor) -> None:
    """Require every state to reach every other (boolean transitive closure)."""
    num_states = transition.shape[0]
    reach = (transition > 0) | torch.eye(num_states, dtype=torch.bool)
    steps = 1
    while steps < num_states:
        reach = (reach.double() @ reach.double()) > 0
        steps *= 2
    if not bool(reach.all()):
        raise ValueError(
            "`transition` must describe an irreducible chain (every token reachable from "
            "every other); its stationary distribution is not unique otherwise"
        )


def _check_alphabet(alphabet: str, num_states: int) -> None:
    if not isinstance(alphabet, str):
        raise ValueError(f"`alphabet` must be a string, got {type(alphabet).__name__}")
    if len(alphabet) != num_states or len(set(alphabet)) != num_states:
        raise ValueError(f"`alphabet` must hold {num_states} distinct characters, got {alphabet!r}")

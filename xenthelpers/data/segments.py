r"""Labelled sequences made of segments, with noisy observations at every position.

Protein secondary structure is the standard example: a chain of residues is labelled
helix, strand or coil, and the labels come in runs (a helix turn takes several
residues), so a lone residue of one label between two of another does not occur.
:class:`SegmentModel` draws such sequences from a hidden semi-Markov model whose
segments have a minimum length, and gives the exact inference a structured predictor
is compared with: the most probable label path (Viterbi) and the posterior label
probabilities at each position (forward-backward).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch

from .._validation import (
    check_distribution,
    check_finite,
    check_floating,
    check_positive,
    check_positive_int,
    check_scalar,
    check_tensor,
)

__all__ = ["SegmentModel", "SegmentSample", "isolated_positions"]


class SegmentSample(NamedTuple):
    """What :meth:`SegmentModel.sample` draws.

    - ``inputs``: ``(N, L, d)`` observations, in the dtype of the model's means;
    - ``labels``: ``(N, L)`` ``int64`` labels in ``[0, K)``.

    Examples
    --------
    >>> model = SegmentModel(torch.eye(2, dtype=torch.float64), [4.0, 6.0])
    >>> sample = model.sample(3, 20, generator=torch.Generator().manual_seed(0))
    >>> sample.inputs.shape, sample.labels.shape
    (torch.Size([3, 20, 2]), torch.Size([3, 20]))
    """

    inputs: torch.Tensor
    labels: torch.Tensor


class SegmentModel:
    r"""A hidden semi-Markov model: segments of at least ``min_length`` positions.

    A sequence is a succession of segments. The first segment's label is drawn
    from ``initial``; each later segment's label :math:`c'` follows the previous
    one's, :math:`c`, with probability :math:`A_{cc'}` (``switch``, zero on the
    diagonal, so that neighbouring segments have different labels and every run
    of equal labels is one segment). A segment of label :math:`c` has length

    .. math::

        P(\ell = n \mid c) = h_c\,(1 - h_c)^{\,n - m}, \quad n \ge m,
        \qquad h_c = \frac{1}{\bar\ell_c - m + 1},

    a geometric tail after the minimum length :math:`m` (``min_length``), with
    mean :math:`\bar\ell_c` (``mean_lengths``). The observation at every position
    is Gaussian around its label's mean,
    :math:`x_t \sim \mathcal{N}(\mu_{y_t}, \sigma^2 I_d)`, independently given
    the labels.

    The same model is a hidden Markov chain on :math:`S = Km` states
    :math:`(c, j)`, where :math:`j = \min(\text{position in the segment}, m - 1)`:
    the chain steps from :math:`(c, j)` to :math:`(c, j + 1)` with probability 1
    for :math:`j < m - 1`, stays in :math:`(c, m - 1)` with probability
    :math:`1 - h_c` and moves to :math:`(c', 0)` with probability
    :math:`h_c A_{cc'}` (:attr:`state_transition`). A state path determines its
    label path and, because segments start in state :math:`(c, 0)`, the reverse
    holds too; so the most probable state path (the Viterbi path of :cite:t:`rabiner1989`) gives
    the most probable label path, and no segment of it is shorter than
    :math:`m`, except possibly the last, which the end of the sequence cuts.
    Sequences start at the beginning of a segment and stop after ``length``
    positions, in the middle of their last segment.

    In the long run the share of positions with label :math:`c` is

    .. math::

        f_c = \frac{\pi_c\,\bar\ell_c}{\sum_{c'} \pi_{c'} \bar\ell_{c'}},

    where :math:`\pi` is the stationary distribution of the segment labels,
    :math:`\pi A = \pi` (:meth:`residue_frequencies`).

    Parameters
    ----------
    means : torch.Tensor
        ``(K, d)`` floating-point label means :math:`\mu_c`, :math:`K \ge 2`. Their
        dtype is that of the samples.
    mean_lengths : sequence of float or torch.Tensor
        ``K`` mean segment lengths :math:`\bar\ell_c \ge m`; :math:`\bar\ell_c = m`
        gives segments of exactly :math:`m` positions.
    switch : torch.Tensor, optional
        ``(K, K)`` label-to-label probabilities between consecutive segments: rows
        summing to 1 (within ``1e-6``), zero diagonal, every label reachable from
        every other. Default: the next label is uniform over the other ``K - 1``.
    min_length : int, default 3
        Minimum segment length :math:`m \ge 1`.
    noise_sd : float, default 1.0
        Standard deviation :math:`\sigma > 0` of every coordinate of the observations.
    initial : torch.Tensor, optional
        ``(K,)`` distribution of the first segment's label; default :math:`\pi`.

    References
    ----------
    :cite:t:`rabiner1989`.

    Examples
    --------
    >>> means = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    >>> model = SegmentModel(means, [6.0, 3.0], min_length=3)
    >>> model.residue_frequencies()  # in proportion to the mean lengths
    tensor([0.6667, 0.3333], dtype=torch.float64)
    >>> x, y = model.sample(2, 12, generator=torch.Generator().manual_seed(0))
    >>> y
    tensor([[1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1]])
    >>> isolated_positions(model.viterbi(model.log_emissions(x))).any()
    tensor(False)
    """

    def __init__(
        self,
        means: torch.Tensor,
        mean_lengths: Sequence[float] | torch.Tensor,
        *,
        switch: torch.Tensor | None = None,
        min_length: int = 3,
        noise_sd: float = 1.0,
        initial: torch.Tensor | None = None,
    ) -> None:
        check_floating(means, "means")
        check_finite(means, "means")
        if means.dim() != 2 or means.shape[0] < 2 or means.shape[1] < 1:
            raise ValueError(
                f"`means` must have shape (K, d) with K >= 2 labels and d >= 1, "
                f"got {tuple(means.shape)}"
            )
        num_labels = means.shape[0]
        check_positive_int(min_length, "min_length")
        check_scalar(noise_sd, "noise_sd")
        check_positive(noise_sd, "noise_sd")
        lengths = _as_float64(mean_lengths, "mean_lengths")
        if tuple(lengths.shape) != (num_labels,):
            raise ValueError(
                f"`mean_lengths` must hold one length per label ({num_labels}), "
                f"got shape {tuple(lengths.shape)}"
            )
        if not bool(torch.isfinite(lengths).all()) or bool((lengths < min_length).any()):
            raise ValueError(
                f"`mean_lengths` must be finite and >= min_length ({min_length}), "
                f"got {lengths.tolist()}"
            )
        if switch is None:
            switch = (1.0 - torch.eye(num_labels, dtype=torch.float64)) / (num_labels - 1)
        switch = _check_switch(switch, num_labels)
        stationary = _stationary(switch)
        if initial is None:
            initial = stationary
        else:
            check_floating(initial, "initial")
            if tuple(initial.shape) != (num_labels,):
                raise ValueError(
                    f"`initial` must have shape ({num_labels},), got {tuple(initial.shape)}"
                )
            check_distribution(initial, "initial", atol=1e-6)
        self.means = means.detach().cpu().clone()
        self.mean_lengths = lengths
        self.switch = switch
        self.min_length = int(min_length)
        self.noise_sd = float(noise_sd)
        self.initial = initial.detach().cpu().double().clone()
        self._stationary = stationary
        #: Probability :math:`h_c` that a segment of label ``c`` ends after each
        #: position beyond its first ``min_length - 1``.
        self.end_probability = 1.0 / (lengths - min_length + 1.0)

    @property
    def num_labels(self) -> int:
        """Number of labels :math:`K`."""
        return int(self.means.shape[0])

    @property
    def dim(self) -> int:
        """Dimension :math:`d` of each observation."""
        return int(self.means.shape[1])

    @property
    def num_states(self) -> int:
        """Number of hidden states :math:`S = K m` of the equivalent Markov chain."""
        return self.num_labels * self.min_length

    @property
    def state_labels(self) -> torch.Tensor:
        """``(S,)`` ``int64``: the label of each hidden state, ``state // min_length``."""
        return torch.arange(self.num_states) // self.min_length

    @property
    def state_transition(self) -> torch.Tensor:
        """``(S, S)`` float64 transition matrix of the equivalent Markov chain.

        State ``c * min_length + j`` is position ``j`` (capped at ``min_length - 1``)
        of a segment of label ``c``.
        """
        m, num_labels = self.min_length, self.num_labels
        transition = torch.zeros(self.num_states, self.num_states, dtype=torch.float64)
        for c in range(num_labels):
            first = c * m
            for j in range(m - 1):
                transition[first + j, first + j + 1] = 1.0
            last = first + m - 1
            end = float(self.end_probability[c])
            transition[last, last] += 1.0 - end
            transition[last, torch.arange(num_labels) * m] += end * self.switch[c]
        return transition

    @property
    def initial_state(self) -> torch.Tensor:
        """``(S,)`` float64: where the chain starts, the first state of a segment."""
        start = torch.zeros(self.num_states, dtype=torch.float64)
        start[torch.arange(self.num_labels) * self.min_length] = self.initial
        return start

    def __repr__(self) -> str:
        return (
            f"SegmentModel(num_labels={self.num_labels}, dim={self.dim}, "
            f"min_length={self.min_length}, mean_lengths={self.mean_lengths.tolist()}, "
            f"noise_sd={self.noise_sd})"
        )

    def residue_frequencies(self) -> torch.Tensor:
        r"""Long-run share :math:`f_c` of positions with each label, ``(K,)`` float64."""
        weights = self._stationary * self.mean_lengths
        return weights / weights.sum()

    def length_probabilities(self, max_length: int) -> torch.Tensor:
        r"""``(K, max_length + 1)`` float64: :math:`P(\ell = n \mid c)`, ``n = 0 .. max_length``."""
        check_positive_int(max_length, "max_length")
        n = torch.arange(max_length + 1, dtype=torch.float64)
        h = self.end_probability[:, None]
        tail = (n - self.min_length).clamp(min=0)
        probs = h * (1.0 - h) ** tail
        return torch.where(n >= self.min_length, probs, 0.0)

    def sample(
        self,
        num_sequences: int,
        length: int,
        *,
        generator: torch.Generator | None = None,
    ) -> SegmentSample:
        """Draw independent labelled sequences.

        The hidden chain is drawn first, one uniform number per position
        (inverse-CDF sampling, the loop runs over positions and is vectorised
        over sequences), then the Gaussian noise of the observations.

        Parameters
        ----------
        num_sequences : int
            Number of sequences ``N >= 1``.
        length : int
            Positions per sequence ``L >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible draws (the global one if ``None``).

        Returns
        -------
        SegmentSample
            ``(inputs, labels)`` of shapes ``(N, L, d)`` and ``(N, L)``, on the CPU.
        """
        check_positive_int(num_sequences, "num_sequences")
        check_positive_int(length, "length")
        uniforms = torch.rand(length, num_sequences, generator=generator, dtype=torch.float64)
        last = self.num_states - 1
        start_cdf = _cumulative(self.initial_state)
        row_cdf = _cumulative(self.state_transition)
        states = torch.empty(length, num_sequences, dtype=torch.int64)
        states[0] = torch.searchsorted(start_cdf, uniforms[0], right=True).clamp_(max=last)
        for t in range(1, length):
            cdf = row_cdf[states[t - 1]]
            drawn = torch.searchsorted(cdf, uniforms[t].unsqueeze(1), right=True)
            states[t] = drawn.squeeze(1).clamp_(max=last)
        labels = self.state_labels[states.T.contiguous()]
        noise = torch.randn(
            num_sequences, length, self.dim, generator=generator, dtype=self.means.dtype
        )
        return SegmentSample(self.means[labels] + self.noise_sd * noise, labels)

    def log_emissions(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""Log-densities :math:`\log \mathcal{N}(x_t; \mu_c, \sigma^2 I)` of every label.

        Parameters
        ----------
        inputs : torch.Tensor
            Observations of shape ``(..., d)``, floating point.

        Returns
        -------
        torch.Tensor
            Shape ``(..., K)``, in the dtype and on the device of ``inputs``.
        """
        check_floating(inputs, "inputs")
        if inputs.dim() == 0 or inputs.shape[-1] != self.dim:
            raise ValueError(
                f"`inputs` must have last dimension d = {self.dim}, got {tuple(inputs.shape)}"
            )
        means = self.means.to(device=inputs.device, dtype=inputs.dtype)
        squared = (inputs.unsqueeze(-2) - means).square().sum(-1)
        variance = self.noise_sd**2
        return -squared / (2 * variance) - 0.5 * self.dim * math.log(2 * math.pi * variance)

    def viterbi(self, scores: torch.Tensor) -> torch.Tensor:
        r"""The most probable label path given per-position label scores.

        Maximises :math:`\log P(y_{1:L}) + \sum_t s_t(y_t)` over label paths,
        where :math:`P` is the segment model's prior on label paths and
        :math:`s_t(c)` is ``scores[..., t, c]``: the log-likelihoods
        :meth:`log_emissions` give the exact MAP path; any scores equal to them
        up to a constant per position give the same path, so a classifier's
        :math:`\log q(c \mid x_t) - \log \text{prior}(c)` can take their place
        (a hybrid decoder).

        Parameters
        ----------
        scores : torch.Tensor
            ``(N, L, K)`` or ``(L, K)``, floating point, no NaN.

        Returns
        -------
        torch.Tensor
            ``int64`` labels, the shape of ``scores`` without its last dimension,
            on its device.
        """
        batch = self._check_scores(scores)
        num_sequences, length, _ = batch.shape
        log_transition, log_start, states = self._log_chain(batch)
        emission = batch[:, :, states]  # (N, L, S)
        best = log_start + emission[:, 0]
        pointers = torch.zeros(
            num_sequences, length, self.num_states, dtype=torch.int64, device=batch.device
        )
        for t in range(1, length):
            best, pointers[:, t] = (best.unsqueeze(2) + log_transition).max(dim=1)
            best = best + emission[:, t]
        path = torch.empty(num_sequences, length, dtype=torch.int64, device=batch.device)
        path[:, -1] = best.argmax(dim=1)
        for t in range(length - 1, 0, -1):
            path[:, t - 1] = pointers[:, t].gather(1, path[:, t : t + 1]).squeeze(1)
        labels = states[path]
        return labels if scores.dim() == 3 else labels[0]

    def posterior(self, scores: torch.Tensor) -> torch.Tensor:
        r"""Posterior label probabilities :math:`P(y_t = c \mid x_{1:L})` (forward-backward).

        With the log-likelihoods of :meth:`log_emissions` as ``scores``, the
        argmax at each position is the decision with the highest expected
        per-position accuracy (the Bayes classifier of each position given the
        whole sequence). Unlike the Viterbi path, that argmax can hold segments
        shorter than ``min_length``.

        Parameters
        ----------
        scores : torch.Tensor
            ``(N, L, K)`` or ``(L, K)`` per-position label scores, as for
            :meth:`viterbi`.

        Returns
        -------
        torch.Tensor
            Probabilities of the shape of ``scores``, summing to 1 over the last
            dimension.
        """
        batch = self._check_scores(scores)
        num_sequences, length, _ = batch.shape
        log_transition, log_start, states = self._log_chain(batch)
        emission = batch[:, :, states]
        forward = torch.empty(
            num_sequences, length, self.num_states, dtype=batch.dtype, device=batch.device
        )
        forward[:, 0] = log_start + emission[:, 0]
        for t in range(1, length):
            step = forward[:, t - 1].unsqueeze(2) + log_transition
            forward[:, t] = torch.logsumexp(step, dim=1) + emission[:, t]
        backward = torch.zeros_like(forward)
        for t in range(length - 2, -1, -1):
            ahead = (emission[:, t + 1] + backward[:, t + 1]).unsqueeze(1)
            backward[:, t] = torch.logsumexp(log_transition + ahead, dim=2)
        state_probs = torch.softmax(forward + backward, dim=2)
        probs = torch.zeros_like(batch).index_add_(2, states, state_probs)
        return probs if scores.dim() == 3 else probs[0]

    def _check_scores(self, scores: torch.Tensor) -> torch.Tensor:
        check_floating(scores, "scores")
        if scores.dim() not in (2, 3) or scores.shape[-1] != self.num_labels:
            raise ValueError(
                f"`scores` must have shape (N, L, {self.num_labels}) or (L, {self.num_labels}), "
                f"got {tuple(scores.shape)}"
            )
        if scores.shape[-2] == 0:
            raise ValueError("`scores` must hold at least one position")
        if bool(scores.isnan().any()):
            raise ValueError("`scores` contains NaN values")
        return scores if scores.dim() == 3 else scores.unsqueeze(0)

    def _log_chain(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        dtype, device = batch.dtype, batch.device
        return (
            self.state_transition.log().to(device=device, dtype=dtype),
            self.initial_state.log().to(device=device, dtype=dtype),
            self.state_labels.to(device),
        )


def isolated_positions(labels: torch.Tensor) -> torch.Tensor:
    r"""Where a label differs from both its neighbours: a segment of one position.

    Position :math:`t` of a sequence is isolated when
    :math:`0 < t < L - 1`, :math:`y_t \ne y_{t-1}` and :math:`y_t \ne y_{t+1}`.
    The first and last positions have one neighbour only and are never counted.

    Parameters
    ----------
    labels : torch.Tensor
        Integer labels of shape ``(..., L)``: one sequence per row.

    Returns
    -------
    torch.Tensor
        Boolean tensor of the shape of ``labels``.

    Examples
    --------
    >>> isolated_positions(torch.tensor([0, 1, 0, 0, 2, 2, 1, 2, 0]))
    tensor([False,  True, False, False, False, False,  True,  True, False])
    """
    check_tensor(labels, "labels")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"`labels` must hold integer labels, got dtype {labels.dtype}")
    if labels.dim() == 0:
        raise ValueError("`labels` must have shape (..., L), got a 0-dim tensor")
    isolated = torch.zeros_like(labels, dtype=torch.bool)
    middle = labels[..., 1:-1]
    isolated[..., 1:-1] = (middle != labels[..., :-2]) & (middle != labels[..., 2:])
    return isolated


def _as_float64(values: Sequence[float] | torch.Tensor, name: str) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        check_floating(values, name)
        return values.detach().cpu().double().clone()
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValueError(f"`{name}` must be a sequence of numbers or a tensor, got {values!r}")
    for value in values:
        check_scalar(value, name)
    return torch.tensor([float(v) for v in values], dtype=torch.float64)


def _check_switch(switch: torch.Tensor, num_labels: int) -> torch.Tensor:
    check_floating(switch, "switch")
    if tuple(switch.shape) != (num_labels, num_labels):
        raise ValueError(
            f"`switch` must have shape ({num_labels}, {num_labels}), got {tuple(switch.shape)}"
        )
    check_distribution(switch, "switch", dim=1, atol=1e-6)
    switch = switch.detach().cpu().double().clone()
    if bool((switch.diagonal() != 0).any()):
        raise ValueError(
            "`switch` must have a zero diagonal: a segment is followed by one of another label"
        )
    reach = (switch > 0) | torch.eye(num_labels, dtype=torch.bool)
    for _ in range(num_labels):
        reach = (reach.double() @ reach.double()) > 0
    if not bool(reach.all()):
        raise ValueError("`switch` must let every label follow, in time, every other label")
    return switch


def _stationary(switch: torch.Tensor) -> torch.Tensor:
    r"""Solve :math:`\pi (A - I) = 0`, :math:`\sum_c \pi_c = 1` in float64."""
    num_labels = switch.shape[0]
    system = switch.T - torch.eye(num_labels, dtype=torch.float64)
    system[-1] = 1.0  # one balance equation is redundant: replace it by the normalisation
    rhs = torch.zeros(num_labels, dtype=torch.float64)
    rhs[-1] = 1.0
    pi: torch.Tensor = torch.linalg.solve(system, rhs).clamp_min(0.0)
    return pi / pi.sum()


def _cumulative(probs: torch.Tensor) -> torch.Tensor:
    """Cumulative sums along the last dimension, exactly 1 from the last positive entry on.

    Without the second step a rounding error could leave the sum just below 1 and
    give a state of probability zero a sliver of the unit interval.
    """
    cdf = probs.cumsum(-1)
    index = torch.arange(probs.shape[-1])
    last_positive = torch.where(probs > 0, index, -1).amax(dim=-1, keepdim=True)
    return torch.where(index >= last_positive, 1.0, cdf).contiguous()

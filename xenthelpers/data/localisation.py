r"""Synthetic protein localisation: multi-label data whose posterior is known.

A protein can reside in more than one compartment of a cell: many shuttle
between the nucleus and the cytoplasm, others sit in the cytoplasm and on a
membrane. Predicting *where* a protein lives is therefore a multi-label
problem, and a data set for studying it needs proteins with one compartment
and proteins with two, together with the exact answer a perfect model would
give.

:class:`ProteinLocalisation` provides that. Each protein has a *label set*
:math:`S` (one compartment, or a pair), drawn from known probabilities, and a
feature vector built from the *signatures* of the compartments in :math:`S`:
their sum (a dual-located protein carries the targeting signals of both
compartments, the "union") or their mean (a "mixture"), plus Gaussian noise.
Because the label sets are finitely many Gaussian classes, the posterior
:math:`p(S \mid x)`, every marginal :math:`P(y_k = 1 \mid x)` and every
pairwise joint are available in closed form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from .._validation import (
    check_distribution,
    check_floating,
    check_non_negative,
    check_positive_int,
    check_tensor,
    check_unit_interval,
)
from .gaussian_classes import GaussianClasses

#: The compartments of :func:`make_protein_localisation`, in label order.
COMPARTMENTS = ("nucleus", "cytoplasm", "mitochondrion", "membrane")

#: Its dual locations: nucleo-cytoplasmic shuttling, and cytoplasmic proteins
#: that also bind the outer mitochondrial membrane or the plasma membrane.
DUAL_PAIRS = (
    ("nucleus", "cytoplasm"),
    ("cytoplasm", "mitochondrion"),
    ("cytoplasm", "membrane"),
)

#: How the signatures of a label set's compartments are combined.
COMBINE_MODES = ("union", "mixture")


class LocalisationSample(NamedTuple):
    """What :meth:`ProteinLocalisation.sample` draws, as a named tuple.

    - ``inputs``: ``(N, d)`` feature vectors, on the CPU.
    - ``labels``: ``(N, K)`` multi-hot targets (1.0 where the protein resides,
      0.0 elsewhere), in the dtype of ``inputs``, ready for
      ``F.binary_cross_entropy_with_logits``.
    - ``label_set``: ``(N,)`` long tensor, the row of the problem's
      ``label_sets`` each protein was drawn from.

    Examples
    --------
    >>> problem = make_protein_localisation(features_per_compartment=1, noise_features=0)
    >>> sample = problem.sample(5, generator=torch.Generator().manual_seed(0))
    >>> sample.inputs.shape, sample.labels.shape, sample.label_set.shape
    (torch.Size([5, 4]), torch.Size([5, 4]), torch.Size([5]))
    >>> torch.equal(sample.labels, problem.label_sets[sample.label_set])
    True
    """

    inputs: torch.Tensor
    labels: torch.Tensor
    label_set: torch.Tensor


class ProteinLocalisation:
    r"""Proteins in one or several compartments, with their exact posterior.

    There are :math:`K` compartments with signatures
    :math:`\mu_1, \dots, \mu_K \in \R^d` and :math:`L` allowed label sets
    :math:`S_1, \dots, S_L \subseteq \{1, \dots, K\}` with probabilities
    :math:`\pi_1, \dots, \pi_L`. A protein draws a label set :math:`S = S_l`
    with probability :math:`\pi_l` and features

    .. math::

        \begin{aligned}
        x \mid S &\sim \mathcal{N}(m_S, \sigma^2 I_d), \\
        m_S &= \sum_{k \in S} \mu_k \;\; (\text{union}) \quad\text{or}\quad
        m_S = \frac{1}{|S|} \sum_{k \in S} \mu_k \;\; (\text{mixture}).
        \end{aligned}

    Its label vector is :math:`y_k = [k \in S]`. The label sets are Gaussian
    classes, so the posterior over label sets is a softmax of known logits
    (see :class:`~xenthelpers.data.GaussianClasses`), and summing it over the
    sets that contain a compartment gives the exact marginals

    .. math::

        P(y_k = 1 \mid x) = \sum_{l \,:\, k \in S_l} p(S_l \mid x).

    Parameters
    ----------
    signatures : torch.Tensor
        Compartment signatures :math:`\mu_k`, floating point, shape ``(K, d)``.
    label_sets : torch.Tensor
        Shape ``(L, K)`` of zeros and ones: row :math:`l` marks the
        compartments of :math:`S_l`. Rows must be distinct and non-empty.
    priors : torch.Tensor, optional
        Label-set probabilities :math:`\pi`, shape ``(L,)``; uniform if
        ``None``. Zeros are allowed (that set never occurs).
    scale : float, default 1.0
        Noise standard deviation :math:`\sigma > 0`.
    combine : {"union", "mixture"}, default "union"
        Sum or mean of the signatures of a set's compartments.
    compartments : tuple of str, optional
        Names of the :math:`K` compartments (default ``"c0"``, ``"c1"``, ...).

    See Also
    --------
    make_protein_localisation : the book's default problem, block signatures.

    Examples
    --------
    >>> problem = ProteinLocalisation(
    ...     torch.tensor([[2.0, 0.0], [0.0, 2.0]]),
    ...     torch.tensor([[1, 0], [0, 1], [1, 1]]),
    ...     compartments=("nucleus", "cytoplasm"))
    >>> problem.means  # nucleus, cytoplasm, both
    tensor([[2., 0.],
            [0., 2.],
            [2., 2.]])
    >>> x, y, s = problem.sample(3, generator=torch.Generator().manual_seed(0))
    >>> y.shape, s.shape
    (torch.Size([3, 2]), torch.Size([3]))
    >>> problem.marginals(torch.tensor([[2.0, 2.0]])).round(decimals=3)
    tensor([[0.8930, 0.8930]])
    """

    def __init__(
        self,
        signatures: torch.Tensor,
        label_sets: torch.Tensor,
        *,
        priors: torch.Tensor | None = None,
        scale: float = 1.0,
        combine: str = "union",
        compartments: Sequence[str] | None = None,
    ) -> None:
        check_floating(signatures, "signatures")
        if signatures.dim() != 2 or min(signatures.shape) < 1:
            raise ValueError(f"`signatures` must have shape (K, d), got {tuple(signatures.shape)}")
        num_compartments = signatures.shape[0]
        sets = _check_label_sets(label_sets, num_compartments)
        if combine not in COMBINE_MODES:
            raise ValueError(f"`combine` must be one of {COMBINE_MODES}, got {combine!r}")
        if compartments is None:
            compartments = tuple(f"c{k}" for k in range(num_compartments))
        names = _check_names(compartments, num_compartments)
        if priors is not None:
            check_tensor(priors, "priors")
            if tuple(priors.shape) != (sets.shape[0],):
                raise ValueError(
                    f"`priors` must have shape ({sets.shape[0]},), one entry per label "
                    f"set, got {tuple(priors.shape)}"
                )
            priors = priors.to(signatures.dtype)
        sets = sets.to(signatures.dtype)
        means = sets @ signatures
        if combine == "mixture":
            means = means / sets.sum(dim=1, keepdim=True)
        # GaussianClasses checks `scale`, the priors and the finiteness of the means.
        self._sets = GaussianClasses(means, scale=scale, priors=priors)
        self.signatures = signatures.detach().clone()
        self.label_sets = sets
        self.combine = combine
        self.compartments = names

    @property
    def num_compartments(self) -> int:
        """Number of compartments (labels) :math:`K`."""
        return self.signatures.shape[0]

    @property
    def num_label_sets(self) -> int:
        """Number of allowed label sets :math:`L`."""
        return self.label_sets.shape[0]

    @property
    def dim(self) -> int:
        """Feature dimension :math:`d`."""
        return self.signatures.shape[1]

    @property
    def means(self) -> torch.Tensor:
        """The mean feature vector :math:`m_S` of each label set, shape ``(L, d)``."""
        return self._sets.means

    @property
    def priors(self) -> torch.Tensor:
        """The label-set probabilities :math:`\\pi`, shape ``(L,)``."""
        return self._sets.priors

    @property
    def scale(self) -> float:
        """The noise standard deviation :math:`\\sigma`."""
        return self._sets.scale

    def __repr__(self) -> str:
        return (
            f"ProteinLocalisation(compartments={self.compartments}, "
            f"num_label_sets={self.num_label_sets}, dim={self.dim}, "
            f"scale={self.scale}, combine={self.combine!r})"
        )

    def index(self, compartment: int | str) -> int:
        """The label index of a compartment given by name or by index."""
        if isinstance(compartment, str):
            if compartment not in self.compartments:
                raise ValueError(
                    f"`compartment` must be one of {self.compartments}, got {compartment!r}"
                )
            return self.compartments.index(compartment)
        if isinstance(compartment, bool) or not isinstance(compartment, int):
            raise ValueError(f"`compartment` must be a name or an index, got {compartment!r}")
        if not 0 <= compartment < self.num_compartments:
            raise ValueError(
                f"`compartment` must lie in [0, {self.num_compartments}), got {compartment}"
            )
        return compartment

    def sample(
        self,
        num_samples: int,
        *,
        generator: torch.Generator | None = None,
    ) -> LocalisationSample:
        """Draw ``num_samples`` proteins.

        Parameters
        ----------
        num_samples : int
            Number of proteins ``N >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible draws (the global one if ``None``).

        Returns
        -------
        LocalisationSample
            ``(inputs, labels, label_set)``, on the CPU.
        """
        inputs, label_set = self._sets.sample(num_samples, generator=generator)
        return LocalisationSample(inputs, self.label_sets[label_set].clone(), label_set)

    def label_set_posterior(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""The posterior :math:`p(S_l \mid x)` over label sets, shape ``(N, L)``.

        ``inputs`` has shape ``(N, d)``; the result is in its dtype and on its
        device.
        """
        return self._sets.posterior(inputs)

    def marginals(self, inputs: torch.Tensor) -> torch.Tensor:
        r"""The marginals :math:`P(y_k = 1 \mid x)`, shape ``(N, K)``.

        What a perfect model with one sigmoid per compartment would output.
        """
        posterior = self.label_set_posterior(inputs)
        return posterior @ self.label_sets.to(posterior)

    def pair_posterior(
        self,
        inputs: torch.Tensor,
        first: int | str,
        second: int | str,
    ) -> torch.Tensor:
        r"""The joint of two labels, :math:`P(y_i = a, y_j = b \mid x)`, shape ``(N, 4)``.

        Column :math:`2a + b` holds the probability of :math:`(y_i, y_j) = (a, b)`,
        so the columns are :math:`(0, 0), (0, 1), (1, 0), (1, 1)`, and
        ``2 * labels[:, i] + labels[:, j]`` indexes them.

        Parameters
        ----------
        inputs : torch.Tensor
            Shape ``(N, d)``.
        first, second : int or str
            Two different compartments :math:`i` and :math:`j`, by index or name.
        """
        i, j = self.index(first), self.index(second)
        if i == j:
            raise ValueError(f"`first` and `second` must differ, got {first!r} and {second!r}")
        posterior = self.label_set_posterior(inputs)
        sets = self.label_sets.to(posterior).long()
        cell = 2 * sets[:, i] + sets[:, j]  # (L,), the pair cell of each set
        one_hot = torch.nn.functional.one_hot(cell, 4).to(posterior)
        return posterior @ one_hot


def make_protein_localisation(
    *,
    compartments: Sequence[str] = COMPARTMENTS,
    dual_pairs: Sequence[tuple[str, str]] = DUAL_PAIRS,
    dual_fraction: float = 0.3,
    set_priors: torch.Tensor | None = None,
    signal: float | Sequence[float] = 3.0,
    features_per_compartment: int = 4,
    noise_features: int = 4,
    scale: float = 1.0,
    combine: str = "union",
    dtype: torch.dtype = torch.float32,
) -> ProteinLocalisation:
    r"""Proteins in one compartment or in a pair of them, with block signatures.

    The label sets are every single compartment, in the order of
    ``compartments``, followed by the pairs of ``dual_pairs``. Unless
    ``set_priors`` is given, the singles share probability
    :math:`1 - f` equally and the pairs share :math:`f` equally, where
    :math:`f` is ``dual_fraction``.

    Compartment :math:`k` owns a block of ``features_per_compartment``
    coordinates (think of the scores of its targeting motifs): its signature is
    :math:`s_k / \sqrt{b}` on each of the :math:`b` coordinates of its block and
    zero elsewhere, so :math:`\lVert \mu_k \rVert = s_k`, the ``signal`` of
    compartment :math:`k`. ``noise_features`` further coordinates carry no
    information. With ``combine="union"``, the mean of a block's coordinates,
    scaled by :math:`\sqrt{b}`, is :math:`\mathcal{N}(s_k, \sigma^2)` when
    :math:`k \in S` and :math:`\mathcal{N}(0, \sigma^2)` otherwise: ``signal /
    scale`` is the separation of "in" from "out", in noise standard deviations.

    Parameters
    ----------
    compartments : tuple of str, default ``COMPARTMENTS``
        Names of the :math:`K \ge 2` compartments, all different.
    dual_pairs : list of tuple of str, default ``DUAL_PAIRS``
        The allowed pairs, each a pair of names; may be empty.
    dual_fraction : float, default 0.3
        Share :math:`f \in [0, 1]` of dual-located proteins (ignored when
        ``set_priors`` is given; must be 0 when there are no pairs).
    set_priors : torch.Tensor, optional
        Explicit label-set probabilities, shape ``(K + P,)``: singles first,
        then pairs, in the order above.
    signal : float or list of float, default 3.0
        Signature norm :math:`s_k \ge 0`, one value for all compartments or one
        per compartment (0: a compartment with no targeting signal).
    features_per_compartment : int, default 4
        Block size :math:`b \ge 1`.
    noise_features : int, default 4
        Number of uninformative coordinates, :math:`\ge 0`.
    scale : float, default 1.0
        Noise standard deviation :math:`\sigma > 0`.
    combine : {"union", "mixture"}, default "union"
        Sum or mean of a pair's signatures.
    dtype : torch.dtype, default torch.float32
        Floating-point dtype of the signatures and of the samples.

    Returns
    -------
    ProteinLocalisation
        With ``d = K * features_per_compartment + noise_features``.

    Examples
    --------
    >>> problem = make_protein_localisation(features_per_compartment=1,
    ...                                     noise_features=0)
    >>> problem.compartments
    ('nucleus', 'cytoplasm', 'mitochondrion', 'membrane')
    >>> problem.label_sets
    tensor([[1., 0., 0., 0.],
            [0., 1., 0., 0.],
            [0., 0., 1., 0.],
            [0., 0., 0., 1.],
            [1., 1., 0., 0.],
            [0., 1., 1., 0.],
            [0., 1., 0., 1.]])
    >>> problem.priors
    tensor([0.1750, 0.1750, 0.1750, 0.1750, 0.1000, 0.1000, 0.1000])
    >>> problem.means[4]  # nucleus and cytoplasm: the union of both signatures
    tensor([3., 3., 0., 0.])
    """
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
    names = _check_names(compartments, None)
    num_compartments = len(names)
    pairs = _check_pairs(dual_pairs, names)
    check_positive_int(features_per_compartment, "features_per_compartment")
    if (
        isinstance(noise_features, bool)
        or not isinstance(noise_features, int)
        or (noise_features < 0)
    ):
        raise ValueError(f"`noise_features` must be an integer >= 0, got {noise_features!r}")
    strengths = _check_signal(signal, num_compartments)
    label_sets = torch.cat([torch.eye(num_compartments), torch.zeros(len(pairs), num_compartments)])
    for row, (i, j) in enumerate(pairs, start=num_compartments):
        label_sets[row, [i, j]] = 1.0
    if set_priors is None:
        check_unit_interval(dual_fraction, "dual_fraction")
        if not pairs and dual_fraction > 0:
            raise ValueError(
                f"`dual_fraction` must be 0 when `dual_pairs` is empty, got {dual_fraction}"
            )
        singles = torch.full((num_compartments,), (1 - dual_fraction) / num_compartments)
        duals = torch.full((len(pairs),), dual_fraction / max(len(pairs), 1))
        set_priors = torch.cat([singles.double(), duals.double()])
    else:
        check_tensor(set_priors, "set_priors")
        if tuple(set_priors.shape) != (len(label_sets),):
            raise ValueError(
                f"`set_priors` must have shape ({len(label_sets)},): {num_compartments} "
                f"singles then {len(pairs)} pairs, got {tuple(set_priors.shape)}"
            )
        check_distribution(set_priors.double(), "set_priors")
    block = features_per_compartment
    dim = num_compartments * block + noise_features
    signatures = torch.zeros(num_compartments, dim, dtype=torch.float64)
    for k, strength in enumerate(strengths):
        signatures[k, k * block : (k + 1) * block] = strength / block**0.5
    return ProteinLocalisation(
        signatures.to(dtype),
        label_sets,
        priors=set_priors.to(dtype),
        scale=scale,
        combine=combine,
        compartments=names,
    )


def _check_label_sets(label_sets: torch.Tensor, num_compartments: int) -> torch.Tensor:
    """Require distinct, non-empty 0/1 rows of length K; return them as float64."""
    check_tensor(label_sets, "label_sets")
    if label_sets.dim() != 2 or label_sets.shape[0] < 1 or label_sets.shape[1] != num_compartments:
        raise ValueError(
            f"`label_sets` must have shape (L, {num_compartments}) with L >= 1, "
            f"got {tuple(label_sets.shape)}"
        )
    sets = label_sets.detach().cpu().double()
    if not bool(((sets == 0) | (sets == 1)).all()):
        raise ValueError("`label_sets` must hold only zeros and ones")
    if bool((sets.sum(dim=1) == 0).any()):
        raise ValueError("`label_sets` must not contain an empty set (a row of zeros)")
    if torch.unique(sets, dim=0).shape[0] != sets.shape[0]:
        raise ValueError("`label_sets` must not contain the same set twice")
    return sets


def _check_names(names: Sequence[str], expected: int | None) -> tuple[str, ...]:
    """Require at least two distinct strings (exactly ``expected`` of them if given)."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(f"`compartments` must be a sequence of names, got {names!r}")
    names = tuple(names)
    if not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"`compartments` must hold non-empty strings, got {names!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"`compartments` must be distinct, got {names!r}")
    if expected is None and len(names) < 2:
        raise ValueError(f"`compartments` must name at least 2 compartments, got {names!r}")
    if expected is not None and len(names) != expected:
        raise ValueError(
            f"`compartments` must name {expected} compartments, one per row of "
            f"`signatures`, got {len(names)}"
        )
    return names


def _check_pairs(pairs: Sequence[tuple[str, str]], names: tuple[str, ...]) -> list[tuple[int, int]]:
    """Turn named pairs into index pairs; reject unknown names, self-pairs, repeats."""
    if isinstance(pairs, str) or not isinstance(pairs, Sequence):
        raise ValueError(f"`dual_pairs` must be a sequence of name pairs, got {pairs!r}")
    seen: set[frozenset[int]] = set()
    indices = []
    for pair in pairs:
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"`dual_pairs` must hold pairs of names, got {pair!r}")
        if any(name not in names for name in pair):
            raise ValueError(f"`dual_pairs` names a compartment not in {names}: {pair!r}")
        i, j = names.index(pair[0]), names.index(pair[1])
        if i == j:
            raise ValueError(f"`dual_pairs` must pair two different compartments, got {pair!r}")
        if frozenset((i, j)) in seen:
            raise ValueError(f"`dual_pairs` lists the pair {pair!r} twice")
        seen.add(frozenset((i, j)))
        indices.append((i, j))
    return indices


def _check_signal(signal: float | Sequence[float], num_compartments: int) -> list[float]:
    """One finite strength >= 0 per compartment."""
    if isinstance(signal, (int, float)) and not isinstance(signal, bool):
        strengths = [float(signal)] * num_compartments
    elif isinstance(signal, Sequence) and not isinstance(signal, str):
        if len(signal) != num_compartments:
            raise ValueError(
                f"`signal` must be a number or {num_compartments} numbers, one per "
                f"compartment, got {len(signal)}"
            )
        strengths = [float(s) for s in signal]
    else:
        raise ValueError(f"`signal` must be a number or a sequence of numbers, got {signal!r}")
    for strength in strengths:
        check_non_negative(strength, "signal")
    return strengths

r"""Synthetic DNA barcodes from several regions, and a k-mer featuriser.

A DNA barcode is a short, standardised stretch of DNA, proposed for identifying
species by :cite:t:`hebert2003`. Telling which of :math:`R` regions a specimen
comes from, given its barcode, needs a softmax over the regions and the usual
cross-entropy, the same machinery as predicting one next token.

:class:`BarcodeRegions` is a caricature of that setting whose Bayes posterior
is known exactly. Region :math:`r` writes its barcodes with its own first-order
Markov chain over the bases A, C, G, T (a regional base and dinucleotide
composition), so that

.. math::

    \log p(x \mid r) = \log \tfrac14 + \sum_{a, b} n_{ab}(x) \log P^{(r)}_{ab},

where :math:`n_{ab}(x)` counts the overlapping dinucleotides :math:`ab` in
:math:`x`. The Bayes posterior is therefore a softmax of an affine function of
the 2-mer counts that :func:`kmer_counts` computes: a linear softmax classifier
on those counts can represent it exactly. Real barcodes differ between regions
mostly by haplotype (point substitutions at particular sites), not by
composition; this generator keeps only the structure of the learning problem.
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
from .markov import ROW_SUM_ATOL, MarkovSource

#: The four bases, in the order of their token indices 0, 1, 2, 3.
BASES = "ACGT"

#: Largest k accepted by :func:`kmer_counts` (4**12, about 16.8 million columns).
MAX_K = 12


class BarcodeRegions:
    r"""Barcodes of fixed length from ``R`` regions, each a Markov chain over ACGT.

    A specimen's region :math:`r` is drawn from ``priors``; its barcode starts
    with a uniformly drawn base (the same for every region, so the first base
    carries no information) and continues with the region's transition matrix
    :math:`P^{(r)}`. The exact log-likelihoods give the Bayes posterior
    :math:`p(r \mid x) = \operatorname{softmax}_r(\log \pi_r + \log p(x \mid r))`,
    the best prediction any classifier can make.

    Parameters
    ----------
    transitions : torch.Tensor
        Shape ``(R, 4, 4)``: one row-stochastic, irreducible transition matrix
        per region, rows and columns in the order ``"ACGT"``.
    length : int
        Bases per barcode, ``>= 2``.
    priors : torch.Tensor, optional
        Region probabilities of shape ``(R,)``; uniform if ``None``.

    See Also
    --------
    make_barcode_regions : regions that perturb one shared composition.
    kmer_counts : the features a classifier sees.

    Examples
    --------
    >>> regions = make_barcode_regions(3, length=40, divergence=1.0,
    ...                                generator=torch.Generator().manual_seed(0))
    >>> barcodes, region = regions.sample(5, generator=torch.Generator().manual_seed(1))
    >>> barcodes.shape, region.shape
    (torch.Size([5, 40]), torch.Size([5]))
    >>> decode_barcodes(barcodes[:1])[0][:12]
    'ATCATATTACCC'
    >>> regions.posterior(barcodes).sum(1)
    tensor([1.0000, 1.0000, 1.0000, 1.0000, 1.0000], dtype=torch.float64)
    """

    def __init__(
        self,
        transitions: torch.Tensor,
        *,
        length: int,
        priors: torch.Tensor | None = None,
    ) -> None:
        check_floating(transitions, "transitions")
        check_finite(transitions, "transitions")
        if transitions.dim() != 3 or transitions.shape[1:] != (4, 4) or transitions.shape[0] < 1:
            raise ValueError(
                f"`transitions` must have shape (R, 4, 4) with R >= 1, "
                f"got {tuple(transitions.shape)}"
            )
        check_distribution(transitions, "transitions", dim=2, atol=ROW_SUM_ATOL)
        check_positive_int(length, "length")
        if length < 2:
            raise ValueError(f"`length` must be >= 2, got {length}")
        num_regions = transitions.shape[0]
        if priors is None:
            priors = torch.full((num_regions,), 1.0 / num_regions, dtype=torch.float64)
        check_floating(priors, "priors")
        if tuple(priors.shape) != (num_regions,):
            raise ValueError(
                f"`priors` must have shape ({num_regions},) to match `transitions`, "
                f"got {tuple(priors.shape)}"
            )
        check_distribution(priors, "priors", atol=ROW_SUM_ATOL)
        uniform = torch.full((4,), 0.25, dtype=transitions.dtype)
        self.sources = [
            MarkovSource(matrix, initial=uniform, alphabet=BASES) for matrix in transitions
        ]
        self.transitions = torch.stack([source.transition for source in self.sources])
        self.length = length
        self.priors = priors.detach().cpu().double().clone()

    @property
    def num_regions(self) -> int:
        """Number of regions :math:`R`."""
        return self.transitions.shape[0]

    def __repr__(self) -> str:
        return f"BarcodeRegions(num_regions={self.num_regions}, length={self.length})"

    def sample(
        self,
        num_samples: int,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw labelled barcodes.

        Parameters
        ----------
        num_samples : int
            Number of specimens ``N >= 1``.
        generator : torch.Generator, optional
            A CPU generator for reproducible draws (the global one if ``None``).

        Returns
        -------
        barcodes : torch.Tensor
            ``int64`` bases (0 = A, 1 = C, 2 = G, 3 = T) of shape ``(N, length)``,
            on the CPU.
        regions : torch.Tensor
            ``int64`` region indices of shape ``(N,)``.
        """
        check_positive_int(num_samples, "num_samples")
        regions = torch.multinomial(self.priors, num_samples, replacement=True, generator=generator)
        barcodes = torch.empty(num_samples, self.length, dtype=torch.int64)
        for r, source in enumerate(self.sources):
            rows = (regions == r).nonzero().squeeze(1)
            if rows.numel():
                barcodes[rows] = source.sample(rows.numel(), self.length, generator=generator)
        return barcodes, regions

    def log_likelihood(self, barcodes: torch.Tensor) -> torch.Tensor:
        r"""Exact :math:`\log p(x \mid r)` for every barcode and region.

        Parameters
        ----------
        barcodes : torch.Tensor
            Integer bases in ``[0, 4)``, shape ``(N, L)`` with ``L >= 1``.

        Returns
        -------
        torch.Tensor
            Shape ``(N, R)``, float64, on the device of ``barcodes``.
        """
        _check_barcodes(barcodes)
        return torch.stack([source.log_prob(barcodes) for source in self.sources], dim=1)

    def posterior_logits(self, barcodes: torch.Tensor) -> torch.Tensor:
        r"""Logits of the Bayes posterior, :math:`\log \pi_r + \log p(x \mid r)`.

        Returns
        -------
        torch.Tensor
            Shape ``(N, R)``, float64, on the device of ``barcodes``.
        """
        log_likelihood = self.log_likelihood(barcodes)
        return log_likelihood + self.priors.to(log_likelihood.device).log()

    def posterior(self, barcodes: torch.Tensor) -> torch.Tensor:
        r"""The Bayes posterior :math:`p(r \mid x)`, shape ``(N, R)``, float64."""
        return torch.softmax(self.posterior_logits(barcodes), dim=1)


def make_barcode_regions(
    num_regions: int,
    *,
    length: int = 150,
    divergence: float = 0.3,
    priors: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> BarcodeRegions:
    r"""Regions whose base compositions are random perturbations of one shared chain.

    A shared transition matrix :math:`P^{(0)}` has rows
    :math:`\operatorname{softmax}(g_a)`, :math:`g_a \sim \mathcal{N}(0, I_4)`;
    region :math:`r` uses

    .. math::

        P^{(r)}_{a\cdot} = \operatorname{softmax}\bigl(\log P^{(0)}_{a\cdot}
        + \delta\, h^{(r)}_a\bigr), \qquad h^{(r)}_a \sim \mathcal{N}(0, I_4),

    so the divergence :math:`\delta` sets how far the regions drift apart:
    :math:`\delta = 0` makes them indistinguishable, a large :math:`\delta`
    makes every barcode easy to place. Longer barcodes are easier too.

    Parameters
    ----------
    num_regions : int
        Number of regions :math:`R \ge 2`.
    length : int, default 150
        Bases per barcode, ``>= 2``.
    divergence : float, default 0.3
        Scale :math:`\delta \ge 0` of the regional perturbations.
    priors : torch.Tensor, optional
        Region probabilities of shape ``(R,)``; uniform if ``None``.
    generator : torch.Generator, optional
        A CPU generator for reproducible regions (the global one if ``None``).

    Returns
    -------
    BarcodeRegions

    Examples
    --------
    >>> regions = make_barcode_regions(4, generator=torch.Generator().manual_seed(0))
    >>> regions.transitions.shape
    torch.Size([4, 4, 4])
    >>> make_barcode_regions(2, divergence=0.0).transitions.diff(dim=0).abs().max().item()
    0.0
    """
    check_positive_int(num_regions, "num_regions")
    if num_regions < 2:
        raise ValueError(f"`num_regions` must be >= 2, got {num_regions}")
    check_non_negative(divergence, "divergence")
    shared = torch.randn(4, 4, generator=generator, dtype=torch.float64).log_softmax(1)
    shifts = torch.randn(num_regions, 4, 4, generator=generator, dtype=torch.float64)
    transitions = torch.softmax(shared + float(divergence) * shifts, dim=2)
    return BarcodeRegions(transitions, length=length, priors=priors)


def kmer_counts(
    barcodes: torch.Tensor,
    k: int,
    *,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    r"""Counts of the overlapping k-mers of each barcode.

    Column :math:`c` counts the k-mer whose bases :math:`b_1 \dots b_k` (0 = A,
    1 = C, 2 = G, 3 = T) satisfy :math:`c = \sum_{j=1}^k b_j 4^{k-j}`, i.e. the
    k-mers in lexicographic order ``AA..A, AA..C, ..., TT..T`` (see
    :func:`kmer_names`). A barcode of length :math:`L` has :math:`L - k + 1`
    k-mers, so every row sums to that number.

    Parameters
    ----------
    barcodes : torch.Tensor
        Integer bases in ``[0, 4)``, shape ``(N, L)``.
    k : int
        k-mer length, ``1 <= k <= min(L, 12)``.
    dtype : torch.dtype, optional
        Floating-point dtype of the counts (PyTorch's default if ``None``), ready
        to be used as features.

    Returns
    -------
    torch.Tensor
        Shape ``(N, 4**k)``, on the device of ``barcodes``.

    Examples
    --------
    >>> counts = kmer_counts(encode_barcodes(["ACGTA", "AAAAA"]), 2)
    >>> [dict((n, int(c)) for n, c in zip(kmer_names(2), row) if c) for row in counts]
    [{'AC': 1, 'CG': 1, 'GT': 1, 'TA': 1}, {'AA': 4}]
    """
    _check_barcodes(barcodes)
    check_positive_int(k, "k")
    length = barcodes.shape[1]
    if k > min(length, MAX_K):
        raise ValueError(
            f"`k` must be <= min(barcode length, {MAX_K}) = {min(length, MAX_K)}, got {k}"
        )
    if dtype is None:
        dtype = torch.get_default_dtype()
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"`dtype` must be a floating-point torch.dtype, got {dtype!r}")
    bases = barcodes.long()
    windows = length - k + 1
    codes = torch.zeros(bases.shape[0], windows, dtype=torch.int64, device=bases.device)
    for j in range(k):
        codes = codes * 4 + bases[:, j : j + windows]
    counts = torch.zeros(bases.shape[0], 4**k, dtype=dtype, device=bases.device)
    return counts.scatter_add_(1, codes, torch.ones_like(codes, dtype=dtype))


def kmer_names(k: int) -> list[str]:
    """The ``4**k`` k-mers in the column order of :func:`kmer_counts`.

    Examples
    --------
    >>> kmer_names(2)[:5]
    ['AA', 'AC', 'AG', 'AT', 'CA']
    """
    check_positive_int(k, "k")
    if k > MAX_K:
        raise ValueError(f"`k` must be <= {MAX_K}, got {k}")
    names = [""]
    for _ in range(k):
        names = [name + base for name in names for base in BASES]
    return names


def encode_barcodes(sequences: list[str]) -> torch.Tensor:
    """Turn equal-length strings over ``"ACGT"`` into ``int64`` bases of shape ``(N, L)``.

    Examples
    --------
    >>> encode_barcodes(["ACGT", "TTGA"])
    tensor([[0, 1, 2, 3],
            [3, 3, 2, 0]])
    """
    if isinstance(sequences, str) or not isinstance(sequences, (list, tuple)) or not sequences:
        raise ValueError("`sequences` must be a non-empty list of strings")
    if not all(isinstance(s, str) for s in sequences):
        raise ValueError("`sequences` must hold strings only")
    lengths = {len(s) for s in sequences}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(
            f"`sequences` must be non-empty and of equal length, got lengths {sorted(lengths)}"
        )
    unknown = sorted(set("".join(sequences)) - set(BASES))
    if unknown:
        raise ValueError(f"`sequences` may hold only the bases {BASES!r}, found {unknown!r}")
    index = {base: i for i, base in enumerate(BASES)}
    return torch.tensor([[index[b] for b in s] for s in sequences], dtype=torch.int64)


def decode_barcodes(barcodes: torch.Tensor) -> list[str]:
    """Turn bases of shape ``(N, L)`` back into strings over ``"ACGT"``.

    Examples
    --------
    >>> decode_barcodes(torch.tensor([[0, 1, 2, 3], [3, 3, 2, 0]]))
    ['ACGT', 'TTGA']
    """
    _check_barcodes(barcodes)
    return ["".join(BASES[b] for b in row) for row in barcodes.tolist()]


def _check_barcodes(barcodes: torch.Tensor) -> None:
    check_tensor(barcodes, "barcodes")
    if barcodes.dim() != 2 or barcodes.shape[1] < 1:
        raise ValueError(
            f"`barcodes` must have shape (N, L) with L >= 1, got {tuple(barcodes.shape)}"
        )
    if barcodes.is_floating_point() or barcodes.is_complex() or barcodes.dtype == torch.bool:
        raise ValueError(f"`barcodes` must hold integer bases, got dtype {barcodes.dtype}")
    if barcodes.numel():
        low, high = int(barcodes.min()), int(barcodes.max())
        if low < 0 or high > 3:
            raise ValueError(
                f"`barcodes` must hold bases in [0, 4), found values in [{low}, {high}]"
            )

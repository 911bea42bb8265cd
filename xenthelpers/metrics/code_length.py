r"""Cross-entropy as a code length: labels written to a file by a range coder.

:cite:t:`shannon1948` showed that an outcome of probability :math:`q` can be given a
code word of about :math:`-\log_2 q` bits, and arithmetic or range coding
reaches that length for a whole message to within a few bits. So the labels
:math:`y_1, \dots, y_N` of a data set, coded with a classifier's predicted
distributions :math:`q(\cdot \mid x_i)`, fit in a file of about

.. math::

    L = \sum_{i=1}^N -\log_2 q(y_i \mid x_i) \ \text{bits},

the classifier's summed cross-entropy in bits. The coder here is the range
coder of the ``constriction`` library :cite:p:`bamler2022`, with its
``Categorical(perfect=False)`` model.

**The coder's model.** An entropy coder needs exact integer arithmetic, so
constriction replaces each row :math:`p` of ``probs`` (normalised by its sum
:math:`S_K`) by integers :math:`m_k \ge 1` that sum to :math:`2^{24}`, and
codes with :math:`\tilde q_k = m_k / 2^{24}`. With partial sums
:math:`S_k = p_0 + \dots + p_{k-1}`, the integer cumulative table is
:math:`C_k = \lfloor S_k (2^{24} - K) / S_K \rfloor + k` for :math:`k < K` and
:math:`C_K = 2^{24}`, and :math:`m_k = C_{k+1} - C_k`:
every class keeps one unit and shares the remaining :math:`2^{24} - K` in
proportion to its probability, rounded down. Two consequences
(:func:`quantise_probs` computes :math:`\tilde q`):

- :math:`\tilde q_k \ge 2^{-24}`: no label ever costs more than 24 bits, however
  small its predicted probability, even zero;
- :math:`\tilde q_k \ge (1 - K 2^{-24})\, q_k`: no label costs more than
  :math:`\kappa_K = -\log_2(1 - K 2^{-24})` bits above :math:`-\log_2 q_k`
  (:math:`8.6 \times 10^{-7}` bits for :math:`K = 10`), up to the float64
  rounding of the partial sums.

Between the two, :math:`\tilde q` and :math:`q` agree closely only where
:math:`q_k \gg 2^{-24}`: a confidently wrong prediction, :math:`q_y \ll 2^{-24}`,
costs its 24 bits in the file but far more in the cross-entropy.

**The coder's overhead.** Write :math:`\tilde L = \sum_i -\log_2 \tilde q(y_i
\mid x_i)` and :math:`B` for the length of the file in bits. The range coder
keeps a 64-bit state whose range :math:`r` never falls below :math:`2^{32}`, and
emits 32-bit words. Coding one label narrows the range to
:math:`\lfloor r / 2^{24} \rfloor m_y` instead of :math:`r\, m_y / 2^{24}`, a
relative loss below :math:`2^{24} / r \le 2^{-8}`; at the end one or two words
pin down a point of the final interval, and the file is whole words. Together

.. math::

    \tilde L \;\le\; B \;<\; \tilde L + 64 + N\delta,
    \qquad \delta = -\log_2(1 - 2^{-8}) \approx 0.0056,

which :func:`coding_overhead_bits` returns as :math:`64 + N\delta` (the
per-label term is a worst case; typically :math:`r \gg 2^{32}` and the loss is
far smaller). Decoding with the same ``probs`` gives the labels back exactly.

constriction comes with the book's extra (``pip install 'xenthelpers[book]'``)
and is imported only when a function here needs it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .._reduction import Reduction, reduce_loss
from .._validation import (
    check_class_indices_shape,
    check_index_dtype,
    check_reduction,
    check_row_shape,
    check_scalar,
    class_indices_hold,
    distribution_holds,
    run_deferred,
)

__all__ = [
    "quantise_probs",
    "code_length_bits",
    "encode_labels",
    "decode_labels",
    "coding_overhead_bits",
]

#: Bits of precision of constriction's default categorical model: probabilities
#: are multiples of ``2**-PRECISION``.
PRECISION = 24
#: Bits per word of constriction's default range coder, and of its state.
WORD_BITS = 32
STATE_BITS = 64
_UNITS = 1 << PRECISION


def quantise_probs(probs: torch.Tensor, *, validate_args: bool = True) -> torch.Tensor:
    r"""The probabilities :math:`\tilde q` that the range coder actually codes with.

    constriction's ``Categorical(perfect=False)`` model turns each row of
    ``probs`` into integers :math:`m_k \ge 1` summing to :math:`2^{24}`:

    .. math::

        C_k = \Big\lfloor S_k\, \frac{2^{24} - K}{S_K} \Big\rfloor + k \quad (k < K),
        \qquad C_K = 2^{24},
        \qquad \tilde q_k = \frac{C_{k+1} - C_k}{2^{24}},

    with :math:`S_k` the sum of the first :math:`k` entries of the row. This
    function repeats that computation in float64, as constriction does for
    float64 input, so :math:`\tilde q` is exact (the tests compare it with the
    intervals constriction's decoder uses). It satisfies
    :math:`\tilde q_k \ge 2^{-24}` and :math:`\tilde q_k \ge (1 - K 2^{-24})\, q_k`
    for rows :math:`q` that sum to one. See the module docstring.

    Parameters
    ----------
    probs : torch.Tensor
        Probability rows of shape ``(N, K)``, ``2 <= K < 2**24 - 1``; a row
        is normalised by its sum, so rows only need to sum to one within
        ``1e-4``.
    validate_args : bool, default True
        Check that ``probs`` holds probability rows (one read from the device).

    Returns
    -------
    torch.Tensor
        :math:`\tilde q`, float64 of shape ``(N, K)`` on the device of ``probs``;
        every entry is a multiple of :math:`2^{-24}`.

    Examples
    --------
    >>> probs = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], dtype=torch.float64)
    >>> units = quantise_probs(probs) * 2**24
    >>> units.long()  # a zero keeps one unit; each row sums to 2**24
    tensor([[8388607, 8388608,       1],
            [3355443, 5033165, 8388608]])
    """
    _check_probs(probs, validate_args)
    return _quantised_units(probs).to(torch.float64) / _UNITS


def code_length_bits(
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    quantised: bool = False,
    reduction: Reduction = "sum",
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Code length of the labels in bits, :math:`\sum_i -\log_2 q(y_i \mid x_i)`.

    With ``quantised=False`` this is the ideal code length :math:`L`, the
    summed cross-entropy in bits (``F.cross_entropy`` in nats divided by
    :math:`\ln 2`), which is infinite when a label has probability zero. With
    ``quantised=True`` it is :math:`\tilde L`, computed with the coder's
    probabilities :math:`\tilde q` (:func:`quantise_probs`); a file written by
    :func:`encode_labels` has between :math:`\tilde L` and
    :math:`\tilde L + 64 + N\delta` bits (:func:`coding_overhead_bits`). See
    :cite:t:`shannon1948`.

    Parameters
    ----------
    probs : torch.Tensor
        Probability rows of shape ``(N, K)`` with ``K >= 2``.
    target : torch.Tensor
        Class indices of shape ``(N,)``.
    quantised : bool, default False
        Use the coder's probabilities :math:`\tilde q` instead of ``probs``.
    reduction : {"sum", "mean", "none"}, default "sum"
        Total bits, bits per label, or the ``(N,)`` per-label costs.
    validate_args : bool, default True
        Check the values of ``probs`` and ``target`` (one read from the device).

    Returns
    -------
    torch.Tensor
        float64, 0-dim or shape ``(N,)``.

    Examples
    --------
    >>> probs = torch.tensor([[0.5, 0.25, 0.25], [0.125, 0.875, 0.0]], dtype=torch.float64)
    >>> code_length_bits(probs, torch.tensor([1, 0]), reduction="none")
    tensor([2., 3.], dtype=torch.float64)
    >>> code_length_bits(probs, torch.tensor([2, 2]), reduction="none", quantised=True)
    tensor([ 2.0000, 24.0000], dtype=torch.float64)
    """
    check_reduction(reduction)
    if not isinstance(quantised, bool):
        raise ValueError(f"`quantised` must be True or False, got {quantised!r}")
    _check_probs_and_target(probs, target, validate_args)
    index = target.long().to(probs.device).unsqueeze(1)
    if quantised:
        units = _quantised_units(probs).gather(1, index).squeeze(1)
        bits = PRECISION - torch.log2(units.to(torch.float64))
    else:
        rows = probs.detach().to(torch.float64)
        bits = -torch.log2(rows.gather(1, index).squeeze(1))
    return reduce_loss(bits, reduction)


def encode_labels(probs: torch.Tensor, target: torch.Tensor) -> bytes:
    r"""Write the labels ``target`` with a range coder that uses the model ``probs``.

    Label :math:`i` is coded with the distribution in row :math:`i` of
    ``probs``, quantised as :func:`quantise_probs` describes, by constriction's
    ``RangeEncoder``. The result is the compressed message as little-endian
    32-bit words: write it to a file as it is. Its length in bits, ``8 *
    len(data)``, lies in :math:`[\tilde L, \tilde L + 64 + N\delta)` with
    :math:`\tilde L` = ``code_length_bits(probs, target, quantised=True)`` (see
    the module docstring).

    Parameters
    ----------
    probs : torch.Tensor
        Probability rows of shape ``(N, K)`` with ``K >= 2``; any device (they are
        copied to the host in float64).
    target : torch.Tensor
        Class indices of shape ``(N,)``.

    Returns
    -------
    bytes
        The compressed labels, a whole number of 4-byte words.

    Raises
    ------
    ImportError
        If constriction is not installed.

    Examples
    --------
    >>> probs = torch.full((100, 4), 0.25, dtype=torch.float64)
    >>> labels = torch.arange(100) % 4
    >>> data = encode_labels(probs, labels)  # 2 bits per label, plus the end
    >>> 8 * len(data), code_length_bits(probs, labels).item()
    (224, 200.0)
    >>> torch.equal(decode_labels(data, probs), labels)
    True
    """
    _check_probs_and_target(probs, target, validate_args=True)
    constriction = _import_constriction()
    encoder = constriction.stream.queue.RangeEncoder()
    encoder.encode(
        np.ascontiguousarray(target.detach().cpu().numpy(), dtype=np.int32),
        constriction.stream.model.Categorical(perfect=False),
        _host_rows(probs),
    )
    words = np.asarray(encoder.get_compressed(), dtype=np.uint32)
    return words.astype("<u4").tobytes()


def decode_labels(data: bytes, probs: torch.Tensor) -> torch.Tensor:
    r"""Read labels back from ``data`` written by :func:`encode_labels`.

    Row :math:`i` of ``probs`` must be the row the label was coded with: the
    same numbers give the same quantised model, and the decoder then recovers
    every label exactly. Different rows give wrong labels without an error (a
    range coder cannot tell). Range coding is first in, first out, so
    ``probs`` may cover only the first :math:`n` labels of a longer message;
    those are decoded and the rest is left unread, which is how a receiver
    decodes a message block by block when each block's model depends on the
    labels before it.

    Parameters
    ----------
    data : bytes
        The compressed labels, little-endian 32-bit words.
    probs : torch.Tensor
        Probability rows of shape ``(n, K)`` with ``K >= 2``, one per label to read.

    Returns
    -------
    torch.Tensor
        int64 class indices of shape ``(n,)`` on the device of ``probs``.

    Raises
    ------
    ImportError
        If constriction is not installed.

    Examples
    --------
    >>> probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], dtype=torch.float64)
    >>> data = encode_labels(probs, torch.tensor([0, 1, 1]))
    >>> decode_labels(data, probs), decode_labels(data, probs[:2])
    (tensor([0, 1, 1]), tensor([0, 1]))
    """
    if not isinstance(data, bytes | bytearray):
        raise ValueError(f"`data` must be bytes, got {type(data).__name__}")
    if len(data) % 4:
        raise ValueError(f"`data` must hold whole 4-byte words, got {len(data)} bytes")
    _check_probs(probs, validate_args=True)
    constriction = _import_constriction()
    words = np.frombuffer(bytes(data), dtype="<u4").astype(np.uint32)
    decoder = constriction.stream.queue.RangeDecoder(words)
    labels = decoder.decode(constriction.stream.model.Categorical(perfect=False), _host_rows(probs))
    return torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(probs.device)


def coding_overhead_bits(num_labels: int) -> float:
    r"""Upper bound on the range coder's bits beyond :math:`\tilde L`: :math:`64 + N\delta`.

    A file written by :func:`encode_labels` for :math:`N` labels has fewer than
    :math:`\tilde L + 64 + N\delta` bits, :math:`\delta = -\log_2(1 - 2^{-8})`:
    two 32-bit words at the end of the message, and at most :math:`\delta` bits per
    label lost to integer division in a range of at least :math:`2^{32}` (see the
    module docstring).

    Parameters
    ----------
    num_labels : int
        :math:`N \ge 0`.

    Returns
    -------
    float
        The bound in bits.

    Examples
    --------
    >>> round(coding_overhead_bits(1000), 2)
    69.65
    """
    check_scalar(num_labels, "num_labels", integer=True, min_val=0)
    # The range never falls below 2**(STATE_BITS - WORD_BITS) = 2**32 before a label is
    # coded, so integer division by 2**PRECISION loses less than a fraction 2**-8 of it.
    per_label = -math.log2(1 - 2.0 ** (PRECISION - (STATE_BITS - WORD_BITS)))
    return 2 * WORD_BITS + num_labels * per_label


def _quantised_units(probs: torch.Tensor) -> torch.Tensor:
    """The integers m_k of constriction's ``perfect=False`` model, int64 ``(N, K)``."""
    rows = probs.detach().to(torch.float64)
    num_classes = rows.shape[1]
    # Sequential partial sums, as constriction forms them (cumsum adds left to right).
    right = torch.cumsum(rows, dim=1)
    left = torch.cat([torch.zeros_like(right[:, :1]), right[:, :-1]], dim=1)
    scale = float(_UNITS - num_classes) / right[:, -1:]
    offsets = torch.arange(num_classes, device=rows.device)
    cumulative = torch.floor(left * scale).long() + offsets
    top = torch.full_like(cumulative[:, :1], _UNITS)
    return torch.cat([cumulative[:, 1:], top], dim=1) - cumulative


def _host_rows(probs: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(probs.detach().to("cpu", torch.float64).numpy())


def _check_probs(probs: torch.Tensor, validate_args: bool) -> None:
    check_row_shape(probs, "probs")
    if not 2 <= probs.shape[1] < _UNITS - 1:
        raise ValueError(f"`probs` must have between 2 and 2**24 - 2 classes, got {probs.shape[1]}")
    if validate_args:
        run_deferred(distribution_holds(probs, "probs", dim=1))


def _check_probs_and_target(probs: torch.Tensor, target: torch.Tensor, validate_args: bool) -> None:
    _check_probs(probs, validate_args=False)
    check_index_dtype(target, "target")
    check_class_indices_shape(target, probs.shape[0])
    if validate_args:
        run_deferred(
            distribution_holds(probs, "probs", dim=1),
            class_indices_hold(target, probs.shape[1], "target"),
        )


def _import_constriction() -> Any:
    try:
        import constriction  # type: ignore[import-untyped]
    except ModuleNotFoundError as missing:  # the package alone does not install it
        raise ImportError(
            "xenthelpers.metrics.code_length needs constriction, which comes with the "
            "book's extra: pip install 'xenthelpers[book]' (or pip install constriction)"
        ) from missing
    return constriction

"""Language-model metrics: perplexity and bits per character."""

from __future__ import annotations

import math
from typing import overload

import torch
import torch.nn.functional as F

from .._validation import (
    check_floating,
    check_index_dtype,
    check_scalar,
    class_indices_hold,
    finite_holds,
    non_negative_holds,
    run_deferred,
    scored_positions_hold,
)


def perplexity(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    ignore_index: int = -100,
    validate_args: bool = True,
) -> torch.Tensor:
    r"""Perplexity: the exponential of the mean token cross-entropy.

    .. math::

        \mathrm{PPL} = \exp\Big(-\frac{1}{T} \sum_{t=1}^T \log p(x_t \mid x_{<t})\Big),

    the average over the :math:`T` scored tokens (those whose target is not
    ``ignore_index``). A model that spreads its mass uniformly over a
    vocabulary of :math:`V` tokens has perplexity :math:`V`: perplexity is the
    effective number of equally likely choices per token
    :cite:p:`jelinek1977`.

    Unlike ``F.cross_entropy``, the vocabulary is the
    **last** dimension, the layout language models produce: ``logits`` of
    shape ``(B, S, V)`` go with ``target`` of shape ``(B, S)``. The value can
    overflow to ``inf`` when the mean cross-entropy exceeds the dtype's range
    (about 88 nats in float32).

    Parameters
    ----------
    logits : torch.Tensor
        Unnormalised scores of shape ``(..., V)``.
    target : torch.Tensor
        Token indices of shape ``(...)``, values in ``[0, V)`` or
        ``ignore_index``.
    ignore_index : int, default -100
        Target value that marks padding; such positions are not scored.
    validate_args : bool, default True
        Check the values of the inputs (finite logits, token indices in
        range, at least one position scored), reading them back from the
        device once. ``False`` skips these checks: the call then never
        synchronises with an accelerator and runs on the ``meta`` device; a
        ``target`` with every position ignored then gives NaN, and an index
        out of range fails inside ``F.cross_entropy`` (on CUDA, as a
        device-side assert). Shapes and dtypes are always checked.

    Returns
    -------
    torch.Tensor
        A 0-dim tensor in ``logits``'s dtype.

    Examples
    --------
    >>> perplexity(torch.zeros(2, 3, 50), torch.randint(50, (2, 3)))
    tensor(50.0000)
    >>> logits = torch.tensor([[[2.0, 0.0], [0.0, 2.0], [5.0, 5.0]]])
    >>> perplexity(logits, torch.tensor([[0, 1, -100]]))  # the last token is padding
    tensor(1.1353)
    """
    vocabulary = _check_token_shapes(logits, target)
    check_scalar(ignore_index, "ignore_index", integer=True)
    if validate_args:
        run_deferred(
            finite_holds(logits, "logits"),
            class_indices_hold(target, vocabulary, "target", ignore_index=ignore_index),
            scored_positions_hold(target, ignore_index),
        )
    mean_nats = F.cross_entropy(
        logits.reshape(-1, vocabulary),
        target.reshape(-1).long(),
        ignore_index=ignore_index,
    )
    return mean_nats.exp()


@overload
def bits_per_character(
    total_nats: float, num_characters: int, *, validate_args: bool = True
) -> float: ...


@overload
def bits_per_character(
    total_nats: torch.Tensor, num_characters: int, *, validate_args: bool = True
) -> torch.Tensor: ...


def bits_per_character(
    total_nats: float | torch.Tensor, num_characters: int, *, validate_args: bool = True
) -> float | torch.Tensor:
    r"""Convert a summed negative log-likelihood in nats to bits per character.

    .. math::

        \mathrm{BPC} = \frac{\text{total nats}}{n_\text{chars} \ln 2}.

    Use the sum of the token losses over a text (e.g.
    ``F.cross_entropy(..., reduction="sum")``) and the number of characters
    of that text, so that models with different tokenisers compare on the
    same footing. A character-level model's mean loss ``L`` in nats gives
    ``L / ln 2`` bits per character :cite:p:`graves2013`.

    Parameters
    ----------
    total_nats : float or torch.Tensor
        Summed negative log-likelihood in nats, a finite number >= 0 (a Python
        number or a 0-dim tensor).
    num_characters : int
        Number of characters in the scored text, >= 1.
    validate_args : bool, default True
        For a tensor ``total_nats``, check that it is finite and >= 0, reading
        it back from the device once. ``False`` skips that check: the call then
        never synchronises with an accelerator and runs on the ``meta``
        device. A Python number, and the shape and dtype of a tensor, are
        always checked.

    Returns
    -------
    float or torch.Tensor
        A float for a number, a 0-dim tensor (gradient preserved) for a tensor.

    Examples
    --------
    >>> bits_per_character(1000 * math.log(2), 1000)
    1.0
    >>> bits_per_character(torch.tensor(693.1472), 500)
    tensor(2.0000)
    """
    _check_total_nats(total_nats)
    check_scalar(num_characters, "num_characters", integer=True, min_val=1)
    if validate_args and isinstance(total_nats, torch.Tensor):
        run_deferred(non_negative_holds(total_nats, "total_nats"))
    return total_nats / (num_characters * math.log(2))


def _check_total_nats(total_nats: float | torch.Tensor) -> None:
    """The metadata part: a finite number >= 0, or a floating 0-dim tensor."""
    if not isinstance(total_nats, torch.Tensor):
        check_scalar(total_nats, "total_nats", min_val=0.0, max_val=math.inf, include_max=False)
        return
    check_floating(total_nats, "total_nats")
    if total_nats.dim() != 0:
        raise ValueError(
            f"`total_nats` must be a number or a 0-dim tensor, got shape {tuple(total_nats.shape)}"
        )


def _check_token_shapes(logits: torch.Tensor, target: torch.Tensor) -> int:
    """Check dtypes and shapes, vocabulary last; return the vocabulary size ``V``."""
    check_floating(logits, "logits")
    check_index_dtype(target, "target")
    if logits.dim() < 1 or logits.shape[-1] < 1:
        raise ValueError(
            f"`logits` must have shape (..., V) with V >= 1, got {tuple(logits.shape)}"
        )
    if tuple(target.shape) != tuple(logits.shape[:-1]):
        raise ValueError(
            f"`target` must have shape {tuple(logits.shape[:-1])} to match `logits` of shape "
            f"{tuple(logits.shape)} (vocabulary last), got {tuple(target.shape)}"
        )
    return logits.shape[-1]

"""InfoNCE: contrastive learning as classification of the positive among negatives."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._reduction import Reduction, reduce_loss
from .._validation import (
    check_flag,
    check_matrix,
    check_reduction,
    check_scalar,
    result_finite_holds,
    run_deferred,
)
from ._module import LossModule


def info_nce(
    queries: torch.Tensor,
    keys: torch.Tensor,
    *,
    temperature: float = 0.1,
    normalize: bool = True,
    reduction: Reduction = "mean",
    validate_args: bool = True,
) -> torch.Tensor:
    r"""InfoNCE loss with in-batch negatives.

    Row :math:`i` of ``keys`` is the positive for row :math:`i` of
    ``queries``; the other :math:`N - 1` rows of ``keys`` are its negatives.
    With the similarity logits :math:`s_{ij} = \langle u_i, v_j \rangle / \tau`
    (cosine similarities when ``normalize`` is true, dot products otherwise),
    each query contributes the cross-entropy of picking its own key,

    .. math::

        \ell_i = -\log \frac{\exp(s_{ii})}{\sum_{j=1}^{N} \exp(s_{ij})}
               = \mathrm{CE}\bigl(s_{i\cdot},\, i\bigr).

    Minimising the mean loss maximises a lower bound on the mutual
    information between queries and keys,
    :math:`I(U; V) \ge \log N - \mathbb{E}[\ell]`.

    Parameters
    ----------
    queries : Tensor
        Query embeddings, shape ``(N, d)``.
    keys : Tensor
        Key embeddings, shape ``(N, d)``, same dtype as ``queries``; row ``i``
        is the positive for query ``i``.
    temperature : float, default 0.1
        Temperature :math:`\tau > 0` that divides the similarities.
    normalize : bool, default True
        Scale the rows to unit length first (cosine similarity). A zero row
        stays zero (``torch.nn.functional.normalize``).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the loss of each query, shape ``(N,)``; ``"sum"``
        adds them up; ``"mean"`` averages them (NaN for an empty batch, as for
        ``torch.nn.functional.cross_entropy``).
    validate_args : bool, default True
        Check that the loss of every query is finite (which rules out NaN and
        infinite embeddings, and reports an overflow), reading it back from the
        device once. ``False`` skips this check: the call then never
        synchronises with an accelerator and ``torch.compile`` traces it without
        a graph break. Shapes, dtypes and options are always checked.

    Returns
    -------
    Tensor
        A scalar, or the per-query losses for ``reduction="none"``.

    Notes
    -----
    With ``normalize=True`` and temperature :math:`\tau`, the logits lie in
    :math:`[-1/\tau, 1/\tau]`, so every loss is at most
    :math:`2/\tau + \log N`. With ``normalize=False`` large embeddings may
    overflow; a non-finite loss raises a ``ValueError`` (unless ``validate_args``
    is false).

    References
    ----------
    :cite:t:`oord2018`.

    Examples
    --------
    >>> import torch
    >>> queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> info_nce(queries, queries, temperature=1.0, reduction="none")
    tensor([0.3133, 0.3133])
    >>> info_nce(queries, queries.flip(0), temperature=1.0, reduction="none")
    tensor([1.3133, 1.3133])
    """
    check_matrix(queries, "queries", "(N, d)")
    check_matrix(keys, "keys", "(N, d)")
    if keys.shape != queries.shape:
        raise ValueError(
            f"`keys` must have the shape of `queries` {tuple(queries.shape)} (one positive "
            f"per query), got {tuple(keys.shape)}"
        )
    if keys.dtype != queries.dtype:
        raise ValueError(
            f"`keys` must have the dtype of `queries` ({queries.dtype}), got {keys.dtype}"
        )
    _check_options(temperature, normalize, reduction)

    inputs = {"queries": queries, "keys": keys}
    if normalize:
        queries = F.normalize(queries, dim=1)
        keys = F.normalize(keys, dim=1)
    # Scaling the (N, d) queries instead of the (N, N) logits saves a full pass each way.
    logits = (queries / temperature) @ keys.T
    positives = torch.arange(logits.shape[0], device=logits.device)
    loss = F.cross_entropy(logits, positives, reduction="none")
    if validate_args:
        run_deferred(result_finite_holds(loss, inputs))
    return reduce_loss(loss, reduction)


def _check_options(temperature: float, normalize: bool, reduction: str) -> None:
    """The option checks, which read no tensor data: also run once by the module form."""
    check_scalar(
        temperature,
        "temperature",
        min_val=0.0,
        max_val=float("inf"),
        include_min=False,
        include_max=False,
    )
    check_flag(normalize, "normalize")
    check_reduction(reduction)


class InfoNCELoss(LossModule):
    r"""Module form of :func:`info_nce`.

    Parameters
    ----------
    temperature : float, default 0.1
        Temperature :math:`\tau > 0` dividing the similarities.
    normalize : bool, default True
        Use cosine similarities (``False``: dot products).
    reduction : {"mean", "sum", "none"}, default "mean"
    validate_args : bool, default True
        Passed on to :func:`info_nce`.

    Examples
    --------
    >>> import torch
    >>> criterion = InfoNCELoss(temperature=1.0)
    >>> criterion
    InfoNCELoss(temperature=1.0, normalize=True, reduction='mean')
    >>> criterion(torch.eye(2), torch.eye(2))
    tensor(0.3133)
    """

    function = staticmethod(info_nce)
    options = ("temperature", "normalize")

    def __init__(
        self,
        temperature: float = 0.1,
        normalize: bool = True,
        reduction: Reduction = "mean",
        validate_args: bool = True,
    ) -> None:
        _check_options(temperature, normalize, reduction)
        super().__init__(
            temperature=float(temperature),
            normalize=normalize,
            reduction=reduction,
            validate_args=validate_args,
        )

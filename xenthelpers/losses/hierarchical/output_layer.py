"""An output layer over a taxonomy whose loss computes only the logits on each path."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..._reduction import Reduction, reduce_loss
from ..._validation import (
    check_floating,
    check_index_dtype,
    check_positive_int,
    check_reduction,
    result_finite_holds,
    run_deferred,
)
from .loss import _check_taxonomy, _leaf_labels, _path_nll, leaf_log_probs
from .taxonomy import Taxonomy


class HierarchicalSoftmax(nn.Module):
    r"""A linear output layer over a taxonomy whose loss reads only the path's logits.

    The layer holds one weight row :math:`w_j` and bias :math:`b_j` per logit
    (per non-root node), like ``nn.Linear(in_features, taxonomy.num_logits)``,
    and is initialised the same way. Calling it returns every logit.
    :meth:`loss` computes only the logits :math:`w_j^\top h + b_j` of the
    children of the decisions on each example's path, about
    ``max_depth * max_children`` dot products per example instead of
    ``num_logits``: the saving of :cite:t:`morin2005`. The result equals
    ``hierarchical_cross_entropy(layer(input), target, taxonomy)``.

    PyTorch's ``nn.AdaptiveLogSoftmaxWithLoss`` is a related two-level tree
    built from class frequencies.

    Parameters
    ----------
    in_features : int
        Size :math:`h` of each input vector.
    taxonomy : Taxonomy
        The tree.
    bias : bool, default True
        Whether to learn a bias per logit.
    device, dtype : optional
        Where and in which floating-point type to create the parameters.

    Attributes
    ----------
    weight : torch.nn.Parameter
        Shape ``(num_logits, in_features)``.
    bias : torch.nn.Parameter or None
        Shape ``(num_logits,)``.

    Notes
    -----
    The gradient of :attr:`weight` is a dense tensor that is zero outside the
    rows on the batch's paths; allocating it costs ``num_logits * in_features``
    per batch, shared by all examples of the batch.

    Examples
    --------
    >>> from xenthelpers.losses import hierarchical_cross_entropy
    >>> _ = torch.manual_seed(0)
    >>> layer = HierarchicalSoftmax(8, Taxonomy.complete((2, 2, 2)))
    >>> layer  # doctest: +NORMALIZE_WHITESPACE
    HierarchicalSoftmax(in_features=8, Taxonomy(num_leaves=8, num_decisions=7,
                        num_logits=14, max_depth=3), bias=True)
    >>> h, y = torch.randn(5, 8), torch.tensor([0, 3, 4, 7, 7])
    >>> layer(h).shape
    torch.Size([5, 14])
    >>> full = hierarchical_cross_entropy(layer(h), y, layer.taxonomy)
    >>> torch.allclose(layer.loss(h, y), full)
    True
    >>> layer.leaf_log_probs(h).exp().sum(1)
    tensor([1.0000, 1.0000, 1.0000, 1.0000, 1.0000], grad_fn=<SumBackward1>)
    """

    def __init__(
        self,
        in_features: int,
        taxonomy: Taxonomy,
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        check_positive_int(in_features, "in_features")
        self.in_features = in_features
        self.taxonomy = _check_taxonomy(taxonomy)
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(
            torch.empty(taxonomy.num_logits, in_features, device=device, dtype=dtype).uniform_(
                -bound, bound
            )
        )
        if bias:
            self.bias = nn.Parameter(
                torch.empty(taxonomy.num_logits, device=device, dtype=dtype).uniform_(-bound, bound)
            )
        else:
            self.register_parameter("bias", None)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """Every logit, ``(N, num_logits)``, as ``nn.Linear`` would compute it."""
        self._check_input(input)
        return F.linear(input, self.weight, self.bias)

    def loss(
        self,
        input: torch.Tensor,
        target: torch.Tensor,
        *,
        reduction: Reduction = "mean",
        validate_args: bool = True,
    ) -> torch.Tensor:
        """The hierarchical cross-entropy, from the logits on each example's path only.

        Parameters
        ----------
        input : Tensor
            Shape ``(N, in_features)``.
        target : Tensor
            Class indices in ``[0, num_leaves)``, shape ``(N,)``.
        reduction : {"mean", "sum", "none"}, default "mean"
            As for :func:`hierarchical_cross_entropy`: with ``N = 0``, ``"mean"``
            is NaN and ``"sum"`` is 0.
        validate_args : bool, default True
            Check the class indices and the finiteness of the loss, reading them
            back from the device once; ``False`` skips these checks (no
            synchronisation, no graph break under ``torch.compile``).
        """
        self._check_input(input)
        check_index_dtype(target, "target")
        if tuple(target.shape) != (input.shape[0],):
            raise ValueError(
                f"`target` must have shape ({input.shape[0]},) to match `input`, "
                f"got {tuple(target.shape)}"
            )
        check_reduction(reduction)
        labels, deferred = _leaf_labels(target, self.taxonomy, validate_args)
        index = self.taxonomy._indices(input.device)
        steps = index.children[index.path_decisions[labels]]  # (N, D, C)
        rows = F.embedding(steps, self.weight)  # (N, D, C, in_features)
        path_logits = (rows * input[:, None, None, :]).sum(dim=3)
        if self.bias is not None:
            path_logits = path_logits + self.bias[steps]
        loss = _path_nll(path_logits, labels, index)
        if validate_args:
            blame = {"input": input, "weight": self.weight, "bias": self.bias}
            run_deferred(*deferred, result_finite_holds(loss, blame))
        return reduce_loss(loss, reduction)

    def leaf_log_probs(self, input: torch.Tensor, *, validate_args: bool = True) -> torch.Tensor:
        """Log-probabilities of all leaves, ``(N, num_leaves)``; see :func:`leaf_log_probs`."""
        return leaf_log_probs(self.forward(input), self.taxonomy, validate_args=validate_args)

    def extra_repr(self) -> str:
        """The options, as shown by ``repr(module)``."""
        return f"in_features={self.in_features}, {self.taxonomy!r}, bias={self.bias is not None}"

    def _check_input(self, input: torch.Tensor) -> None:
        check_floating(input, "input")
        if input.dim() != 2 or input.shape[1] != self.in_features:
            raise ValueError(
                f"`input` must have shape (N, {self.in_features}), got {tuple(input.shape)}"
            )

"""Several independent ReLU networks trained side by side, one per seed."""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import torch
from torch import nn

from .._validation import (
    check_callable,
    check_device,
    check_ensemble_data,
    check_flag,
    check_float_dtype,
    check_floating,
    check_keywords,
    check_members_last,
    check_positive_int,
    check_scalar,
)
from .loop import LossFn, fit

# The options of `fit` that `fit_ensemble` passes on.
_FIT_OPTIONS = tuple(
    name
    for name, parameter in inspect.signature(fit).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
)


class MLPEnsemble(nn.Module):
    r"""``num_members`` independent ReLU multilayer perceptrons evaluated in one pass.

    Member :math:`m` is the network

    .. math::

        f_m(\mathbf{x}) = W^{(L)}_m\,\mathrm{ReLU}\bigl(\cdots
        \mathrm{ReLU}(W^{(1)}_m \mathbf{x} + \mathbf{b}^{(1)}_m) \cdots\bigr)
        + \mathbf{b}^{(L)}_m,

    with layer widths ``sizes``. The weights of all members are stored side by
    side, layer ``l`` as one tensor of shape ``(num_members, sizes[l],
    sizes[l + 1])``, and each layer is a single batched matrix product. Each
    member is initialised as ``torch.nn.Linear`` would be, independently of
    the others: weights and biases uniform in
    :math:`\pm 1/\sqrt{\text{fan-in}}`.

    An input of shape ``(N, num_members, d_in)`` gives member :math:`m` the rows
    ``input[:, m]``, typically its own training set, drawn with its own seed;
    an input of shape ``(N, d_in)`` is shared by every member. The output has
    shape ``(N, K, num_members)`` with ``K = sizes[-1]``: class scores in
    dimension 1 and the members as a trailing dimension, the layout that
    ``torch.nn.functional.cross_entropy`` accepts with targets of shape
    ``(N, num_members)``.

    **Training every member as if it were alone.** No parameter is shared, so
    the gradient of member :math:`j`'s loss :math:`L_j` with respect to the
    weights :math:`\theta_m` of member :math:`m \ne j` is zero, and for the sum

    .. math::

        L = \sum_{m=1}^{M} L_m(\theta_m), \qquad
        \nabla_{\theta_m} L = \nabla_{\theta_m} L_m .

    Any optimiser that updates each parameter entry from that entry's own
    gradient history (SGD with or without momentum, Adam, AdamW, RMSprop, with or
    without weight decay) therefore moves every member exactly as training it
    alone on :math:`L_m` would, up to floating-point rounding. This holds for
    the **sum** over members, not the mean: the mean
    :math:`\frac{1}{M}\sum_m L_m` divides every gradient by :math:`M`, which
    under SGD divides each member's learning rate by :math:`M`; Adam, which
    divides by the root of the running squared gradient, is unaffected apart
    from its :math:`\epsilon`, which acts as if it were :math:`M\epsilon`.
    ``F.cross_entropy(output, target)`` with its default ``reduction="mean"``
    averages over members as well as examples; :func:`sum_over_members` turns
    such a loss into the sum over members. Steps that look at all
    parameters at once couple the members and break the equivalence: clipping
    the global gradient norm, or a line search such as L-BFGS's.

    Parameters
    ----------
    num_members : int
        Number of independent networks :math:`M`, >= 1.
    sizes : tuple or list of int
        Layer widths ``(d_in, hidden_1, ..., hidden_h, K)``: at least an input
        and an output width, each >= 1. Two entries give linear models.
    device : torch.device or str, optional
        Where to create the parameters (default: PyTorch's default device).
    dtype : torch.dtype, optional
        Floating-point type of the parameters (default: PyTorch's default).

    Attributes
    ----------
    weights : nn.ParameterList
        One tensor per layer, of shape ``(num_members, fan_in, fan_out)``;
        member :math:`m`'s ``nn.Linear`` weight is
        ``weights[l][m].T``.
    biases : nn.ParameterList
        One tensor per layer, of shape ``(num_members, fan_out)``.

    Examples
    --------
    >>> import torch.nn.functional as F
    >>> _ = torch.manual_seed(0)
    >>> model = MLPEnsemble(3, (2, 16, 4))
    >>> x = torch.randn(10, 3, 2)  # a batch of 10 for each of 3 members
    >>> y = torch.randint(0, 4, (10, 3))
    >>> logits = model(x)
    >>> logits.shape
    torch.Size([10, 4, 3])
    >>> loss = sum_over_members(F.cross_entropy, model.num_members)(logits, y)
    >>> model(torch.randn(7, 2)).shape  # one batch shared by all members
    torch.Size([7, 4, 3])
    >>> single = model.member(1)  # a standalone copy of member 1
    >>> torch.allclose(single(x[:, 1]), logits[:, :, 1], atol=1e-6)
    True
    """

    def __init__(
        self,
        num_members: int,
        sizes: Sequence[int],
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        check_positive_int(num_members, "num_members")
        sizes = _check_sizes(sizes)
        self.num_members = num_members
        self.sizes = sizes
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for fan_in, fan_out in pairwise(sizes):
            bound = 1 / math.sqrt(fan_in)
            weight = torch.empty(num_members, fan_in, fan_out, device=device, dtype=dtype)
            bias = torch.empty(num_members, fan_out, device=device, dtype=dtype)
            self.weights.append(weight.uniform_(-bound, bound))
            self.biases.append(bias.uniform_(-bound, bound))

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """Map ``(N, num_members, d_in)`` or ``(N, d_in)`` to ``(N, K, num_members)``."""
        x = self._members_input(input)
        last = len(self.weights) - 1
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.einsum("nmi,mio->nmo", x, weight) + bias
            if layer < last:
                x = torch.relu(x)
        return x.transpose(1, 2)

    def member(self, index: int) -> nn.Sequential:
        """A standalone copy of member ``index`` as ``nn.Sequential`` of ``Linear`` and ``ReLU``.

        The copy has its own parameters, on the ensemble's device and in its
        dtype; training it leaves the ensemble unchanged.
        """
        if isinstance(index, bool) or not isinstance(index, int):
            raise ValueError(f"`index` must be an integer, got {index!r}")
        if not 0 <= index < self.num_members:
            raise ValueError(f"`index` must lie in [0, {self.num_members}), got {index}")
        layers: list[nn.Module] = []
        for weight, bias in zip(self.weights, self.biases, strict=True):
            linear = nn.Linear(
                weight.shape[1], weight.shape[2], device=weight.device, dtype=weight.dtype
            )
            with torch.no_grad():
                linear.weight.copy_(weight[index].T)
                linear.bias.copy_(bias[index])
            layers += [linear, nn.ReLU()]
        return nn.Sequential(*layers[:-1])

    def extra_repr(self) -> str:
        return f"num_members={self.num_members}, sizes={self.sizes}"

    def _members_input(self, input: torch.Tensor) -> torch.Tensor:
        """Check ``input`` and return it with shape ``(N, num_members, d_in)``."""
        check_floating(input, "input")
        d_in, members = self.sizes[0], self.num_members
        if input.dim() == 2 and input.shape[1] == d_in:
            return input.unsqueeze(1).expand(-1, members, -1)
        if input.dim() == 3 and input.shape[1:] == (members, d_in):
            return input
        raise ValueError(
            f"`input` must have shape (N, {members}, {d_in}) or (N, {d_in}), "
            f"got {tuple(input.shape)}"
        )


def sum_over_members(loss_fn: LossFn, num_members: int) -> LossFn:
    r"""The sum over ensemble members of a loss that averages over examples and members.

    For outputs with the members in the last dimension, such as those of
    :class:`MLPEnsemble` (shape ``(N, K, M)``), a loss such as
    ``F.cross_entropy`` with ``reduction="mean"`` averages the element losses
    :math:`\ell_{nm}` of example :math:`n` and member :math:`m` over all
    :math:`NM` of them. :math:`M` times that average is the sum of the members'
    own mean losses,

    .. math::

        M \cdot \frac{1}{NM} \sum_{m=1}^{M} \sum_{n=1}^{N} \ell_{nm}
        = \sum_{m=1}^{M} \underbrace{\frac{1}{N} \sum_{n=1}^{N} \ell_{nm}}_{L_m},

    the objective under which every member trains as if it were alone (see
    :class:`MLPEnsemble`). The returned function computes exactly
    ``num_members * loss_fn(outputs, target)``: one call of ``loss_fn`` on all
    members, so a training run with it repeats the arithmetic of that product
    bit for bit.

    The identity needs a loss that gives every element the same weight. It does
    not hold for a mean normalised by something shared across members, such as
    ``F.cross_entropy(..., weight=w)`` (which divides by the total weight of all
    members' targets) or a mean over the observed entries of a masked loss
    whose count differs between members; for those, add up one call per member
    or use ``reduction="sum"`` divided by :math:`N`.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(outputs, target) -> scalar tensor``, the mean of an element
        loss over examples and members.
    num_members : int
        Number of members :math:`M` (``model.num_members``), >= 1; the returned
        function checks that ``outputs`` has this size in its last dimension.

    Returns
    -------
    callable
        ``(outputs, target) -> num_members * loss_fn(outputs, target)``, to pass
        to :func:`fit`.

    Examples
    --------
    >>> import torch.nn.functional as F
    >>> _ = torch.manual_seed(0)
    >>> model = MLPEnsemble(3, (2, 4))
    >>> x, y = torch.randn(10, 3, 2), torch.randint(0, 4, (10, 3))
    >>> loss_fn = sum_over_members(F.cross_entropy, model.num_members)
    >>> logits = model(x)
    >>> per_member = [F.cross_entropy(logits[..., m], y[:, m]) for m in range(3)]
    >>> torch.allclose(loss_fn(logits, y), sum(per_member))
    True
    """
    if not callable(loss_fn):
        raise ValueError(f"`loss_fn` must be callable, got {type(loss_fn).__name__}")
    check_positive_int(num_members, "num_members")
    return _MemberSum(loss_fn, num_members)


class _MemberSum:
    """``num_members * loss_fn(outputs, target)``, with the members' count checked."""

    def __init__(self, loss_fn: LossFn, num_members: int) -> None:
        self.loss_fn = loss_fn
        self.num_members = num_members

    def __call__(self, outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        check_members_last(outputs, self.num_members, "outputs")
        return self.num_members * self.loss_fn(outputs, target)

    def __repr__(self) -> str:
        return f"sum_over_members({self.loss_fn!r}, num_members={self.num_members})"


def fit_ensemble(
    num_members: int,
    sizes: Sequence[int],
    loss_fn: LossFn,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    init_seed: int | None = 0,
    sum_members: bool = True,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    **fit_options: Any,
) -> MLPEnsemble:
    r"""Build an :class:`MLPEnsemble` from seeded initial weights and train it with :func:`fit`.

    One call runs the three steps of a seeded experiment on an ensemble, in
    this order:

    1. ``torch.manual_seed(init_seed)``;
    2. ``model = MLPEnsemble(num_members, sizes)``, its weights drawn on the CPU,
       then ``model.to(device)``;
    3. ``fit(model, sum_over_members(loss_fn, num_members), inputs, targets,
       **fit_options)``, or ``fit(model, loss_fn, ...)`` with
       ``sum_members=False``;

    so it repeats those steps written out bit for bit. Member :math:`m` trains on
    ``inputs[:, m]`` (or on all of a shared ``(N, d_in)`` input) and minimises
    its own loss :math:`L_m`: the summed objective
    :math:`\sum_m L_m` moves every member as if it were trained alone (see
    :class:`MLPEnsemble`).

    **Why the seed.** Settings compared side by side (two losses, a range of
    smoothing strengths, several kinds of target) should differ in nothing but
    the setting. With the same ``init_seed``, member :math:`m` starts from the
    same weights in every call, so a difference between two settings,
    measured seed by seed, does not include the spread between
    initialisations. The seed goes
    into PyTorch's global generator because that is where both random steps
    draw from: the initial weights, and the order in which :func:`fit` visits
    the examples when it has no ``generator`` of its own (it shuffles even a
    full batch, which changes the order of the sums). Drawing the weights on
    the CPU gives the same start on every device. Like the steps written
    out, the call leaves the global generator in a new state;
    ``init_seed=None`` draws from the global generator as it stands.

    Parameters
    ----------
    num_members : int
        Number of networks :math:`M`, >= 1, typically one per seed.
    sizes : tuple or list of int
        Layer widths ``(d_in, hidden_1, ..., K)`` of every member.
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor`` on outputs of shape
        ``(N, K, num_members)``: a loss averaged over the examples and the
        members, such as ``F.cross_entropy``, which is multiplied by
        ``num_members`` (:func:`sum_over_members`); with
        ``sum_members=False``, the sum of the members' own losses, used as
        it is.
    inputs : Tensor
        Floating inputs ``(N, num_members, d_in)``, one training set per
        member, or ``(N, d_in)``, shared by all members.
    targets : Tensor
        Whatever ``loss_fn`` takes as its second argument, first dimension ``N``.
    init_seed : int or None, default 0
        Seed of PyTorch's global generator just before the weights are
        drawn, >= 0; ``None`` leaves the generator as it is.
    sum_members : bool, default True
        Pass ``loss_fn`` through :func:`sum_over_members`; ``False`` for a
        loss that already sums over the members (a masked mean, class
        weights, or different losses for different groups of members).
    device : torch.device or str, optional
        Where to train; default: the device of ``inputs``.
    dtype : torch.dtype, optional
        Floating-point type of the weights; default: PyTorch's default.
    **fit_options
        Keyword arguments of :func:`fit` (``num_epochs``, ``lr``,
        ``batch_size``, ``weight_decay``, ``optimizer``, ``transform``,
        ``generator``, ``progress``), checked by :func:`fit`.

    Returns
    -------
    MLPEnsemble
        The trained ensemble, on ``device``, in eval mode. For the loss of
        every epoch, build the ensemble and call :func:`fit` yourself.

    Examples
    --------
    >>> import torch.nn.functional as F
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(64, 3, 2, generator=g)  # 64 points for each of 3 members
    >>> y = (x[..., 0] > x[..., 1]).long()  # (64, 3)
    >>> model = fit_ensemble(3, (2, 8, 2), F.cross_entropy, x, y, num_epochs=60, lr=0.05)
    >>> accuracy = (model(x).argmax(1) == y).float().mean(0)  # one value per member
    >>> bool((accuracy > 0.9).all())
    True

    The same weights, bit for bit, as the steps written out:

    >>> _ = torch.manual_seed(0)
    >>> by_hand = MLPEnsemble(3, (2, 8, 2))
    >>> _ = fit(by_hand, sum_over_members(F.cross_entropy, 3), x, y, num_epochs=60, lr=0.05)
    >>> all(torch.equal(a, b) for a, b in zip(model.parameters(), by_hand.parameters()))
    True
    """
    check_positive_int(num_members, "num_members")
    sizes = _check_sizes(sizes)
    check_callable(loss_fn, "loss_fn")
    check_ensemble_data(inputs, targets, num_members, sizes[0])
    if init_seed is not None:
        check_scalar(init_seed, "init_seed", integer=True, min_val=0)
    check_flag(sum_members, "sum_members")
    device = inputs.device if device is None else check_device(device)
    dtype = check_float_dtype(dtype)
    check_keywords(fit_options, _FIT_OPTIONS, "fit")

    if init_seed is not None:
        torch.manual_seed(init_seed)
    model = MLPEnsemble(num_members, sizes, device="cpu", dtype=dtype).to(device)
    if sum_members:
        loss_fn = sum_over_members(loss_fn, num_members)
    fit(model, loss_fn, inputs, targets, **fit_options)
    return model


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Require at least two layer widths, each an integer >= 1."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise ValueError(
            f"`sizes` must be a sequence (d_in, ..., K) of at least two widths, got {sizes!r}"
        )
    for width in sizes:
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"`sizes` must hold integers >= 1, got {tuple(sizes)!r}")
    return tuple(sizes)

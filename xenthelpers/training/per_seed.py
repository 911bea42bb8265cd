"""Drawing one data set per seed, stacked for an ensemble that trains them side by side."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

Draw = Callable[[torch.Generator], Any]


def sample_per_seed(
    draw: Draw,
    seeds: Iterable[int],
    *,
    dim: int = 1,
    device: str | torch.device | None = None,
) -> Any:
    r"""Call ``draw`` once per seed and stack the results along ``dim``.

    For each seed :math:`s` the function creates a CPU generator seeded with
    :math:`s`, so that the draw for seed :math:`s` is the same whatever the other
    seeds are and whatever device the tensors end on, and calls ``draw(generator)``.
    ``draw`` returns a tensor or a tuple of tensors (a named tuple keeps its type);
    each tensor is stacked over the seeds along ``dim``. With the default
    ``dim=1``, inputs of shape ``(N, d)`` become ``(N, S, d)`` and labels of shape
    ``(N,)`` become ``(N, S)``: the layout that :class:`MLPEnsemble` and
    ``F.cross_entropy`` accept for :math:`S` members.

    Parameters
    ----------
    draw : callable
        ``draw(generator) -> Tensor | tuple[Tensor, ...]``; every call must return
        tensors of the same shapes.
    seeds : iterable of int
        The seeds, at least one.
    dim : int, default 1
        Where the seed dimension goes in each stacked tensor.
    device : str or torch.device, optional
        Where to move the stacked tensors; default: where ``draw`` put them.

    Returns
    -------
    Tensor or tuple of Tensor
        Shaped like one draw, with a seed dimension inserted at ``dim``.

    Examples
    --------
    >>> def draw(generator):
    ...     x = torch.randn(4, 2, generator=generator)
    ...     return x, (x[:, 0] > 0).long()
    >>> x, y = sample_per_seed(draw, range(3))
    >>> x.shape, y.shape
    (torch.Size([4, 3, 2]), torch.Size([4, 3]))
    >>> torch.equal(x[:, 1], draw(torch.Generator().manual_seed(1))[0])
    True
    """
    if not callable(draw):
        raise ValueError(f"`draw` must be callable, got {type(draw).__name__}")
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"`seeds` must be a non-empty sequence of integers, got {seeds!r}")
    draws = [draw(torch.Generator().manual_seed(s)) for s in seeds]
    first = draws[0]
    if isinstance(first, torch.Tensor):
        return _stack(draws, dim, device, "draw")
    if not isinstance(first, tuple) or not all(isinstance(t, torch.Tensor) for t in first):
        raise ValueError(
            f"`draw` must return a tensor or a tuple of tensors, got {type(first).__name__}"
        )
    fields = [
        _stack([d[i] for d in draws], dim, device, f"field {i} of draw") for i in range(len(first))
    ]
    return type(first)(*fields) if hasattr(first, "_fields") else tuple(fields)


def _stack(
    tensors: list[Any], dim: int, device: str | torch.device | None, what: str
) -> torch.Tensor:
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"`{what}` must have the same shape for every seed, got {sorted(shapes)}")
    if not -tensors[0].dim() - 1 <= dim <= tensors[0].dim():
        raise ValueError(
            f"`dim` must be in [{-tensors[0].dim() - 1}, {tensors[0].dim()}] for {what} "
            f"of shape {tuple(tensors[0].shape)}, got {dim}"
        )
    stacked = torch.stack(tensors, dim=dim)
    return stacked if device is None else stacked.to(device)

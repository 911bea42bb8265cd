"""Drawing one data set per seed, stacked for an ensemble that trains them side by side."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import torch

from .._validation import check_positive_int

Draw = Callable[[torch.Generator], Any]


class Sampler(Protocol):
    """Anything with ``sample(num_samples, *, generator)``, as the data sets of this package."""

    def sample(self, num_samples: int, /, *, generator: torch.Generator) -> Any: ...


def sample_per_seed(
    source: Sampler | Draw,
    seeds: Iterable[int],
    *,
    num_samples: int | None = None,
    dim: int = 1,
    device: str | torch.device | None = None,
) -> Any:
    r"""Draw one data set per seed and stack the draws along ``dim``.

    For each seed :math:`s` the function creates a CPU generator seeded with
    :math:`s`, so that the draw for seed :math:`s` is the same whatever the other
    seeds are and whatever device the tensors end on, and draws from ``source``
    with it: ``source.sample(num_samples, generator=generator)`` when ``source``
    has a ``sample`` method (every data set in :mod:`xenthelpers.data` whose
    ``sample`` takes a size and a generator, such as
    :class:`~xenthelpers.data.GaussianClasses`,
    :class:`~xenthelpers.data.RarePositives` or
    :class:`~xenthelpers.data.ProteinLocalisation`), otherwise
    ``source(generator)``. A draw is a tensor or a tuple of tensors (a named
    tuple keeps its type); each tensor is stacked over the seeds along ``dim``.
    With the default ``dim=1``, inputs of shape ``(N, d)`` become ``(N, S, d)``
    and labels of shape ``(N,)`` become ``(N, S)``: the layout that
    :class:`MLPEnsemble` and ``F.cross_entropy`` accept for :math:`S` members.

    Parameters
    ----------
    source : object or callable
        A data set with ``sample(num_samples, *, generator)``, or a function
        ``draw(generator) -> Tensor | tuple[Tensor, ...]``. Every draw must
        return tensors of the same shapes.
    seeds : iterable of int
        The seeds, at least one.
    num_samples : int, optional
        Size of each draw from a data set, >= 1; required with a data set and not
        accepted with a function, which chooses its own size.
    dim : int, default 1
        Where the seed dimension goes in each stacked tensor.
    device : str or torch.device, optional
        Where to move the stacked tensors; default: where the draws put them.

    Returns
    -------
    Tensor or tuple of Tensor
        Shaped like one draw, with a seed dimension inserted at ``dim``.

    Examples
    --------
    >>> from xenthelpers.data import make_gaussian_classes
    >>> classes = make_gaussian_classes(3, dim=2)
    >>> x, y = sample_per_seed(classes, range(4), num_samples=10)
    >>> x.shape, y.shape
    (torch.Size([10, 4, 2]), torch.Size([10, 4]))
    >>> torch.equal(x[:, 1], classes.sample(10, generator=torch.Generator().manual_seed(1))[0])
    True

    A function of the generator draws anything else:

    >>> def draw(generator):
    ...     x = torch.randn(4, 2, generator=generator)
    ...     return x, (x[:, 0] > 0).long()
    >>> x, y = sample_per_seed(draw, range(3))
    >>> x.shape, y.shape
    (torch.Size([4, 3, 2]), torch.Size([4, 3]))
    """
    draw = _as_draw(source, num_samples)
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"`seeds` must be a non-empty sequence of integers, got {seeds!r}")
    draws = [draw(torch.Generator().manual_seed(s)) for s in seeds]
    first = draws[0]
    if isinstance(first, torch.Tensor):
        return _stack(draws, dim, device, "a tensor")
    if not isinstance(first, tuple) or not all(isinstance(t, torch.Tensor) for t in first):
        raise ValueError(
            f"`source` must draw a tensor or a tuple of tensors, got {type(first).__name__}"
        )
    fields = [_stack([d[i] for d in draws], dim, device, f"field {i}") for i in range(len(first))]
    return type(first)(*fields) if hasattr(first, "_fields") else tuple(fields)


def _as_draw(source: Sampler | Draw, num_samples: int | None) -> Draw:
    """The function of a generator that draws once from ``source``."""
    sample = getattr(source, "sample", None)
    if callable(sample):
        if num_samples is None:
            raise ValueError(
                f"`num_samples` is required to draw from {type(source).__name__}.sample"
            )
        check_positive_int(num_samples, "num_samples")
        return lambda generator: sample(num_samples, generator=generator)
    if not callable(source):
        raise ValueError(
            "`source` must have a `sample(num_samples, *, generator)` method or be a "
            f"function of a generator, got {type(source).__name__}"
        )
    if num_samples is not None:
        raise ValueError(
            "`num_samples` applies to a data set with a `sample` method; "
            "a function of the generator chooses its own size"
        )
    return source


def _stack(
    tensors: list[Any], dim: int, device: str | torch.device | None, what: str
) -> torch.Tensor:
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ValueError(
            f"`source` must draw {what} of the same shape for every seed, got {sorted(shapes)}"
        )
    if not -tensors[0].dim() - 1 <= dim <= tensors[0].dim():
        raise ValueError(
            f"`dim` must be in [{-tensors[0].dim() - 1}, {tensors[0].dim()}] for {what} "
            f"of shape {tuple(tensors[0].shape)}, got {dim}"
        )
    stacked = torch.stack(tensors, dim=dim)
    return stacked if device is None else stacked.to(device)

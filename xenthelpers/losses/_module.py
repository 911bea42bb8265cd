"""The base of every loss's ``nn.Module`` wrapper, as ``torch.nn`` has ``_Loss``.

A wrapper is a few lines beside its function: it names the function, lists the
options it stores, and spells out ``__init__`` so that the signature documents
itself and its options are checked once, with the function's own option checks.
The base class checks ``reduction``, keeps tensor options as buffers (so
``.to(device)`` moves them), forwards the call and prints the options in ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn

from .._validation import check_reduction


class LossModule(nn.Module):
    """Module form of a loss function: ``forward(*inputs)`` calls ``function``.

    Subclasses set ``function`` (the functional form), ``options`` (the names of
    the keyword arguments they store, in the order ``repr`` shows them) and
    ``tensor_options`` (those that are tensors or ``None``, kept as buffers), and
    call ``super().__init__(**options, reduction=..., validate_args=...)``.
    """

    function: ClassVar[Callable[..., torch.Tensor]]
    options: ClassVar[tuple[str, ...]] = ()
    tensor_options: ClassVar[tuple[str, ...]] = ()
    reductions: ClassVar[tuple[str, ...]] = ("mean", "sum", "none")

    def __init__(self, *, reduction: str = "mean", validate_args: bool = True, **options: Any):
        super().__init__()
        if set(options) != set(self.options):
            raise TypeError(f"{type(self).__name__} stores {self.options}, got {tuple(options)}")
        check_reduction(reduction, self.reductions)
        for name in self.options:
            value = options[name]
            if name in self.tensor_options:
                self.register_buffer(name, value)
            else:
                setattr(self, name, value)
        self.reduction = reduction
        self.validate_args = validate_args

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Call the functional form on ``inputs`` with this module's options."""
        kwargs = {name: getattr(self, name) for name in self.options}
        return type(self).function(
            *inputs, **kwargs, reduction=self.reduction, validate_args=self.validate_args
        )

    def extra_repr(self) -> str:
        """The options and the reduction, as ``repr(module)`` shows them."""
        shown = [f"{name}={_describe(getattr(self, name))}" for name in self.options]
        return ", ".join([*shown, f"reduction={self.reduction!r}"])


def _describe(value: object) -> str:
    """A short rendering of an option: vectors up to six values in full."""
    if not isinstance(value, torch.Tensor):
        return repr(value)
    if value.numel() <= 6:
        return "[" + ", ".join(f"{v:.4g}" for v in value.tolist()) + "]"
    return f"<{value.numel()} values>"

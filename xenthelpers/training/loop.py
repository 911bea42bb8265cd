"""The small training loop the chapters share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from .._validation import check_non_negative, check_positive, check_positive_int

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
BatchTransform = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


@dataclass
class History:
    """What :func:`fit` records: the mean training loss of each epoch.

    Examples
    --------
    >>> history = History(loss=[0.9, 0.5, 0.25])
    >>> history.final_loss
    0.25
    """

    loss: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        """The mean loss of the last epoch."""
        return self.loss[-1]


def _batches(
    num_examples: int, batch_size: int, generator: torch.Generator | None
) -> tuple[torch.Tensor, ...]:
    order = torch.randperm(num_examples, generator=generator)
    return torch.split(order, batch_size)


def fit(
    model: nn.Module,
    loss_fn: LossFn,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    num_epochs: int = 100,
    lr: float = 1e-2,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    transform: BatchTransform | None = None,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> History:
    """Train ``model`` in place by minimising ``loss_fn(model(x), y)``.

    Parameters
    ----------
    model : nn.Module
        Maps a batch of ``inputs`` to the first argument of ``loss_fn``.
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor``.
    inputs, targets : Tensor
        The whole training set, first dimension ``N``; moved to the model's device.
    num_epochs : int, default 100
    lr : float, default 1e-2
    batch_size : int, optional
        Mini-batch size; ``None`` trains on the full batch (the usual choice
        for the small synthetic problems of the book).
    weight_decay : float, default 0.0
    optimizer : {"adam", "adamw", "sgd"}, default "adam"
    transform : callable, optional
        ``transform(x, y) -> (x, y)`` applied to every batch (mixup, noise, ...).
    generator : torch.Generator, optional
        Controls the shuffling order (the global generator if ``None``).
    progress : bool, default False
        Show a progress bar over epochs.

    Returns
    -------
    History
        The mean training loss of every epoch.

    Examples
    --------
    >>> import torch.nn.functional as F
    >>> x = torch.randn(64, 2)
    >>> y = (x[:, 0] > 0).long()
    >>> history = fit(nn.Linear(2, 2), F.cross_entropy, x, y, num_epochs=50, lr=0.1)
    >>> history.final_loss < history.loss[0]
    True
    """
    check_positive_int(num_epochs, "num_epochs")
    check_positive(lr, "lr")
    check_non_negative(weight_decay, "weight_decay")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"`optimizer` must be one of {tuple(OPTIMIZERS)}, got {optimizer!r}")
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(
            f"`inputs` and `targets` must have the same first dimension, "
            f"got {inputs.shape[0]} and {targets.shape[0]}"
        )
    num_examples = inputs.shape[0]
    if batch_size is None:
        batch_size = num_examples
    check_positive_int(batch_size, "batch_size")

    device = next(model.parameters()).device
    inputs, targets = inputs.to(device), targets.to(device)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    epochs = range(num_epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="epochs")
    model.train()
    for _ in epochs:
        total = 0.0
        for index in _batches(num_examples, batch_size, generator):
            x, y = inputs[index.to(device)], targets[index.to(device)]
            if transform is not None:
                x, y = transform(x, y)
            loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(index)
        history.loss.append(total / num_examples)
    model.eval()
    return history


@torch.no_grad()
def predict_logits(
    model: nn.Module, inputs: torch.Tensor, *, batch_size: int = 4096
) -> torch.Tensor:
    """Evaluate ``model`` on ``inputs`` in eval mode without gradients.

    Returns the outputs concatenated on the device of ``inputs``.

    Examples
    --------
    >>> predict_logits(nn.Linear(3, 2), torch.zeros(5, 3), batch_size=2).shape
    torch.Size([5, 2])
    """
    check_positive_int(batch_size, "batch_size")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    outputs = [model(chunk.to(device)).to(inputs.device) for chunk in inputs.split(batch_size)]
    model.train(was_training)
    return torch.cat(outputs)

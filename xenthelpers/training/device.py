"""Choosing where a chapter runs: CPU by default, a GPU when asked."""

from __future__ import annotations

import os

import torch

DEVICE_VARIABLE = "XENT_DEVICE"


def get_device(preference: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on.

    The choice is, in order: ``preference`` if given, else the environment
    variable ``XENT_DEVICE`` if set, else the CPU. Asking for ``"cuda"`` (or
    ``"cuda:1"``, ``"mps"``) when that device is unavailable raises rather than
    silently falling back, so a GPU run never turns into a CPU run unnoticed.

    Examples
    --------
    >>> get_device("cpu")
    device(type='cpu')
    """
    if preference is not None:
        choice, source = preference, "`preference`"
    else:
        choice, source = os.environ.get(DEVICE_VARIABLE, "cpu"), DEVICE_VARIABLE
    try:
        device = torch.device(choice)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"{source} is not a device name: {choice!r}") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {choice!r} was asked for but CUDA is not available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {choice!r} was asked for but MPS is not available")
    return device

"""Seeding every random number generator a chapter touches."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, *, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and every CUDA device).

    Parameters
    ----------
    seed : int
        A non-negative integer.
    deterministic : bool, default True
        Also ask PyTorch for deterministic algorithms (``warn_only`` so that an
        operation without a deterministic kernel still runs) and set the cuBLAS
        workspace variable that deterministic CUDA matrix products need.

    Returns
    -------
    torch.Generator
        A CPU generator seeded with ``seed``, for code that prefers an explicit
        generator to the global state.

    Examples
    --------
    >>> g = seed_everything(0)
    >>> torch.rand(1, generator=g).item() == torch.rand(1, generator=seed_everything(0)).item()
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.Generator().manual_seed(seed)

"""How often a call waits for an accelerator: the host reads that ``validate_args`` bounds.

``torch.cuda.set_sync_debug_mode("warn")`` makes every synchronisation of the host
with the GPU (``.item()``, ``.tolist()``, ``bool(tensor)``, a blocking copy) emit a
warning; counting the warnings of one call counts its reads. CUDA only: elsewhere the
tests that use it are reported as skipped.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
import torch

NEEDS_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def cuda_synchronisations(call: Callable[[], object]) -> int:
    """Run ``call`` once to warm up, then again, and count the second run's synchronisations."""
    call()  # lazy initialisation (kernels, handles) may synchronise the first time
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            call()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(warning.message) for warning in record)

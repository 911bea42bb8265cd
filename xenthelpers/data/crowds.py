"""Deprecated alias of :mod:`xenthelpers.data.simulated_crowd`, kept for one release."""

import warnings

from .simulated_crowd import WORKER_KINDS, SimulatedCrowd, simulate_crowd, worker_confusion_matrix

__all__ = ["WORKER_KINDS", "SimulatedCrowd", "simulate_crowd", "worker_confusion_matrix"]

# stacklevel=2 names the importing line: warnings skips the import system's frames.
warnings.warn(
    "xenthelpers.data.crowds is deprecated and will be removed in the next release; "
    "import from xenthelpers.data (the module is now xenthelpers.data.simulated_crowd)",
    DeprecationWarning,
    stacklevel=2,
)

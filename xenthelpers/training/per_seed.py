"""Deprecated alias of :mod:`xenthelpers.training.stacked_samples`, kept for one release."""

import warnings

from .stacked_samples import sample_per_seed

__all__ = ["sample_per_seed"]

# stacklevel=2 names the importing line: warnings skips the import system's frames.
warnings.warn(
    "xenthelpers.training.per_seed is deprecated and will be removed in the next release; "
    "import sample_per_seed from xenthelpers.training "
    "(the module is now xenthelpers.training.stacked_samples)",
    DeprecationWarning,
    stacklevel=2,
)

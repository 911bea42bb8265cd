"""Deprecated alias of :mod:`xenthelpers.training.seeding`, kept for one release."""

import warnings

from .seeding import seed_everything

__all__ = ["seed_everything"]

# stacklevel=2 names the importing line: warnings skips the import system's frames.
warnings.warn(
    "xenthelpers.training.reproducibility is deprecated and will be removed in the next "
    "release; import seed_everything from xenthelpers.training "
    "(the module is now xenthelpers.training.seeding)",
    DeprecationWarning,
    stacklevel=2,
)

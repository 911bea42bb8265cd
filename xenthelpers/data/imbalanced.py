"""Deprecated alias of :mod:`xenthelpers.data.rare_positives`, kept for one release."""

import warnings

from .rare_positives import COMPONENTS, RarePositives, RarePositivesSample

__all__ = ["COMPONENTS", "RarePositives", "RarePositivesSample"]

# stacklevel=2 names the importing line: warnings skips the import system's frames.
warnings.warn(
    "xenthelpers.data.imbalanced is deprecated and will be removed in the next release; "
    "import from xenthelpers.data (the module is now xenthelpers.data.rare_positives)",
    DeprecationWarning,
    stacklevel=2,
)

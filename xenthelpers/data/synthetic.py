"""Deprecated alias of :mod:`xenthelpers.data.gaussian_classes`, kept for one release."""

import warnings

from .gaussian_classes import GaussianClasses, make_gaussian_classes

__all__ = ["GaussianClasses", "make_gaussian_classes"]

# stacklevel=2 names the importing line: warnings skips the import system's frames.
warnings.warn(
    "xenthelpers.data.synthetic is deprecated and will be removed in the next release; "
    "import from xenthelpers.data (the module is now xenthelpers.data.gaussian_classes)",
    DeprecationWarning,
    stacklevel=2,
)

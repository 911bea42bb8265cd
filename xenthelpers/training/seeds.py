"""Deprecated alias of :func:`xenthelpers.metrics.mean_sd`, kept for one release."""

import warnings

from ..metrics.over_seeds import mean_sd

__all__ = ["mean_sd"]

# stacklevel=2 names the importing line: warnings skips the import system's frames.
warnings.warn(
    "xenthelpers.training.seeds is deprecated and will be removed in the next release; "
    "import mean_sd from xenthelpers or xenthelpers.metrics "
    "(the module is now xenthelpers.metrics.over_seeds)",
    DeprecationWarning,
    stacklevel=2,
)

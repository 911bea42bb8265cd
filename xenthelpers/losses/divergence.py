"""Deprecated location of :func:`xenthelpers.metrics.js_divergence`, kept for one release."""

import warnings

from ..metrics.divergence import js_divergence

__all__ = ["js_divergence"]

# stacklevel=2 names the importing line: warnings skips the import system's frames.
warnings.warn(
    "xenthelpers.losses.divergence is deprecated and will be removed in the next release; "
    "js_divergence is now in xenthelpers.metrics (import it from xenthelpers or "
    "xenthelpers.metrics)",
    DeprecationWarning,
    stacklevel=2,
)

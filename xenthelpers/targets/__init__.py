"""Targets: soft labels built from class indices, and mixup of whole batches.

- :func:`smooth_labels`: uniform label smoothing as explicit probability rows;
- :func:`ordinal_smooth_labels`: smoothing that only reaches neighbouring ranks;
- :func:`mixup`: convex combinations of pairs of examples and of their targets.
"""

from .mixup import MixupBatch, mixup
from .smoothing import ordinal_smooth_labels, smooth_labels

__all__ = ["MixupBatch", "mixup", "ordinal_smooth_labels", "smooth_labels"]

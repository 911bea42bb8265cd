"""Targets: soft labels built from class indices, and mixup of whole batches.

- :func:`smooth_labels`: uniform label smoothing as explicit probability rows;
- :func:`ordinal_smooth_labels`: smoothing that only reaches neighbouring ranks;
- :func:`mixup`: convex combinations of pairs of examples and of their targets.

Each takes ``validate_args=True``: the values of its inputs are checked, read back
from the device once; ``False`` skips that read (each docstring says what remains).
"""

from .mixup import MixupBatch, mixup
from .smoothing import ordinal_smooth_labels, smooth_labels

__all__ = ["MixupBatch", "mixup", "ordinal_smooth_labels", "smooth_labels"]

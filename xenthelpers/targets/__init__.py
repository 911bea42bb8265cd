"""Targets: soft labels built from class indices, and mixup of whole batches.

- :func:`smooth_labels`: uniform label smoothing as explicit probability rows;
- :func:`ordinal_smooth_labels`: smoothing that only reaches neighbouring ranks;
- :func:`mixup`: convex combinations of pairs of examples and of their targets;
- :func:`mixup_posterior`: the optimum of the mixup loss on Gaussian classes,
  with :func:`beta_quadrature` for expectations over the mixing weight.

The first three take ``validate_args=True``: the values of their inputs are checked,
read back from the device once; ``False`` skips that read (each docstring says what
remains).
"""

from .mixup import MixupBatch, mixup
from .mixup_optimum import beta_quadrature, mixup_posterior
from .smoothing import ordinal_smooth_labels, smooth_labels

__all__ = [
    "MixupBatch",
    "beta_quadrature",
    "mixup",
    "mixup_posterior",
    "ordinal_smooth_labels",
    "smooth_labels",
]

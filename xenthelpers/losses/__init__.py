"""Losses built on cross-entropy, each a function with an ``nn.Module`` wrapper.

- :func:`focal_loss` and :func:`sigmoid_focal_loss`: down-weight easy examples;
- :func:`distillation_loss`: match a teacher's softened distribution;
- :func:`info_nce`: contrastive learning as classification;
- :func:`logit_adjusted_cross_entropy` and :func:`adjust_logits`: long-tailed labels;
- :func:`masked_binary_cross_entropy`: multi-label targets with missing labels;
- :func:`hierarchical_cross_entropy`: a softmax per decision of a class taxonomy;
- :func:`mixed_type_nll`: reconstruction loss of a table of mixed column types.
"""

import warnings
from collections.abc import Callable

import torch

from .contrastive import InfoNCELoss, info_nce
from .distillation import DistillationLoss, distillation_loss
from .focal import FocalLoss, focal_loss
from .hierarchical import (
    HierarchicalCrossEntropyLoss,
    HierarchicalSoftmax,
    hierarchical_cross_entropy,
    leaf_log_probs,
)
from .hierarchical import Taxonomy as Taxonomy
from .logit_adjustment import (
    LogitAdjustedCrossEntropyLoss,
    adjust_logits,
    logit_adjusted_cross_entropy,
)
from .masked import MaskedBCEWithLogitsLoss, masked_binary_cross_entropy
from .mixed_type import ColumnSpec as ColumnSpec
from .mixed_type import MixedSchema as MixedSchema
from .mixed_type import MixedTypeNLL, MixedTypeNLLLoss, mixed_type_nll
from .sigmoid_focal import SigmoidFocalLoss, sigmoid_focal_loss

__all__ = [
    "focal_loss",
    "sigmoid_focal_loss",
    "distillation_loss",
    "info_nce",
    "logit_adjusted_cross_entropy",
    "adjust_logits",
    "masked_binary_cross_entropy",
    "hierarchical_cross_entropy",
    "leaf_log_probs",
    "mixed_type_nll",
    "MixedTypeNLL",
    "FocalLoss",
    "SigmoidFocalLoss",
    "DistillationLoss",
    "InfoNCELoss",
    "LogitAdjustedCrossEntropyLoss",
    "MaskedBCEWithLogitsLoss",
    "HierarchicalCrossEntropyLoss",
    "HierarchicalSoftmax",
    "MixedTypeNLLLoss",
]

#: Not losses but the data structures that some losses take (a tree of classes, the
#: types of a table's columns): importable from here and from the top level, and
#: documented apart from the losses.
DATA_STRUCTURES = ["Taxonomy", "MixedSchema", "ColumnSpec"]


def __getattr__(name: str) -> Callable[..., torch.Tensor]:
    """Names that moved out of this subpackage, still importable for one release."""
    if name == "js_divergence":
        # stacklevel=2 names the caller: warnings skips the import system's frames.
        warnings.warn(
            "xenthelpers.losses.js_divergence is deprecated and will be removed in the next "
            "release; it compares probability vectors and is now in xenthelpers.metrics "
            "(import js_divergence from xenthelpers or xenthelpers.metrics)",
            DeprecationWarning,
            stacklevel=2,
        )
        from ..metrics.divergence import js_divergence

        return js_divergence
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

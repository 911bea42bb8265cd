"""Losses built on cross-entropy, each a function with an ``nn.Module`` wrapper.

- :func:`focal_loss` and :func:`sigmoid_focal_loss`: down-weight easy examples;
- :func:`distillation_loss`: match a teacher's softened distribution;
- :func:`js_divergence`: a symmetric, bounded divergence between distributions;
- :func:`info_nce`: contrastive learning as classification;
- :func:`logit_adjusted_cross_entropy` and :func:`adjust_logits`: long-tailed labels;
- :func:`masked_binary_cross_entropy`: multi-label targets with missing labels;
- :func:`hierarchical_cross_entropy`: a softmax per decision of a class taxonomy;
- :func:`mixed_type_nll`: reconstruction loss of a table of mixed column types.
"""

from .contrastive import info_nce
from .distillation import distillation_loss
from .divergence import js_divergence
from .focal import FocalLoss, focal_loss
from .hierarchical import (
    HierarchicalCrossEntropyLoss,
    HierarchicalSoftmax,
    Taxonomy,
    hierarchical_cross_entropy,
    leaf_log_probs,
)
from .logit_adjustment import adjust_logits, logit_adjusted_cross_entropy
from .masked import masked_binary_cross_entropy
from .mixed_type import ColumnSpec, MixedSchema, MixedTypeNLL, MixedTypeNLLLoss, mixed_type_nll
from .modules import (
    DistillationLoss,
    InfoNCELoss,
    LogitAdjustedCrossEntropyLoss,
    MaskedBCEWithLogitsLoss,
    SigmoidFocalLoss,
)
from .sigmoid_focal import sigmoid_focal_loss

__all__ = [
    "focal_loss",
    "sigmoid_focal_loss",
    "distillation_loss",
    "js_divergence",
    "info_nce",
    "logit_adjusted_cross_entropy",
    "adjust_logits",
    "masked_binary_cross_entropy",
    "hierarchical_cross_entropy",
    "leaf_log_probs",
    "Taxonomy",
    "mixed_type_nll",
    "ColumnSpec",
    "MixedSchema",
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

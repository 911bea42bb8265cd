"""xenthelpers: losses, targets, metrics and training utilities for cross-entropy.

The package reads like the book's table of contents:

- :mod:`xenthelpers.losses`: focal, distillation, contrastive, logit-adjusted,
  masked, hierarchical and mixed-type losses, each with an ``nn.Module`` wrapper;
- :mod:`xenthelpers.targets`: label smoothing (uniform and ordinal) and mixup;
- :mod:`xenthelpers.metrics`: calibration, proper scores, perplexity, energy;
- :mod:`xenthelpers.crowds`: majority vote and Dawid–Skene aggregation;
- :mod:`xenthelpers.training`: seeding, device choice, a small training loop;
- :mod:`xenthelpers.data`: the small synthetic datasets the chapters train on;
- :mod:`xenthelpers.plotting`: the book's figure style (needs the ``book`` extra).

Everything public is importable from the top level:
``from xenthelpers import focal_loss``.
"""

from . import crowds, losses, metrics, targets, training
from .crowds import *  # noqa: F403
from .losses import *  # noqa: F403
from .losses import ColumnSpec as ColumnSpec
from .losses import MixedSchema as MixedSchema
from .losses import Taxonomy as Taxonomy
from .metrics import *  # noqa: F403
from .targets import *  # noqa: F403
from .training import *  # noqa: F403

__version__ = "0.1.0"

__all__ = [
    *crowds.__all__,
    *losses.__all__,
    *losses.DATA_STRUCTURES,
    *metrics.__all__,
    *targets.__all__,
    *training.__all__,
]

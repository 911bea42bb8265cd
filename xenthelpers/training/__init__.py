"""Reproducibility, device choice, the shared training loop and ensembles over seeds.

- :func:`seed_everything` and :func:`get_device`: where and how reproducibly a chapter runs;
- :func:`fit` and :func:`predict_logits`: the small training loop;
- :class:`MLPEnsemble`: one independent ReLU network per seed, trained in a single pass,
  with :func:`sum_over_members` turning a mean loss into the sum of the members' losses;
  :func:`fit_ensemble` builds one from seeded initial weights and trains it;
- :func:`sample_per_seed`: one data set per seed, stacked for an ensemble;
- :func:`evaluate_members`: ECE, NLL, accuracy and confidence of every member;
- :func:`minimise_lbfgs`: an exact optimum of a small, smooth objective.

A result over seeds is printed with :func:`~xenthelpers.metrics.mean_sd`, in
:mod:`xenthelpers.metrics`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from .device import get_device
from .ensemble import MLPEnsemble, fit_ensemble, sum_over_members
from .evaluation import MemberMetrics, evaluate_members
from .lbfgs import minimise_lbfgs
from .loop import History, fit, predict_logits
from .seeding import seed_everything
from .stacked_samples import sample_per_seed

__all__ = [
    "History",
    "MLPEnsemble",
    "MemberMetrics",
    "evaluate_members",
    "fit",
    "fit_ensemble",
    "get_device",
    "minimise_lbfgs",
    "predict_logits",
    "sample_per_seed",
    "seed_everything",
    "sum_over_members",
]


def __getattr__(name: str) -> Callable[..., str]:
    """Names that moved out of this subpackage, still importable for one release."""
    if name == "mean_sd":
        # stacklevel=2 names the caller: warnings skips the import system's frames.
        warnings.warn(
            "xenthelpers.training.mean_sd is deprecated and will be removed in the next "
            "release; import mean_sd from xenthelpers or xenthelpers.metrics",
            DeprecationWarning,
            stacklevel=2,
        )
        from ..metrics.over_seeds import mean_sd

        return mean_sd
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

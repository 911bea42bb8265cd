"""Reproducibility, device choice, the shared training loop and ensembles over seeds.

- :func:`seed_everything` and :func:`get_device`: where and how reproducibly a chapter runs;
- :func:`fit` and :func:`predict_logits`: the small training loop;
- :class:`MLPEnsemble`: one independent ReLU network per seed, trained in a single pass;
- :func:`sample_per_seed`: one data set per seed, stacked for an ensemble;
- :func:`minimise_lbfgs`: an exact optimum of a small, smooth objective;
- :func:`mean_sd`: a result over seeds as ``"mean ± sd"``.
"""

from .device import get_device
from .ensemble import MLPEnsemble
from .lbfgs import minimise_lbfgs
from .loop import History, fit, predict_logits
from .per_seed import sample_per_seed
from .reproducibility import seed_everything
from .seeds import mean_sd

__all__ = [
    "History",
    "MLPEnsemble",
    "fit",
    "get_device",
    "mean_sd",
    "minimise_lbfgs",
    "predict_logits",
    "sample_per_seed",
    "seed_everything",
]

"""Reproducibility, device choice and the shared training loop."""

from .device import get_device
from .loop import History, fit, predict_logits
from .reproducibility import seed_everything

__all__ = ["History", "fit", "get_device", "predict_logits", "seed_everything"]

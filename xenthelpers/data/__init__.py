"""Synthetic data sets with known ground truth, seeded and documented."""

from .crowds import SimulatedCrowd, simulate_crowd, worker_confusion_matrix
from .synthetic import GaussianClasses, make_gaussian_classes

__all__ = [
    "GaussianClasses",
    "SimulatedCrowd",
    "make_gaussian_classes",
    "simulate_crowd",
    "worker_confusion_matrix",
]

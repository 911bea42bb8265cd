"""Synthetic data sets with known ground truth, seeded and documented."""

from .crowds import SimulatedCrowd, simulate_crowd, worker_confusion_matrix
from .localisation import LocalisationSample, ProteinLocalisation, make_protein_localisation
from .long_tail import long_tail_prior
from .synthetic import GaussianClasses, make_gaussian_classes

__all__ = [
    "GaussianClasses",
    "LocalisationSample",
    "ProteinLocalisation",
    "SimulatedCrowd",
    "long_tail_prior",
    "make_gaussian_classes",
    "make_protein_localisation",
    "simulate_crowd",
    "worker_confusion_matrix",
]

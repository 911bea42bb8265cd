"""Metrics: calibration, temperature scaling, proper scores, perplexity and energy.

- :func:`expected_calibration_error` and :func:`reliability_curve`: binned calibration;
- :func:`fit_temperature`: temperature scaling fitted by maximum likelihood;
- :func:`brier_score`, :func:`log_score`, :func:`spherical_score`: proper scoring rules;
- :func:`perplexity` and :func:`bits_per_character`: language-model metrics;
- :func:`energy_score`: free energy of the logits for out-of-distribution detection;
- :func:`over_seeds` and :func:`paired_difference`: a result repeated over seeds, with
  the confidence bounds that a trained claim is asserted against.
"""

from .calibration import ReliabilityCurve, expected_calibration_error, reliability_curve
from .energy import energy_score
from .language import bits_per_character, perplexity
from .over_seeds import SeedSummary, over_seeds, paired_difference
from .scoring import brier_score, log_score, spherical_score
from .temperature import fit_temperature

__all__ = [
    "ReliabilityCurve",
    "SeedSummary",
    "bits_per_character",
    "brier_score",
    "energy_score",
    "expected_calibration_error",
    "fit_temperature",
    "log_score",
    "over_seeds",
    "paired_difference",
    "perplexity",
    "reliability_curve",
    "spherical_score",
]

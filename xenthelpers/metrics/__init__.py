"""Metrics: calibration, temperature scaling, proper scores, perplexity and energy.

- :func:`expected_calibration_error` and :func:`reliability_curve`: binned calibration;
- :func:`fit_temperature`: temperature scaling fitted by maximum likelihood;
- :func:`brier_score`, :func:`log_score`, :func:`spherical_score`: proper scoring rules;
- :func:`perplexity` and :func:`bits_per_character`: language-model metrics;
- :func:`energy_score`: free energy of the logits for out-of-distribution detection;
- :func:`fpr_at_tpr`: the false positive rate at a fixed true positive rate (FPR@95);
- :func:`js_divergence`: the Jensen-Shannon divergence between probability vectors;
- :func:`bayes_threshold` and :func:`expected_cost_curve`: the cost-minimising threshold
  of a binary cost matrix, and the mean cost per example against the threshold;
- :func:`encode_labels`, :func:`decode_labels` and :func:`code_length_bits`: labels
  written to a file by a range coder, and their code length in bits (encoding needs
  the ``book`` extra's constriction);
- :func:`over_seeds` and :func:`paired_difference`: a result repeated over seeds, with
  the confidence bounds that a trained claim is asserted against; :func:`mean_sd`
  prints it as ``"mean ± sd"``;
- :class:`ClaimLedger`: each claim of a chapter checked against its threshold, and the
  table of all of them that ends the chapter.

The calibration, temperature, scoring, language and energy functions take
``validate_args=True``: the values of their inputs are checked, read back from the
device once; ``False`` skips that read (each docstring says what remains).
"""

from .calibration import ReliabilityCurve, expected_calibration_error, reliability_curve
from .claims import ClaimFailed, ClaimLedger, ClaimResult
from .code_length import (
    code_length_bits,
    coding_overhead_bits,
    decode_labels,
    encode_labels,
    quantise_probs,
)
from .detection import fpr_at_tpr
from .divergence import js_divergence
from .energy import energy_score
from .expected_cost import bayes_threshold, expected_cost_curve
from .language import bits_per_character, perplexity
from .over_seeds import SeedSummary, mean_sd, over_seeds, paired_difference
from .scoring import brier_score, log_score, spherical_score
from .temperature import fit_temperature

__all__ = [
    "ClaimFailed",
    "ClaimLedger",
    "ClaimResult",
    "ReliabilityCurve",
    "SeedSummary",
    "bayes_threshold",
    "bits_per_character",
    "brier_score",
    "code_length_bits",
    "coding_overhead_bits",
    "decode_labels",
    "encode_labels",
    "energy_score",
    "expected_calibration_error",
    "expected_cost_curve",
    "fit_temperature",
    "fpr_at_tpr",
    "js_divergence",
    "log_score",
    "mean_sd",
    "over_seeds",
    "paired_difference",
    "perplexity",
    "quantise_probs",
    "reliability_curve",
    "spherical_score",
]

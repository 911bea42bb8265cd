"""The chapters' data: synthetic sets with known ground truth, seeded and documented.

Besides the generators there is one small environment, the corridor MDP of
:class:`Corridor` with its exact evaluator, and one real data set,
scikit-learn's bundled handwritten digits (:func:`load_digits_split`).
"""

from .barcodes import (
    BarcodeRegions,
    decode_barcodes,
    encode_barcodes,
    kmer_counts,
    kmer_names,
    make_barcode_regions,
)
from .correlated_gaussians import (
    CorrelatedGaussians,
    correlation_for_mutual_information,
    gaussian_mutual_information,
    make_correlated_gaussians,
)
from .corridor import Corridor
from .digits import DigitsSplit, load_digits_split
from .gaussian_classes import GaussianClasses, make_gaussian_classes
from .localisation import LocalisationSample, ProteinLocalisation, make_protein_localisation
from .long_tail import long_tail_prior
from .markov import MarkovSource, make_markov_source
from .mixed_table import LatentFactorTable, MixedTableSample, make_mixed_table
from .rare_positives import RarePositives, RarePositivesSample
from .segments import SegmentModel, SegmentSample, isolated_positions
from .simulated_crowd import SimulatedCrowd, simulate_crowd, worker_confusion_matrix
from .taxonomy import TaxonomyClasses, make_taxonomy_classes
from .two_tasks import TwoTasks, TwoTasksSample

__all__ = [
    "BarcodeRegions",
    "CorrelatedGaussians",
    "Corridor",
    "DigitsSplit",
    "GaussianClasses",
    "LatentFactorTable",
    "LocalisationSample",
    "MarkovSource",
    "MixedTableSample",
    "ProteinLocalisation",
    "RarePositives",
    "RarePositivesSample",
    "SegmentModel",
    "SegmentSample",
    "SimulatedCrowd",
    "TaxonomyClasses",
    "TwoTasks",
    "TwoTasksSample",
    "correlation_for_mutual_information",
    "decode_barcodes",
    "encode_barcodes",
    "gaussian_mutual_information",
    "isolated_positions",
    "kmer_counts",
    "kmer_names",
    "load_digits_split",
    "long_tail_prior",
    "make_barcode_regions",
    "make_correlated_gaussians",
    "make_gaussian_classes",
    "make_markov_source",
    "make_mixed_table",
    "make_protein_localisation",
    "make_taxonomy_classes",
    "simulate_crowd",
    "worker_confusion_matrix",
]

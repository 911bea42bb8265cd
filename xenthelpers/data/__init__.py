"""Synthetic data sets with known ground truth, seeded and documented."""

from .barcodes import (
    BarcodeRegions,
    decode_barcodes,
    encode_barcodes,
    kmer_counts,
    kmer_names,
    make_barcode_regions,
)
from .gaussian_classes import GaussianClasses, make_gaussian_classes
from .localisation import LocalisationSample, ProteinLocalisation, make_protein_localisation
from .long_tail import long_tail_prior
from .markov import MarkovSource, make_markov_source
from .mixed_table import LatentFactorTable, MixedTableSample, make_mixed_table
from .rare_positives import RarePositives, RarePositivesSample
from .simulated_crowd import SimulatedCrowd, simulate_crowd, worker_confusion_matrix
from .taxonomy import TaxonomyClasses, make_taxonomy_classes

__all__ = [
    "BarcodeRegions",
    "GaussianClasses",
    "LatentFactorTable",
    "LocalisationSample",
    "MarkovSource",
    "MixedTableSample",
    "ProteinLocalisation",
    "RarePositives",
    "RarePositivesSample",
    "SimulatedCrowd",
    "TaxonomyClasses",
    "decode_barcodes",
    "encode_barcodes",
    "kmer_counts",
    "kmer_names",
    "long_tail_prior",
    "make_barcode_regions",
    "make_gaussian_classes",
    "make_markov_source",
    "make_mixed_table",
    "make_protein_localisation",
    "make_taxonomy_classes",
    "simulate_crowd",
    "worker_confusion_matrix",
]

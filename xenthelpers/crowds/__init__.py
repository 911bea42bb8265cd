"""Aggregating crowd annotations into soft labels: majority vote and Dawid–Skene."""

from .dawid_skene import DawidSkeneResult, dawid_skene
from .majority import majority_vote, majority_vote_labels

__all__ = ["DawidSkeneResult", "dawid_skene", "majority_vote", "majority_vote_labels"]

"""One plotting style for every figure of the book.

Requires the ``book`` extra (matplotlib and seaborn); the rest of the package
does not import this module.
"""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

#: The colour-blind-safe palette of the book (seaborn's ``"colorblind"``).
PALETTE = sns.color_palette("colorblind")


def use_book_style() -> None:
    """Apply the book's figure style: white grid, colour-blind palette, readable sizes.

    Examples
    --------
    >>> use_book_style()
    >>> mpl.rcParams["figure.dpi"]
    110.0
    """
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": 110.0,
            "savefig.dpi": 110.0,
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "figure.constrained_layout.use": True,
        }
    )

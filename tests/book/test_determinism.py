"""Running a chapter twice on one machine prints exactly the same text.

`make test-notebooks` records what each chapter printed under nbval; here two chapters
that train several seeded networks run once more, in the same single-threaded kernels,
and every printed line must match: every number, every table.
"""

from __future__ import annotations

import nbformat
import pytest

from tests.notebook_text import execute, text_outputs
from tests.paths import BOOK, EXECUTED

CHAPTERS = ["class-weights", "missing-labels"]


@pytest.mark.parametrize("stem", CHAPTERS)
def test_a_second_run_prints_the_same_text(stem):
    record = EXECUTED / f"book__{stem}.ipynb"
    if not record.exists():
        pytest.fail(f"{stem} has no execution record; run `make test-notebooks` first")
    first = text_outputs(nbformat.read(record, as_version=4))
    second = text_outputs(execute(BOOK / f"{stem}.ipynb"))
    assert len(first) == len(second)
    differing = [i for i, (a, b) in enumerate(zip(first, second)) if a != b]
    if differing:
        cell = differing[0]
        pytest.fail(f"{stem}: code cells {differing} printed different text on a second run; "
                    f"cell {cell} first:\n{first[cell]}\nthen:\n{second[cell]}")

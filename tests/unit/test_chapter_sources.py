"""Rules for what a chapter's source (or a markdown page) may contain, checked without running it.

* Numbers that a run measures reach the prose through MyST-NB's ``glue``: a decimal
  number typed into a markdown cell would disagree with the outputs on another machine.
  Decimals inside math, inline code, citations, cross-references and glue roles are
  fine, and so are the few design constants listed in ``prose_constants.yml``.
* No chapter asserts on a wall-clock measurement: a loaded machine would flip it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.paths import chapters, pages

CONSTANTS = yaml.safe_load((Path(__file__).with_name("prose_constants.yml")).read_text())

# Spans whose numbers are not prose: display and inline math, roles such as
# {glue:text}`name:.3f` or {cite}`key`, inline code, link targets, HTML comments.
_NOT_PROSE = re.compile(
    r"\$\$.*?\$\$"
    r"|\$[^$\n]*(?:\n[^$\n]*)*?\$"
    r"|\{[\w:-]+\}`[^`]*`"
    r"|``.*?``|`[^`]*`"
    r"|\]\([^)]*\)"
    r"|<!--.*?-->"
    r"|\\begin\{(\w+\*?)\}.*?\\end\{\1\}",
    re.S,
)
_DECIMAL = re.compile(r"(?<![\w.])\d*\.\d+(?![\w.]*\d)")
_CLOCKS = ("perf_counter", "time.time(", "timeit", "process_time", "monotonic")


def _cells(path: Path, kind: str) -> list[str]:
    if path.suffix == ".md":  # a markdown page is all prose
        return [path.read_text()] if kind == "markdown" else []
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == kind]


def prose_decimals(markdown: str) -> list[str]:
    """Decimal numbers in the prose of one markdown cell (outside math, code and roles)."""
    prose = _NOT_PROSE.sub(" ", markdown)
    return _DECIMAL.findall(prose)


@pytest.mark.parametrize(
    "text, found",
    [
        ("accuracy fell by 0.042 on average", ["0.042"]),
        ("at $\\alpha = 0.1$ and {glue:text}`gap:.3f`", []),
        ("see {cite}`lin2017`, eq. {eq}`focal`; version 2.13.0 of `torch==2.13.0`", []),
        ("$$\nx = 0.5\n$$\nand then .25 of it", [".25"]),
    ],
)
def test_prose_decimals_finds_typed_numbers_only(text, found):
    assert prose_decimals(text) == found


@pytest.mark.parametrize("path", chapters() + pages(), ids=lambda p: p.stem)
def test_numbers_in_the_prose_are_computed(path):
    allowed = {str(c) for c in CONSTANTS.get(path.stem, [])} | {str(c) for c in CONSTANTS["all"]}
    typed = sorted({n for cell in _cells(path, "markdown") for n in prose_decimals(cell)} - allowed)
    assert not typed, (
        f"{path.name}: decimals typed into the prose {typed}; glue them from the run "
        f"({{glue:text}}`name:.3f`), put a design constant in math, or list it in prose_constants.yml"
    )


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_no_chapter_reads_a_clock(path):
    """Timing belongs to `make bench`; a chapter asserts exact counts instead."""
    clocks = [c for c in _cells(path, "code") if any(clock in c for clock in _CLOCKS)]
    assert not clocks, f"{path.name} measures wall-clock time: {clocks[0][:200]}"


def _markdown_lines_inside_inline_math(markdown: str) -> list[str]:
    """Lines that begin with a list marker while an inline ``$...$`` span is open.

    Markdown reads such a line as a list item, which breaks the math apart.
    """
    prose = re.sub(r"\$\$.*?\$\$", " ", markdown, flags=re.S)
    broken, inside = [], False
    for line in prose.split("\n"):
        if inside and re.match(r"\s*(?:[-+*]|\d+[.)])\s", line):
            broken.append(line)
        if line.count("$") % 2:
            inside = not inside
    return broken


@pytest.mark.parametrize("path", chapters() + pages(), ids=lambda p: p.stem)
def test_no_inline_math_line_starts_like_a_list_item(path):
    broken = [line for cell in _cells(path, "markdown")
              for line in _markdown_lines_inside_inline_math(cell)]
    assert not broken, f"{path.name}: move the operator to the end of the previous line: {broken}"


def _book_macros() -> set[str]:
    config = yaml.safe_load((Path(__file__).parents[2] / "_config.yml").read_text())
    return set(config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"])


@pytest.mark.parametrize("path", chapters() + pages(), ids=lambda p: p.stem)
def test_the_book_notation_macros_are_defined(path):
    """``\\vp``-style vector macros are the book's own: MathJax must know each one."""
    used = {m for cell in _cells(path, "markdown") for m in re.findall(r"\\(v[a-z])\b", cell)}
    assert used <= _book_macros(), f"{path.name}: undefined macros {sorted(used - _book_macros())}"


CODE_WIDTH = 72  # characters: a code line wider than this is cut in the rendered column


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_code_lines_fit_the_column(path):
    wide = [line for cell in _cells(path, "code") for line in cell.split("\n")
            if len(line) > CODE_WIDTH]
    assert not wide, f"{path.name}: code lines over {CODE_WIDTH} characters: {wide[:3]}"


def _only_checks(code: str) -> bool:
    lines = [line.strip() for line in code.split("\n") if line.strip()]
    return bool(lines) and all(
        line.startswith(("assert ", "#", "glue(")) for line in lines
    )


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_no_assertion_sits_apart_from_its_evidence(path):
    """A claim's cell computes, prints and asserts: no cell of bare assertions."""
    lone = [cell for cell in _cells(path, "code") if _only_checks(cell)]
    assert not lone, f"{path.name}: a cell of assertions only: {lone[0][:120]!r}"

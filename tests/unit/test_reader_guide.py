"""What a reader holds on to in every chapter, checked in its source.

* **Figures** are numbered: each figure cell carries MyST-NB figure metadata with a
  name (``fig-<chapter>-…``) and a caption of at most three sentences, and the prose
  refers to it by number (``{numref}``). No italic "Figure:" paragraph stands in for a
  caption.
* **Claims** are numbered ``{claim}`` blocks labelled ``claim-<chapter>-…``; each label
  is checked in code by the chapter's ``ClaimLedger`` (``claims.check("<label>", …)``)
  and no label is checked that the prose does not state. The chapter ends with the
  generated table of its claims.
* **Exercises** are numbered ``{exercise}`` blocks (at least two), each with a worked
  solution hidden in a dropdown until the reader opens it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.paths import chapters

CHAPTERS = [path for path in chapters() if path.stem != "intro"]
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)[.!?](?=\s+[A-Z(]|\s*$)")
_NOT_SENTENCE_TEXT = re.compile(r"\$[^$]*\$|\{[\w:-]+\}`[^`]*`|`[^`]*`")


def _notebook(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _markdown(path: Path) -> str:
    return "\n\n".join(_source(c) for c in _notebook(path) if c["cell_type"] == "markdown")


def _code(path: Path) -> str:
    return "\n\n".join(_source(c) for c in _notebook(path) if c["cell_type"] == "code")


def sentences(caption: str) -> int:
    """Number of sentences in a caption (math, roles and code do not end one)."""
    text = _NOT_SENTENCE_TEXT.sub("X", caption).strip()
    ends = len(_SENTENCE_END.findall(text))
    return ends + (not re.search(r"[.!?]$", text))


@pytest.mark.parametrize(
    ("caption", "count"),
    [
        ("One sentence.", 1),
        ("The loss at $x = 0.5$. Second one, e.g. this. Third!", 3),
        ("See {eq}`a.b`. Then (a) and (b). Last", 3),
    ],
)
def test_sentences_counts_what_a_reader_counts(caption, count):
    assert sentences(caption) == count


def _directive_blocks(markdown: str, name: str) -> list[tuple[str, str]]:
    """(argument, body) of every ``:::{name} argument`` block."""
    pattern = re.compile(rf"^:::+\{{{name}\}}[ \t]*([^\n]*)\n(.*?)^:::+[ \t]*$", re.M | re.S)
    return [(m.group(1).strip(), m.group(2)) for m in pattern.finditer(markdown)]


def _label(body: str) -> str | None:
    match = re.search(r"^:label:\s*(\S+)", body, re.M)
    return match.group(1) if match else None


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_is_numbered_captioned_and_referenced(path):
    markdown = _markdown(path)
    problems = []
    figure_cells = [
        c for c in _notebook(path) if c["cell_type"] == "code" and "image" in
        c["metadata"].get("mystnb", {})
    ]
    for cell in figure_cells:
        figure = cell["metadata"]["mystnb"].get("figure", {})
        name, caption = figure.get("name", ""), figure.get("caption", "")
        first_line = _source(cell).splitlines()[0] if cell["source"] else ""
        if not name.startswith(f"fig-{path.stem}-"):
            problems.append(f"figure cell {first_line!r}: name {name!r} is not fig-{path.stem}-…")
        if not caption or sentences(caption) > 3:
            problems.append(f"{name or first_line!r}: caption missing or over three sentences")
        if caption.lstrip().startswith(("*", "_")):
            problems.append(f"{name!r}: caption in italics")
        if name and f"`{name}`" not in markdown:
            problems.append(f"{name!r} is never referred to ({{numref}}`{name}`)")
    if re.search(r"^\s*[*_]Figure\b", markdown, re.M):
        problems.append("an italic 'Figure' paragraph stands in for a caption")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_claim_is_a_numbered_block_checked_by_the_ledger(path):
    markdown, code = _markdown(path), _code(path)
    assert not re.search(r"\*\*Claims?\b[^*]*\*\*", markdown), (
        "a bold 'Claim' paragraph: use a :::{claim} block"
    )
    blocks = _directive_blocks(markdown, "claim")
    assert blocks, "the chapter states no claim"
    labels = [_label(body) for _, body in blocks]
    wrong = [label for label in labels if not (label or "").startswith(f"claim-{path.stem}-")]
    assert not wrong, f"claim blocks without a claim-{path.stem}-… label: {wrong}"
    assert len(set(labels)) == len(labels), f"a claim label is used twice: {labels}"
    checked = set(re.findall(r"claims\.check\(\s*[\"'](claim-[\w-]+)[\"']", code))
    assert set(labels) - checked == set(), (
        f"claims the ledger never checks: {sorted(set(labels) - checked)}"
    )
    assert checked - set(labels) == set(), (
        f"ledger checks of no stated claim: {sorted(checked - set(labels))}"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_chapter_ends_with_its_claims_table(path):
    cells = [c for c in _notebook(path) if _source(c).strip()]
    *_, heading, table = cells
    assert heading["cell_type"] == "markdown" and re.search(
        r"^## Claims checked in this chapter", _source(heading), re.M
    ), "the last section is not '## Claims checked in this chapter'"
    code = _source(table).strip()
    assert table["cell_type"] == "code" and code.splitlines()[-1] == "claims", (
        "the last cell does not display the ledger (`claims`)"
    )
    assert "claims.all_hold" in code


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_hidden_solution(path):
    markdown = _markdown(path)
    assert not re.search(r"^## Exercises\s*\n+\s*1\. ", markdown, re.M), (
        "exercises as a plain list: use :::{exercise} blocks"
    )
    exercises = [_label(body) for _, body in _directive_blocks(markdown, "exercise")]
    assert len(exercises) >= 2, f"{len(exercises)} exercise block(s); at least two"
    assert all((label or "").startswith(f"ex-{path.stem}-") for label in exercises), exercises
    solutions = _directive_blocks(markdown, "solution") + _directive_blocks(
        markdown, "solution-start"
    )
    solved = {argument: body for argument, body in solutions}
    missing = [label for label in exercises if label not in solved]
    assert not missing, f"exercises without a solution: {missing}"
    shown = [label for label, body in solved.items() if not re.search(
        r"^:class:.*\bdropdown\b", body, re.M)]
    assert not shown, f"solutions not hidden (add `:class: dropdown`): {shown}"
    starts = len(_directive_blocks(markdown, "solution-start"))
    ends = len(re.findall(r"^:::+\{solution-end\}", markdown, re.M))
    assert starts == ends, f"{starts} solution-start but {ends} solution-end"


_FIGSIZE = re.compile(r"figsize\s*=\s*\(\s*([\d.]+)\s*,")
_FONT_SIZE = re.compile(
    r"""(?:\b(?:fontsize|labelsize|title_fontsize)\s*=|["'](?:size|fontsize)["']\s*:)"""
    r"""\s*["']?([\w.-]+)"""
)
_SMALLER_NAMES = {"xx-small", "x-small", "small", "smaller"}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_figures_are_narrow_enough_and_their_text_large_enough(path):
    from xenthelpers.plotting import MAX_FIGURE_WIDTH_IN, SMALLEST_FONT_PT

    code = _code(path)
    wide = [w for w in _FIGSIZE.findall(code) if float(w) > MAX_FIGURE_WIDTH_IN]
    assert not wide, f"figures wider than {MAX_FIGURE_WIDTH_IN} in: {wide}"
    small = [
        size for size in _FONT_SIZE.findall(code)
        if size in _SMALLER_NAMES
        or (_number(size) is not None and _number(size) < SMALLEST_FONT_PT)
    ]
    assert not small, f"text smaller than {SMALLEST_FONT_PT} pt: {small}"

"""The book as one PDF (`make pdf`): every page of the table of contents, in order, each
starting a new page that prints its title, with a bookmark to it; the math typeset; the
figures printed.

Run with `make test-pdf` (which writes the PDF first), or
    .venv/bin/python -m pytest tests/pdf -p no:cacheprovider
against the PDF named by XENT_PDF (default _build/pdf/cross-entropy-at-work.pdf), built
from the table of contents named by XENT_PDF_TOC (default _toc.yml).
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from tests.paths import ROOT


def _path(variable: str, default: str) -> Path:
    path = Path(os.environ.get(variable, default))
    return path if path.is_absolute() else ROOT / path


PDF = _path("XENT_PDF", "_build/pdf/cross-entropy-at-work.pdf")
TOC = _path("XENT_PDF_TOC", "_toc.yml")


def toc_sources() -> list[Path]:
    """The source of every page of the table of contents, in order (root first)."""
    toc = yaml.safe_load(TOC.read_text())
    names = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        names += [chapter["file"] for chapter in part.get("chapters", [])]
    sources = []
    for name in names:
        found = [ROOT / f"{name}{suffix}" for suffix in (".ipynb", ".md")]
        sources.append(next((path for path in found if path.exists()), found[0]))
    return sources


def _markdown(source: Path) -> list[str]:
    if source.suffix == ".ipynb":
        notebook = nbformat.read(source, as_version=4)
        return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    return [source.read_text(encoding="utf-8")]


def title(source: Path) -> str:
    """The page's first level-one heading, as plain text."""
    for text in _markdown(source):
        fenced = False
        for line in text.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            elif not fenced and line.startswith("# "):
                plain = re.sub(r"[`*]", "", line[2:])
                return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", plain).strip()
    raise AssertionError(f"{source.relative_to(ROOT)} has no '# ' heading")


def figure_cells(source: Path) -> int:
    """The code cells that draw a figure (those with image or figure metadata)."""
    if source.suffix != ".ipynb":
        return 0
    notebook = nbformat.read(source, as_version=4)
    return sum(
        1
        for cell in notebook.cells
        if cell.cell_type == "code" and {"image", "figure"} & set(cell.metadata.get("mystnb", {}))
    )


_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2010": "-",
        "\u2011": "-",
    }
)


def normalise(text: str) -> str:
    """Ligatures and compatibility forms resolved, quotes and dashes plain, soft hyphens
    dropped, whitespace collapsed, case folded."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).replace("\u00ad", "")
    return re.sub(r"\s+", " ", text).strip().casefold()


# Smaller images are icons (a broken image's placeholder among them), not figures.
MIN_FIGURE_PIXELS = 64


def _figures(page: Any) -> int:
    count = 0
    for image in page.images:
        width, height = image.image.size if image.image is not None else (0, 0)
        count += min(width, height) >= MIN_FIGURE_PIXELS
    return count


@functools.cache
def pdf() -> tuple[list[str], list[int], list[tuple[str, int]]]:
    """The text and the number of figure-sized images of every page of the PDF, and its
    outline (bookmarks), flattened in order, as (title, page) pairs."""
    if not PDF.exists():
        pytest.fail(f"no PDF at {PDF}: run `make pdf` first")
    from pypdf import PdfReader

    reader = PdfReader(PDF)
    texts = [page.extract_text() or "" for page in reader.pages]
    images = [_figures(page) for page in reader.pages]
    outline: list[tuple[str, int]] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                outline.append((str(item.title), reader.get_destination_page_number(item)))

    walk(reader.outline)
    return texts, images, outline


def pdf_pages() -> tuple[list[str], list[int]]:
    texts, images, _ = pdf()
    return texts, images


_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?")


@functools.cache
def chapter_pages() -> dict[Path, int]:
    """The page (0-based) on which each page of the table of contents starts: that of its
    title's bookmark, found in order, each after the previous one, and only where the
    title is printed on that page. A page that is not found is left out."""
    texts, _, outline = pdf()
    starts: dict[Path, int] = {}
    after = 0
    for source in toc_sources():
        heading = normalise(title(source))
        for index in range(after, len(outline)):
            name, page = outline[index]
            if _NUMBER.sub("", normalise(name)) == heading and heading in normalise(texts[page]):
                starts[source] = page
                after = index + 1
                break
    return starts


def test_pdf_has_pages() -> None:
    texts, _ = pdf_pages()
    assert len(texts) >= len(toc_sources()), f"{PDF.name} has only {len(texts)} pages"


def test_every_chapter_has_a_bookmark_to_its_title_in_toc_order() -> None:
    starts = chapter_pages()
    missing = [
        f"{source.relative_to(ROOT)}: {title(source)!r}"
        for source in toc_sources()
        if source not in starts
    ]
    assert not missing, (
        f"{PDF.name}: no bookmark, in table-of-contents order after the previous one, leads "
        "to a page that prints these titles:\n" + "\n".join(f"  - {item}" for item in missing)
    )


def test_every_chapter_starts_a_new_page() -> None:
    pages = list(chapter_pages().values())
    assert pages == sorted(set(pages)), f"chapters share a page or run backwards: {pages}"


def test_every_chapter_title_is_in_the_text_in_order() -> None:
    texts, _ = pdf_pages()
    text = normalise(" ".join(texts))
    position = 0
    for source in toc_sources():
        heading = normalise(title(source))
        found = text.find(heading, position)
        assert found >= 0, f"{heading!r} ({source.name}) not found after position {position}"
        position = found + len(heading)


# TeX that MathJax would have typeset: display delimiters, \( \) \[ \] and control words
# (those the book defines in _config.yml and the common ones; no word starting with "n",
# so that a "\n" printed by a code cell does not count).
_CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
_MACROS = set(
    _CONFIG.get("sphinx", {})
    .get("config", {})
    .get("mathjax3_config", {})
    .get("tex", {})
    .get("macros", {})
)
_COMMON = """frac tfrac dfrac mathbf mathrm mathbb mathcal operatorname begin end left right sum
prod log exp sqrt cdot mid lVert rVert Vert alpha beta gamma lambda sigma theta tau pi mu
epsilon varepsilon infty leq geq le ge approx text hat tilde bar quad qquad top partial in to"""
_WORDS = set(re.findall(r"\w+", _COMMON)) | _MACROS
_RAW_TEX = re.compile(
    r"\$\$|\\[()\[\]]|\\(?:"
    + "|".join(sorted(w for w in _WORDS if not w.startswith("n")))
    + r")(?![A-Za-z])"
)


def test_no_raw_tex() -> None:
    texts, _ = pdf_pages()
    raw = []
    for index, text in enumerate(texts):
        for match in _RAW_TEX.finditer(text):
            context = text[max(0, match.start() - 30) : match.end() + 30].replace("\n", " ")
            raw.append(f"page {index + 1}: {match.group(0)!r} in ...{context}...")
    assert not raw, f"{PDF.name} shows TeX that was not typeset:\n" + "\n".join(
        f"  - {item}" for item in raw[:20]
    )


def test_every_figure_is_printed() -> None:
    """Each chapter's pages hold at least as many images as the chapter has figure cells."""
    _, images = pdf_pages()
    starts = chapter_pages()
    found = sorted(starts.items(), key=lambda item: item[1])
    ends = [page for _, page in found[1:]] + [len(images)]
    short = []
    for (source, start), end in zip(found, ends, strict=True):
        expected, printed = figure_cells(source), sum(images[start:end])
        if printed < expected:
            short.append(
                f"{source.name}: {printed} image(s) on pages {start + 1}-{end}, "
                f"{expected} figure cell(s)"
            )
    total = sum(figure_cells(source) for source in toc_sources())
    assert sum(images) >= total, f"{PDF.name} holds {sum(images)} images for {total} figures"
    assert not short, "chapters whose figures are missing from the PDF:\n" + "\n".join(
        f"  - {item}" for item in short
    )

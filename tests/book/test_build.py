"""The book as a whole: every chapter executed, within budget, and a clean strict build.

Run after ``make test-notebooks``, which executes every chapter under nbval and
records its outputs and run time in ``_build/executed`` (see ``book/conftest.py``).
The build below starts from an empty output folder and an execution cache filled
only from those records, so it cannot pass on a stale or failed chapter: a chapter
without a fresh record would be executed again by the build and fail the
"nothing re-executed" check.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from tests.paths import EXECUTED, ROOT, chapters

BUDGET_SECONDS = 60.0
BUILD_ROOT = ROOT / "_build" / "ci"
HTML = BUILD_ROOT / "_build" / "html"
CACHE = BUILD_ROOT / "_build" / ".jupyter_cache"
JB_FLAGS = ["--builder", "html", "--warningiserror", "--nitpick", "--keep-going", "--all"]


def _record(chapter: Path) -> dict:
    name = "__".join(chapter.relative_to(ROOT).with_suffix("").parts)
    path = EXECUTED / f"{name}.json"
    if not path.exists():
        pytest.fail(f"{chapter.name} has no execution record; run `make test-notebooks` first")
    return json.loads(path.read_text()) | {"notebook": EXECUTED / f"{name}.ipynb"}


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def records() -> dict[Path, dict]:
    return {chapter: _record(chapter) for chapter in chapters()}


def test_every_chapter_was_executed_from_its_current_source(records):
    stale = [c.name for c, r in records.items() if r["sha256"] != _digest(c)]
    assert not stale, f"executed from an older source: {stale}; rerun `make test-notebooks`"


def test_every_chapter_runs_within_budget(records):
    times = sorted(((r["seconds"], c.name) for c, r in records.items()), reverse=True)
    print("\nchapter run times (s), slowest first:")
    for seconds, name in times:
        print(f"  {seconds:6.1f}  {name}")
    over = [(name, seconds) for seconds, name in times if seconds > BUDGET_SECONDS]
    assert not over, f"over the {BUDGET_SECONDS:.0f} s budget: {over}"


@pytest.fixture(scope="module")
def build_log(records) -> str:
    shutil.rmtree(BUILD_ROOT, ignore_errors=True)
    cache = get_cache(str(CACHE))
    for chapter, record in records.items():
        executed = nbformat.read(record["notebook"], as_version=4)
        bundle = CacheBundleIn(executed, str(chapter), data={"execution_seconds": record["seconds"]})
        cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(ROOT), "--path-output", str(BUILD_ROOT), *JB_FLAGS]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"the book build failed:\n{log[-6000:]}"
    return log


def test_book_builds_without_executing_anything_again(build_log):
    assert "Executing notebook" not in build_log, "a chapter was executed again by the build"
    assert (HTML / "index.html").exists()


def _pages() -> list[Path]:
    return sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)


def test_site_loads_nothing_from_the_network(build_log):
    remote = re.compile(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=[\"'](?:https?:)?//", re.I)
    offenders = {p.name: m.group(0) for p in _pages() for m in [remote.search(p.read_text())] if m}
    assert not offenders, f"pages that fetch remote resources: {offenders}"


def test_math_is_rendered_by_a_bundled_mathjax(build_log):
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").exists()
    intro = (HTML / "book" / "intro.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in intro
    config = re.search(r"window\.MathJax = (\{.*?\})\s*</script>", intro, re.S)
    assert config, "no MathJax configuration on the page"
    assert "xent" in json.loads(config.group(1))["tex"]["macros"], "notation macros missing"


def test_bibliography_and_status_pages_are_filled(build_log):
    bibliography = (HTML / "book" / "bibliography.html").read_text()
    assert "Shannon" in bibliography
    status = (HTML / "book" / "status.html").read_text()
    for chapter in chapters():
        assert chapter.stem in status, f"{chapter.stem} missing from the status table"


def test_every_figure_has_alt_text(records):
    """A cell that draws a figure carries ``mystnb.image.alt`` metadata."""
    missing = []
    for chapter, record in records.items():
        executed = nbformat.read(record["notebook"], as_version=4)
        for index, cell in enumerate(executed.cells):
            draws = any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            if draws and len(alt.split()) < 5:
                missing.append(f"{chapter.name} cell {index}")
    assert not missing, f"figures without alt text: {missing}"


def test_rendered_images_carry_their_alt_text(build_log):
    images = [m for p in _pages() for m in re.finditer(r"<img\b[^>]*>", p.read_text())]
    assert images, "no images on the site"
    unlabelled = [m.group(0) for m in images if re.search(r'alt="(?:[^"]*\.png)?"', m.group(0))]
    assert not unlabelled, f"images whose alt text is empty or a file name: {unlabelled[:3]}"

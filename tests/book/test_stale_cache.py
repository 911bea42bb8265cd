"""`make book` never serves outputs computed with an older `xenthelpers`.

jupyter-cache keys a notebook's outputs on its code cells alone, so on its own it
would keep serving a chapter's old outputs after the package changed underneath it.
The Makefile drops the cache when the package source changes. This test builds a
one-page book in a copy of the repository twice (the second time from the cache), then
breaks a helper that page relies on and expects the next warm build to fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from tests.paths import ROOT

PROBE = [
    nbformat.v4.new_markdown_cell("# Probe\n\nA page that relies on one helper."),
    nbformat.v4.new_code_cell(
        "import torch\n"
        "from xenthelpers import minimise_lbfgs\n\n"
        "x = torch.zeros(1, dtype=torch.float64, requires_grad=True)\n"
        "minimise_lbfgs([x], lambda: ((x - 3.0) ** 2).sum())\n"
        "assert abs(x.item() - 3.0) < 1e-6"
    ),
]
HELPER = Path("xenthelpers/training/lbfgs.py")
GUARD = 'check_positive_int(max_iter, "max_iter")'


def _copy_with_one_page(destination: Path) -> None:
    shutil.copytree(ROOT, destination,
                    ignore=shutil.ignore_patterns(".git", ".venv", "_build", "*.ipynb", "__pycache__"))
    for installed_from in ("pyproject.toml", "constraints.txt"):  # older than the venv
        os.utime(destination / installed_from, (0, 0))
    nbformat.write(nbformat.v4.new_notebook(cells=PROBE), destination / "book" / "probe.ipynb")
    (destination / "_toc.yml").write_text("format: jb-book\nroot: book/probe\n")


def _make_book(where: Path) -> subprocess.CompletedProcess:
    venv = Path(sys.executable).parent.parent
    # The kernel imports the copy's package, not the one installed in editable mode.
    env = os.environ | {"PYTHONPATH": str(where)}
    return subprocess.run(["make", "book", f"VENV={venv}"], cwd=where, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_changed_helper_makes_the_warm_build_execute_again(tmp_path):
    book = tmp_path / "book-copy"
    _copy_with_one_page(book)
    first, second = _make_book(book), _make_book(book)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Executing notebook" in first.stdout + first.stderr
    assert second.returncode == 0 and "Executing notebook" not in second.stdout + second.stderr, \
        "an unchanged library should reuse the execution cache"

    helper = book / HELPER
    source = helper.read_text()
    assert GUARD in source
    helper.write_text(source.replace(GUARD, 'return float("nan")  # broken on purpose', 1))
    broken = _make_book(book)
    log = broken.stdout + broken.stderr
    assert broken.returncode != 0, "the warm build served outputs from before the change"
    assert "executing every chapter again" in log and "AssertionError" in log

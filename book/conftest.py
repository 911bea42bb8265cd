"""Keep what nbval executes, so that the book build reuses it.

`make test` runs every chapter under nbval. This plugin records, for each chapter
whose cells all passed, the executed notebook and its wall-clock time (kernel start
included) under ``_build/executed/``. ``tests/book`` then checks the time budget and
builds the book from those outputs instead of executing every chapter a second time.
Nothing is written for a chapter with a failing cell, so a failed or edited chapter
can never reach the book build as a stale success.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import IPyNbCell

ROOT = Path(__file__).resolve().parent.parent
EXECUTED_DIR = ROOT / "_build" / "executed"

_started: dict[str, float] = {}
_failed: set[str] = set()


def source_digest(path: Path) -> str:
    """SHA-256 of a notebook file, to tie a record to the exact source it ran."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_name(path: Path) -> str:
    """File stem of the record of a chapter, unique across the book folder."""
    return "__".join(path.resolve().relative_to(ROOT).with_suffix("").parts)


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item):
    if isinstance(item, IPyNbCell) and item.cell_num == 0:
        _started[item.parent.nodeid] = time.perf_counter()  # before the kernel starts
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not isinstance(item, IPyNbCell):
        return
    notebook_id = item.parent.nodeid
    if outcome.get_result().failed:
        _failed.add(notebook_id)
        return
    if call.when != "call" or notebook_id in _failed:
        return
    code_cells = _code_cells(item.parent.nb)
    cell = code_cells[item.cell_num]
    cell.outputs = [nbformat.from_dict(out) for out in item.test_outputs or []]
    cell.execution_count = item.cell_num + 1
    if item.cell_num == len(code_cells) - 1:
        _write_record(item.parent, time.perf_counter() - _started[notebook_id])


def _write_record(nb_file, seconds: float) -> None:
    path = Path(str(nb_file.fspath))
    executed = copy.deepcopy(nb_file.nb)
    for cell in executed.cells:
        if cell.cell_type == "code":
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    out.execution_count = cell.execution_count
    EXECUTED_DIR.mkdir(parents=True, exist_ok=True)
    name = record_name(path)
    nbformat.write(executed, EXECUTED_DIR / f"{name}.ipynb")
    record = {
        "source": str(path.relative_to(ROOT)),
        "sha256": source_digest(path),
        "seconds": round(seconds, 3),
    }
    (EXECUTED_DIR / f"{name}.json").write_text(json.dumps(record, indent=2))

"""Execute a chapter as `make test` does and return the text it prints, cell by cell.

Used by the determinism test; also handy by hand:
``python -m tests.notebook_text book/intro.ipynb > run1.txt``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# The same single-threaded kernels as `make test-notebooks`.
KERNEL_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def execute(path: Path, timeout: int = 300) -> nbformat.NotebookNode:
    """Run every cell of the notebook at ``path`` in a fresh kernel, from its folder."""
    notebook = nbformat.read(path, as_version=4)
    saved = {key: os.environ.get(key) for key in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def text_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """What each code cell printed to stdout or returned as text/plain."""
    texts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stdout":
                parts.append(out.text)
            elif "text/plain" in out.get("data", {}) and "image/png" not in out["data"]:
                parts.append(out["data"]["text/plain"])
        texts.append("".join(parts))
    return texts


if __name__ == "__main__":
    for index, text in enumerate(text_outputs(execute(Path(sys.argv[1])))):
        print(f"--- code cell {index}\n{text}", end="" if text.endswith("\n") else "\n")

"""Rules the repository keeps: clean notebooks, one table of contents, matching environments."""

from __future__ import annotations

import inspect
import json
import re

import pytest
import yaml
from packaging.requirements import Requirement

import xenthelpers
from tests.paths import BOOK, ROOT, chapters, toc_files

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib


def _cells(path):
    return json.loads(path.read_text())["cells"]


@pytest.mark.parametrize("path", sorted(BOOK.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    dirty = [
        i for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


def test_every_chapter_is_in_the_table_of_contents():
    listed = {ROOT / f"{name}.ipynb" for name in toc_files()} | {
        ROOT / f"{name}.md" for name in toc_files()
    }
    pages = set(BOOK.glob("*.ipynb")) | set(BOOK.glob("*.md"))
    assert pages <= listed, f"not in _toc.yml: {sorted(p.name for p in pages - listed)}"
    missing = [name for name in toc_files() if not any(
        (ROOT / f"{name}{suffix}").exists() for suffix in (".ipynb", ".md"))]
    assert not missing, f"_toc.yml names files that do not exist: {missing}"


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_chapter_opens_with_title_then_one_setup_cell(path):
    cells = _cells(path)
    assert cells[0]["cell_type"] == "markdown"
    assert "".join(cells[0]["source"]).startswith("# "), "the first cell holds the title"
    first_code = next(cell for cell in cells if cell["cell_type"] == "code")
    setup = "".join(first_code["source"])
    for needed in ("from xenthelpers import", "seed_everything(", "get_device("):
        assert needed in setup, f"the setup cell of {path.name} lacks {needed!r}"


def _requirements(strings):
    return {Requirement(s).name.lower(): str(Requirement(s).specifier) for s in strings}


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in ("book", "test", "peers"):
        declared += project["optional-dependencies"][extra]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = [line for line in pip_section if not line.startswith("-")]
    assert _requirements(listed) == _requirements(declared)


def test_torch_is_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    torch_spec = [d for d in project["dependencies"] if Requirement(d).name == "torch"]
    assert torch_spec == ["torch==2.13.0"]


@pytest.mark.parametrize("name", xenthelpers.__all__)
def test_public_function_has_a_docstring_with_an_example(name):
    obj = getattr(xenthelpers, name)
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name} has no docstring"
    if inspect.isfunction(obj):
        assert "Examples" in doc, f"the docstring of {name} has no Examples section"


def test_equation_labels_are_unique_across_the_book():
    # Sphinx numbers equations book-wide: a label used twice breaks the strict build.
    seen: dict[str, str] = {}
    duplicates = []
    pattern = re.compile(r"\$\$\s*\(([\w-]+)\)")
    for path in sorted(BOOK.glob("*.ipynb")):
        text = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
        for label in pattern.findall(text):
            if label in seen:
                duplicates.append(f"{label} ({seen[label]}, {path.name})")
            seen.setdefault(label, path.name)
    assert not duplicates, f"equation labels used twice: {duplicates}"

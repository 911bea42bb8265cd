"""Rules the repository keeps: clean notebooks, one table of contents, matching environments."""

from __future__ import annotations

import inspect
import json
import re

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import xenthelpers
import xenthelpers.data
import xenthelpers.plotting
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
    pages = set(BOOK.glob("*.ipynb")) | set(BOOK.glob("*.md")) | set(BOOK.glob("api/*.md"))
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
    strings = list(strings)
    requirements = [Requirement(s) for s in strings]
    by_name = {canonicalize_name(r.name): r.specifier for r in requirements}
    assert len(by_name) == len(requirements), f"a package is named twice in {strings}"
    return by_name


def _declared():
    """Every dependency of pyproject.toml: the package's own and the book, test and peer extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in ("book", "test", "peers"):
        declared += project["optional-dependencies"][extra]
    return _requirements(declared)


def _environment_yml():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    return _requirements(line for line in pip_section if not line.startswith("-"))


def _constraints():
    """The exact versions of constraints.txt, name -> version."""
    text = (ROOT / "constraints.txt").read_text()
    lines = (line.split("#")[0].strip() for line in text.splitlines())
    pins = _requirements(line for line in lines if line)
    loose = {name: str(spec) for name, spec in pins.items() if not _exact_version(spec)}
    assert not loose, f"constraints.txt must pin exact versions, found {loose}"
    return {name: _exact_version(spec) for name, spec in pins.items()}


def _exact_version(specifier):
    """The version of a ``==X`` specifier set, else None."""
    (spec, *others) = list(specifier) or [None]
    if spec is None or others or spec.operator != "==" or "*" in spec.version:
        return None
    return spec.version


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    declared, listed = _declared(), _environment_yml()
    assert sorted(listed) == sorted(declared)
    # torch is the exception: a range in pyproject.toml, pinned in environment.yml.
    different = {
        name: (str(listed[name]), str(declared[name]))
        for name in declared
        if name != "torch" and listed[name] != declared[name]
    }
    assert not different, f"environment.yml and pyproject.toml disagree: {different}"


def test_pyproject_admits_every_version_pinned_in_constraints():
    pinned = _constraints()
    missing = sorted(set(_declared()) - set(pinned))
    assert not missing, f"constraints.txt pins no version of {missing}"
    refused = {
        name: (pinned[name], str(spec))
        for name, spec in _declared().items()
        if not spec.contains(pinned[name], prereleases=True)
    }
    assert not refused, f"pyproject.toml refuses the versions constraints.txt pins: {refused}"


def test_torch_is_a_range_for_the_package_and_pinned_for_the_book():
    declared = _declared()["torch"]
    assert declared and all(spec.operator in (">=", ">", "<", "<=", "!=") for spec in declared), (
        f"pyproject.toml should give torch a range, got {declared}"
    )
    pinned = _constraints()["torch"]
    assert declared.contains(pinned)
    assert _exact_version(_environment_yml()["torch"]) == pinned, (
        "environment.yml must pin torch to the version of constraints.txt"
    )


def _public_functions_and_classes():
    # The API reference page documents these three; constants carry `#:` comments instead.
    for module in (xenthelpers, xenthelpers.data, xenthelpers.plotting):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield pytest.param(obj, id=f"{module.__name__}.{name}")


@pytest.mark.parametrize("obj", list(_public_functions_and_classes()))
def test_public_function_or_class_has_a_docstring_with_an_example(obj):
    doc = obj.__doc__ or ""  # the object's own, not one inherited from a base class
    assert doc.strip(), f"{obj.__qualname__} has no docstring"
    examples = doc.partition("Examples\n")[2]
    assert ">>>" in examples, f"the docstring of {obj.__qualname__} has no Examples with a doctest"


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


def test_the_readme_jupyter_commands_exist():
    """Each ``.venv/bin/jupyter <command>`` the README shows is installed by `make`."""
    import subprocess
    import sys
    from pathlib import Path

    commands = set(re.findall(r"\.venv/bin/jupyter ([a-z-]+)", (ROOT / "README.md").read_text()))
    assert commands, "the README shows no jupyter command"
    jupyter = Path(sys.executable).with_name("jupyter")
    for command in sorted(commands):
        result = subprocess.run([str(jupyter), command, "--version"], capture_output=True, text=True)
        assert result.returncode == 0, f"`jupyter {command}` fails: {result.stderr[-300:]}"


def test_make_test_runs_every_step():
    """`make test` (what CI runs) reaches every check, in order: a target losing its
    recipe would silently drop a step."""
    import subprocess

    plan = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "test"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    steps = [
        "ruff check xenthelpers", "mypy xenthelpers", "pytest tests/unit",
        "tests/wheel/check.py", "pytest book --nbval-lax", "pytest tests/book",
        "ATEN_CPU_CAPABILITY=default", "pytest tests/browser", "print_pdf.py",
        "pytest tests/pdf",
    ]
    where = [plan.find(step) for step in steps]
    missing = [step for step, at in zip(steps, where, strict=True) if at < 0]
    assert not missing, f"`make test` no longer runs: {missing}"
    assert where == sorted(where), "the steps of `make test` are out of order"

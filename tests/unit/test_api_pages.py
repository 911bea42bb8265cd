"""The API reference: one page per subpackage, each public name documented on exactly one."""

from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path

import pytest

import xenthelpers
from tests.paths import BOOK, toc_files

API = BOOK / "api"
# The pages in the order of the layout table of book/api.md, and the module each documents.
MODULES = ["losses", "targets", "metrics", "crowds", "data", "training", "plotting"]
PAGES = [API / f"{name}.md" for name in MODULES]

_DIRECTIVE = re.compile(
    r"^\.\. (automodule|autoclass|autofunction|autodata):: (\S+)\n"
    r"((?:[ \t]+:[\w-]+:.*\n)*)",
    re.M,
)
_USED_IN = re.compile(r"^Used in: (.+)$", re.M)


def _public(module_name: str) -> set[str]:
    """The public names of a module: its ``__all__``, and the losses' data structures."""
    module = importlib.import_module(module_name)
    names = set(module.__all__) | set(getattr(module, "DATA_STRUCTURES", []))
    return {f"{module_name}.{name}" for name in names}


def _documented(page: Path) -> list[str]:
    """Every object a page's autodoc directives document, as dotted names."""
    names = []
    for kind, target, options in _DIRECTIVE.findall(page.read_text()):
        if kind == "automodule":
            assert ":members:" in options, f"{page.name}: automodule {target} without :members:"
            assert ":exclude-members:" not in options, f"{page.name}: {target} hides members"
            module = importlib.import_module(target)
            names += [f"{target}.{name}" for name in module.__all__]
        else:
            names.append(target)
    return names


def test_there_is_one_page_per_module_and_no_other():
    assert sorted(API.glob("*.md")) == sorted(PAGES)


def test_the_pages_are_sections_of_the_api_reference_in_layout_order():
    files = toc_files()
    start = files.index("book/api") + 1
    assert files[start : start + len(MODULES)] == [f"book/api/{name}" for name in MODULES]


@pytest.mark.parametrize("module", MODULES)
def test_the_overview_links_to_each_page(module):
    assert f"(api/{module}.md)" in (BOOK / "api.md").read_text()


def test_every_public_name_is_documented_on_exactly_one_page():
    public = set().union(*(_public(f"xenthelpers.{name}") for name in MODULES))
    counts = Counter(name for page in PAGES for name in _documented(page))
    missing = sorted(public - set(counts))
    twice = sorted(name for name, n in counts.items() if n > 1)
    unknown = sorted(set(counts) - public)
    assert not missing, f"public names on no API page: {missing}"
    assert not twice, f"public names on more than one API page: {twice}"
    assert not unknown, f"API pages document names that are not public: {unknown}"


@pytest.mark.parametrize("module", MODULES)
def test_each_page_documents_its_own_module(module):
    documented = _documented(API / f"{module}.md")
    assert documented
    assert all(name.startswith(f"xenthelpers.{module}.") for name in documented)


def test_every_top_level_name_is_documented():
    documented = {name.rsplit(".", 1)[1] for page in PAGES for name in _documented(page)}
    assert set(xenthelpers.__all__) <= documented, sorted(set(xenthelpers.__all__) - documented)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_each_page_has_a_title_and_a_used_in_line_naming_chapters(page):
    text = page.read_text()
    assert text.startswith("# "), f"{page.name} does not open with its title"
    used_in = _USED_IN.findall(text)
    assert len(used_in) == 1, f"{page.name} needs one 'Used in:' line"
    for chapter in re.findall(r"\{doc\}`\.\./([\w-]+)`", used_in[0]):
        assert any((BOOK / f"{chapter}{suffix}").exists() for suffix in (".ipynb", ".md")), (
            f"{page.name} names a chapter that does not exist: {chapter}"
        )

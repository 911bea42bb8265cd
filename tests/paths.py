"""Where things are in the repository, for the project-level tests."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
EXECUTED = ROOT / "_build" / "executed"


def _with_sections(entries: list[dict]) -> list[str]:
    """The files of toc entries, each followed by those of its sections, depth first."""
    files = []
    for entry in entries:
        files.append(entry["file"])
        files += _with_sections(entry.get("sections", []))
    return files


def toc_files() -> list[str]:
    """Every file named in _toc.yml, sections included, in order, without suffix (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += _with_sections(part.get("chapters", []))
    return files


def chapters() -> list[Path]:
    """The notebooks of the book, in table-of-contents order."""
    paths = [ROOT / f"{name}.ipynb" for name in toc_files()]
    return [path for path in paths if path.exists()]


def pages() -> list[Path]:
    """The markdown pages of the book (reference pages, the conclusion), in toc order."""
    paths = [ROOT / f"{name}.md" for name in toc_files()]
    return [path for path in paths if path.exists()]

"""The ``chapter-status`` directive: one row per executed chapter of the book.

Each row gives the chapter's title (linked), the number of claims it checks and how
many held, its number of identity checks, whether its execution succeeded, its run time
and when it last ran; below the table come the versions of Python, PyTorch and NumPy,
the platform, and the git commit the book was built from.

* Claims and checks are counted in the parsed document (``doctree-read``): a numbered
  ``{claim}`` block (or a paragraph opening with bold ``Claim.``) is a claim, a
  paragraph opening with bold ``Check.`` is a check.
* Execution data is MyST-NB's own record for each document (``env.nb_metadata[docname]
  ["exec_data"]``, filled while the document is read). Every claim is followed by a cell
  that asserts it, so a chapter whose execution succeeded has all its claims held; for any
  other chapter the number held is reported as unknown.
* As for MyST-NB's ``nb-exec-table``, the directive leaves a placeholder node, and a
  post-transform turns it into the table when the page is written, once every document
  has been read. The page is written again on every build (``env-updated``), so its
  counts, versions and commit are never those of an older build.
"""

from __future__ import annotations

import platform
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors import EnvironmentCollector
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

UNKNOWN = "unknown"
HEADERS = (
    "Chapter",
    "Claims checked",
    "Claims held",
    "Checks",
    "Execution",
    "Run time (s)",
    "Last run (UTC)",
)
_LABEL = re.compile(r"(Claim|Check)(?:\s*\([^()]*\))?\.")


# ---------------------------------------------------------------------------------------
# Pure functions: counting and formatting (tested in tests/unit/test_status_table.py)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """Labelled paragraphs of one document."""

    claims: int = 0
    checks: int = 0


def paragraph_label(paragraph: nodes.paragraph) -> str | None:
    """``"Claim"`` or ``"Check"`` if the paragraph opens with that bold label, else None.

    The label is the paragraph's first element, bold, reading ``Claim.`` or ``Check.``;
    a name in parentheses may come before the full stop (``Claim (Gibbs).``).
    """
    # MyST's parser may open a paragraph with an empty text node: skip blank text.
    first = next(
        (c for c in paragraph.children if not (isinstance(c, nodes.Text) and not c.strip())),
        None,
    )
    if not isinstance(first, nodes.strong):
        return None
    match = _LABEL.fullmatch(first.astext().strip())
    return match.group(1) if match else None


def is_claim_block(node: nodes.Node) -> bool:
    """A numbered ``{claim}`` block (the node of the book's ``claim_blocks`` extension)."""
    return isinstance(node, nodes.Element) and node.tagname == "claim_node"


def count_labelled_paragraphs(doctree: nodes.Node) -> Counts:
    """Number of claims (``{claim}`` blocks or ``Claim.`` paragraphs) and checks."""
    labels = [paragraph_label(p) for p in doctree.findall(nodes.paragraph)]
    blocks = sum(1 for _ in doctree.findall(is_claim_block))
    return Counts(claims=blocks + labels.count("Claim"), checks=labels.count("Check"))


def toc_order(root: str, includes: Mapping[str, Sequence[str]]) -> list[str]:
    """Documents in reading order: the root, then each toctree entry depth first."""
    order: list[str] = []
    stack = [root]
    while stack:
        docname = stack.pop()
        if docname in order:
            continue
        order.append(docname)
        stack.extend(reversed(list(includes.get(docname, ()))))
    return order


def format_runtime(seconds: float | None) -> str:
    """Run time in seconds with one decimal, or "unknown"."""
    return UNKNOWN if seconds is None else f"{seconds:.1f}"


def format_last_run(timestamp: float | None) -> str:
    """A POSIX timestamp as ``YYYY-MM-DD HH:MM`` in UTC, or "unknown"."""
    if not timestamp:
        return UNKNOWN
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M")


def execution_text(exec_data: Mapping[str, Any] | None) -> str:
    """The outcome of MyST-NB's run: "succeeded", "failed (ErrorType)" or "not executed"."""
    if not exec_data:
        return "not executed"
    if exec_data.get("succeeded") is True:
        return "succeeded"
    error = exec_data.get("error")
    return f"failed ({error})" if error else "failed"


def held_text(counts: Counts, exec_data: Mapping[str, Any] | None) -> str:
    """Claims held: all of them if the execution succeeded, else "unknown".

    Each claim is checked by the cell after it (the chapter's ``ClaimLedger`` raises when
    one fails), so a successful run proves every claim.
    """
    if exec_data and exec_data.get("succeeded") is True:
        return str(counts.claims)
    return UNKNOWN


def row_cells(counts: Counts, exec_data: Mapping[str, Any] | None) -> list[str]:
    """The text of every column after the chapter's title."""
    data = exec_data or {}
    return [
        str(counts.claims),
        held_text(counts, exec_data),
        str(counts.checks),
        execution_text(exec_data),
        format_runtime(data.get("runtime")),
        format_last_run(data.get("mtime")),
    ]


def package_version(name: str) -> str:
    """Installed version of a distribution, or "unknown"."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return UNKNOWN


Runner = Callable[[Sequence[str], Path], "str | None"]


def run_git(args: Sequence[str], cwd: Path) -> str | None:
    """Output of a read-only git command, or None if git fails or is missing."""
    try:
        result = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def git_commit(where: Path, runner: Runner = run_git) -> str:
    """The commit checked out at ``where``, marked when the working tree differs from it.

    "unknown" when ``where`` is not inside a git checkout.
    """
    commit = runner(["rev-parse", "--verify", "HEAD"], where)
    if not commit:
        return UNKNOWN
    changes = runner(["status", "--porcelain"], where)
    return f"{commit} (with uncommitted changes)" if changes else commit


def build_facts(source_dir: Path, runner: Runner = run_git) -> list[tuple[str, str]]:
    """What the book was built with and from, as (name, value) pairs."""
    return [
        ("Python", platform.python_version()),
        ("PyTorch", package_version("torch")),
        ("NumPy", package_version("numpy")),
        ("Platform", platform.platform()),
        ("Git commit", git_commit(source_dir, runner)),
    ]


@dataclass(frozen=True)
class Row:
    """One chapter of the table."""

    docname: str
    title: str
    cells: list[str]


def make_table(rows: Iterable[Row], link: Callable[[Row], nodes.Node]) -> nodes.table:
    """A docutils table with a header row; ``link`` makes the first cell of each row."""
    table = nodes.table(classes=["colwidths-auto", "chapter-status"])
    tgroup = nodes.tgroup(cols=len(HEADERS))
    table += tgroup
    for _ in HEADERS:
        tgroup += nodes.colspec(colwidth=1)
    thead, tbody = nodes.thead(), nodes.tbody()
    tgroup += thead
    tgroup += tbody
    thead += nodes.row("", *(nodes.entry("", nodes.paragraph(text=h)) for h in HEADERS))
    for row in rows:
        first = nodes.entry("", nodes.paragraph("", "", link(row)))
        rest = (nodes.entry("", nodes.paragraph(text=text)) for text in row.cells)
        tbody += nodes.row("", first, *rest)
    return table


def make_facts(facts: Sequence[tuple[str, str]]) -> nodes.bullet_list:
    """A bullet list "Name: value", the values as literal text."""
    items = nodes.bullet_list()
    for name, value in facts:
        items += nodes.list_item("", nodes.paragraph("", f"{name}: ", nodes.literal(text=value)))
    return items


# ---------------------------------------------------------------------------------------
# Sphinx glue
# ---------------------------------------------------------------------------------------


class chapter_status_node(nodes.General, nodes.Element):  # lower case, as docutils names nodes
    """Placeholder for the table, replaced once every document has been read."""


class ChapterStatusDirective(SphinxDirective):
    """``{chapter-status}``: the status table of every executed chapter."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        _init_env(self.env)
        self.env.chapter_status_pages.add(self.env.docname)  # type: ignore[attr-defined]
        node = chapter_status_node()
        self.set_source_info(node)
        return [node]


class ChapterStatusCollector(EnvironmentCollector):
    """Keeps, per document, its claim and check counts and whether it shows the table."""

    def clear_doc(self, app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        _init_env(env)
        env.chapter_status_counts.pop(docname, None)  # type: ignore[attr-defined]
        env.chapter_status_pages.discard(docname)  # type: ignore[attr-defined]

    def merge_other(
        self, app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
    ) -> None:
        _init_env(env)
        _init_env(other)
        for docname in docnames:
            if docname in other.chapter_status_counts:  # type: ignore[attr-defined]
                env.chapter_status_counts[docname] = other.chapter_status_counts[docname]  # type: ignore[attr-defined]
            if docname in other.chapter_status_pages:  # type: ignore[attr-defined]
                env.chapter_status_pages.add(docname)  # type: ignore[attr-defined]

    def process_doc(self, app: Sphinx, doctree: nodes.document) -> None:
        _init_env(app.env)
        counts = count_labelled_paragraphs(doctree)  # stored as a plain tuple, for pickling
        app.env.chapter_status_counts[app.env.docname] = (counts.claims, counts.checks)  # type: ignore[attr-defined]


def _init_env(env: BuildEnvironment) -> None:
    if not hasattr(env, "chapter_status_counts"):
        env.chapter_status_counts = {}  # type: ignore[attr-defined]
    if not hasattr(env, "chapter_status_pages"):
        env.chapter_status_pages = set()  # type: ignore[attr-defined]


def _on_builder_inited(app: Sphinx) -> None:
    _init_env(app.env)
    app._chapter_status_facts = None  # type: ignore[attr-defined]  # read once per build


def _on_env_updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Write the pages that hold the table on every build, even if no source changed."""
    _init_env(env)
    return sorted(env.chapter_status_pages)  # type: ignore[attr-defined]


def _exec_data(env: BuildEnvironment, docname: str) -> Mapping[str, Any] | None:
    """MyST-NB's execution record of a document (None if it was not executed)."""
    data: Mapping[str, Any] | None = (
        getattr(env, "nb_metadata", {}).get(docname, {}).get("exec_data")
    )
    return data


def _is_chapter(env: BuildEnvironment, docname: str) -> bool:
    """A notebook, or any document MyST-NB executed."""
    return _exec_data(env, docname) is not None or str(env.doc2path(docname)).endswith(".ipynb")


def chapter_rows(env: BuildEnvironment) -> list[Row]:
    """One row per chapter, in the order of the table of contents."""
    order = toc_order(env.config.root_doc, env.toctree_includes)
    order += sorted(set(env.found_docs) - set(order))
    counts: Mapping[str, tuple[int, int]] = env.chapter_status_counts  # type: ignore[attr-defined]
    rows = []
    for docname in order:
        if docname not in env.found_docs or not _is_chapter(env, docname):
            continue
        title = env.titles[docname].astext() if docname in env.titles else docname
        cells = row_cells(Counts(*counts.get(docname, (0, 0))), _exec_data(env, docname))
        rows.append(Row(docname, title, cells))
    return rows


class ChapterStatusTransform(SphinxPostTransform):
    """Replace each placeholder by the table and the build facts below it."""

    default_priority = 8  # before the references resolver (10), which resolves the links

    def run(self, **kwargs: Any) -> None:
        placeholders = list(self.document.findall(chapter_status_node))
        if not placeholders:
            return
        _init_env(self.env)
        app = self.app
        if getattr(app, "_chapter_status_facts", None) is None:
            app._chapter_status_facts = build_facts(Path(app.srcdir))  # type: ignore[attr-defined]
        facts = app._chapter_status_facts  # type: ignore[attr-defined]
        here = self.env.docname

        def link(row: Row) -> nodes.Node:
            xref = pending_xref(
                "",
                refdoc=here,
                reftarget="/" + row.docname,
                reftype="doc",
                refdomain="std",
                refexplicit=True,
                refwarn=True,
            )
            xref += nodes.inline(text=row.title, classes=["xref", "std", "std-doc"])
            return xref

        rows = chapter_rows(self.env)
        for node in placeholders:
            node.replace_self([make_table(rows, link), make_facts(facts)])


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(chapter_status_node)
    app.add_directive("chapter-status", ChapterStatusDirective)
    app.add_env_collector(ChapterStatusCollector)
    app.add_post_transform(ChapterStatusTransform)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("env-updated", _on_env_updated)
    return {
        "version": "1.0",
        "env_version": 1,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }

"""The status page's table: counting claims and checks, and the text of each column.

Only the pure functions of ``_ext/status_table.py`` are tested here, on small docutils
trees; no Sphinx build runs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from docutils import nodes
from docutils.core import publish_doctree

from tests.paths import ROOT


def _load_extension():
    path = ROOT / "_ext" / "status_table.py"
    spec = importlib.util.spec_from_file_location("status_table", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("status_table", module)
    spec.loader.exec_module(module)
    return module


st = _load_extension()


def _doctree(rst: str) -> nodes.document:
    return publish_doctree(rst, settings_overrides={"report_level": 5})


# ----------------------------------------------------------------------------- counting


def test_counts_claims_and_checks_that_open_a_paragraph():
    doctree = _doctree(
        "**Claim.** First.\n\n"
        "**Check.** An identity.\n\n"
        "**Claim (Gibbs).** A named claim.\n\n"
        "- **Claim.** A claim in a list item is still a paragraph.\n\n"
        "Text first, then **Claim.** in the middle: not a claim.\n\n"
        "A sentence that says claims are labelled **Check.** is not a check.\n\n"
        "*Claim.* in italics, **Claims.** in the plural, **Claim** without a full stop,\n\n"
        "**Claim.**\n\n"
        "**Check (float64).** Named checks count too.\n"
    )
    assert st.count_labelled_paragraphs(doctree) == st.Counts(claims=4, checks=2)


def test_claim_blocks_count_as_claims(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "_ext"))
    from claim_blocks import claim_node

    doctree = _doctree("**Check.** An identity.\n")
    doctree += [claim_node("", nodes.paragraph(text="One.")), claim_node("")]
    assert st.count_labelled_paragraphs(doctree) == st.Counts(claims=2, checks=1)


def test_a_document_without_labels_counts_zero():
    assert st.count_labelled_paragraphs(_doctree("Plain text.\n\n**Bold.** text.")) == st.Counts()


def test_a_blank_text_node_before_the_label_is_skipped():
    # MyST's parser opens some paragraphs with an empty text node.
    blank, label = nodes.Text(""), nodes.strong(text="Claim.")
    paragraph = nodes.paragraph("", "", blank, label, nodes.Text(" x"))
    assert st.paragraph_label(paragraph) == "Claim"
    paragraph = nodes.paragraph("", "", nodes.Text("so "), nodes.strong(text="Claim."))
    assert st.paragraph_label(paragraph) is None
    assert st.paragraph_label(nodes.paragraph()) is None


@pytest.mark.parametrize(
    "text, label",
    [
        ("Claim.", "Claim"),
        ("Check.", "Check"),
        ("Claim (Gibbs).", "Claim"),
        ("Claim(Gibbs).", "Claim"),
        ("Claim", None),
        ("Claims.", None),
        ("Claim. More bold", None),
        ("claim.", None),
        ("Checks.", None),
    ],
)
def test_label_text(text, label):
    assert st.paragraph_label(nodes.paragraph("", "", nodes.strong(text=text))) == label


# ----------------------------------------------------------------------------- order


def test_toc_order_is_depth_first_from_the_root():
    includes = {"intro": ["a", "part", "z"], "part": ["b", "c"], "c": ["d"]}
    assert st.toc_order("intro", includes) == ["intro", "a", "part", "b", "c", "d", "z"]


def test_toc_order_visits_each_document_once():
    includes = {"intro": ["a", "b"], "a": ["intro", "b"], "b": ["a"]}
    assert st.toc_order("intro", includes) == ["intro", "a", "b"]
    assert st.toc_order("alone", {}) == ["alone"]


# ----------------------------------------------------------------------------- columns

SUCCEEDED = {"mtime": 86400.0 + 3600 * 13 + 60 * 5 + 59, "runtime": 12.345, "method": "cache",
             "succeeded": True, "error": None, "traceback": None}
FAILED = {"mtime": 0.5, "runtime": 3.0, "method": "cache",
          "succeeded": False, "error": "CellExecutionError", "traceback": "..."}


def test_a_chapter_that_ran_has_all_its_claims_held():
    counts = st.Counts(claims=7, checks=2)
    assert st.row_cells(counts, SUCCEEDED) == [
        "7", "7", "2", "succeeded", "12.3", "1970-01-02 13:05",
    ]


def test_a_failed_chapter_reports_held_claims_as_unknown():
    counts = st.Counts(claims=3, checks=1)
    assert st.held_text(counts, FAILED) == "unknown"
    assert st.execution_text(FAILED) == "failed (CellExecutionError)"
    assert st.execution_text(FAILED | {"error": None}) == "failed"
    cells = st.row_cells(counts, FAILED)
    assert cells[:5] == ["3", "unknown", "1", "failed (CellExecutionError)", "3.0"]


def test_a_chapter_without_execution_data():
    assert st.row_cells(st.Counts(claims=2), None) == [
        "2", "unknown", "0", "not executed", "unknown", "unknown",
    ]


def test_run_time_and_date_formats():
    assert st.format_runtime(None) == "unknown"
    assert st.format_runtime(0.04) == "0.0"
    assert st.format_runtime(59.96) == "60.0"
    assert st.format_last_run(None) == "unknown"
    assert st.format_last_run(0) == "unknown"  # MyST-NB stores no time as 0 or None
    assert st.format_last_run(1_700_000_000) == "2023-11-14 22:13"  # UTC, not local time


def test_cells_are_plain_text():
    for cells in (st.row_cells(st.Counts(1, 1), data) for data in (SUCCEEDED, FAILED, None)):
        assert all(text.isascii() and text.isprintable() for text in cells), cells


# ----------------------------------------------------------------------------- build facts


def _fake_git(answers):
    def runner(args, cwd):
        return answers.get(args[0])

    return runner


def test_git_commit_outside_a_checkout_is_unknown():
    assert st.git_commit(Path("."), _fake_git({})) == "unknown"


def test_git_commit_of_a_clean_and_of_a_changed_tree():
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert st.git_commit(Path("."), _fake_git({"rev-parse": sha, "status": ""})) == sha
    changed = st.git_commit(Path("."), _fake_git({"rev-parse": sha, "status": " M book/x.ipynb"}))
    assert changed == f"{sha} (with uncommitted changes)"


def test_run_git_fails_softly(tmp_path):
    assert st.run_git(["rev-parse", "--verify", "HEAD"], tmp_path / "missing") is None


def test_build_facts_name_every_version():
    facts = dict(st.build_facts(Path("."), _fake_git({})))
    assert list(facts) == ["Python", "PyTorch", "NumPy", "Platform", "Git commit"]
    assert facts["Python"] == ".".join(map(str, sys.version_info[:3]))
    assert facts["PyTorch"].startswith(__import__("torch").__version__.split("+")[0])
    assert facts["NumPy"] == __import__("numpy").__version__
    assert facts["Git commit"] == "unknown"
    assert st.package_version("no-such-distribution-here") == "unknown"


# ----------------------------------------------------------------------------- nodes


def test_table_has_a_header_and_one_row_per_chapter():
    rows = [st.Row("book/a", "First", ["1", "1", "0", "succeeded", "1.0", "x"]),
            st.Row("book/b", "Second", ["2", "unknown", "0", "failed", "2.0", "y"])]
    table = st.make_table(rows, lambda row: nodes.reference(text=row.title, refuri=row.docname))
    header, *body = [[e.astext() for e in r.findall(nodes.entry)] for r in table.findall(nodes.row)]
    assert header == list(st.HEADERS)
    assert body == [["First", *rows[0].cells], ["Second", *rows[1].cells]]
    assert [r["refuri"] for r in table.findall(nodes.reference)] == ["book/a", "book/b"]
    assert table.next_node(nodes.tgroup)["cols"] == len(st.HEADERS)


def test_facts_list():
    items = st.make_facts([("Python", "3.11.7"), ("Git commit", "unknown")])
    texts = [item.astext() for item in items.findall(nodes.list_item)]
    assert texts == ["Python: 3.11.7", "Git commit: unknown"]

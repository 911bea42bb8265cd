"""The ``claim`` directive: a numbered block for each claim a chapter checks.

In MyST::

    :::{claim}
    :label: claim-focal-loss-calibration
    One statement, checked by the cell that follows.
    :::

renders as a box titled "Claim 7.3" (chapter 7, third claim), numbered like figures,
so ``{numref}`claim-focal-loss-calibration``` reads "Claim 7.3" anywhere in the book and
``{ref}`text <claim-…>``` links to it. The label is the block's HTML id, which the
chapter's generated claims table (:class:`xenthelpers.ClaimLedger`) links to.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class claim_node(nodes.Admonition, nodes.Element):
    """A claim: an admonition that Sphinx numbers as the enumerable type ``claim``."""


class ClaimDirective(SphinxDirective):
    has_content = True
    option_spec = {"label": directives.unchanged_required, "class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        self.assert_has_content()
        label = self.options.get("label")
        if not label:
            raise self.error("a claim needs a :label: (claim-<chapter>-<name>)")
        node = claim_node("\n".join(self.content))
        node["classes"] += ["admonition", "claim", *self.options.get("class", [])]
        node["ids"].append(label)
        node["names"].append(label)
        self.state.document.note_explicit_target(node)
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def visit_claim_html(self: Any, node: claim_node) -> None:
    self.body.append(self.starttag(node, "div", CLASS=""))
    self.body.append('<p class="admonition-title">')
    self.add_fignumber(node)
    self.body.append("</p>")


def depart_claim_html(self: Any, node: claim_node) -> None:
    self.body.append("</div>\n")


def visit_claim_text(self: Any, node: claim_node) -> None:
    self.new_state(2)


def depart_claim_text(self: Any, node: claim_node) -> None:
    self.end_state()


def claim_title(node: claim_node) -> str:
    """Sphinx numbers only titled nodes; a claim's title is its kind."""
    return "Claim"


def _number_format(app: Sphinx, config: Any) -> None:
    config.numfig_format.setdefault("claim", "Claim %s")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_enumerable_node(
        claim_node,
        "claim",
        claim_title,
        html=(visit_claim_html, depart_claim_html),
        text=(visit_claim_text, depart_claim_text),
    )
    app.add_directive("claim", ClaimDirective)
    app.connect("config-inited", _number_format)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

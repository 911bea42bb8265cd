"""jupyter-book's command line, able to build the book as one HTML page.

    python tools/singlehtml.py build . --builder singlehtml [other jupyter-book options]

Sphinx gives a builder the visitors registered under its own name, and falls back to those
registered for its format ("html") only when none are registered under its name. The
extension behind the book's exercises registers a few visitors for "singlehtml" by name, so
the singlehtml builder would lose every visitor registered for "html" (the collapsible code
cells among them) and stop on the first such node. Here the html visitors are merged under
the singlehtml ones before the build starts; everything else is jupyter-book's own command.
"""

from __future__ import annotations

import sys

from sphinx.registry import SphinxComponentRegistry

_create_translator = SphinxComponentRegistry.create_translator


def _create_translator_with_html_fallback(self, builder, *args):
    handlers = self.translation_handlers
    if builder.format == "html" and builder.name in handlers and builder.name != "html":
        handlers[builder.name] = {**handlers.get("html", {}), **handlers[builder.name]}
    return _create_translator(self, builder, *args)


SphinxComponentRegistry.create_translator = _create_translator_with_html_fallback

if __name__ == "__main__":
    from jupyter_book.cli.main import main

    sys.argv[0] = "jupyter-book"
    sys.exit(main())

"""Print the single-page build of the book to one PDF with headless Chromium.

    python tools/print_pdf.py [--site _build/singlehtml] \\
        [--output _build/pdf/cross-entropy-at-work.pdf]

The site (the output of ``jupyter-book build . --builder singlehtml``, which `make pdf`
runs first) is served on 127.0.0.1 and opened in Chromium; nothing outside 127.0.0.1 is
requested. The page is printed only once MathJax has typeset every formula, every web font
has loaded and every image has been decoded; a formula that MathJax could not typeset or an
image that did not load stops the script with an error instead of a PDF that lacks them.

The defaults can also be set with the environment variables XENT_PDF_SITE and XENT_PDF;
relative paths are read from the repository root.
Chromium is looked up as /usr/bin/chromium, then as chromium or chromium-browser on PATH,
then as Playwright's own; XENT_CHROMIUM names another one. The PDF has page numbers and an
outline (bookmarks) of the chapters and their sections.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import logging
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SITE = "_build/singlehtml"
DEFAULT_OUTPUT = "_build/pdf/cross-entropy-at-work.pdf"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 180_000

# Waits for MathJax (when the page loads it), the web fonts and every image. Images that
# the page marks as lazy would only load once scrolled into view, so they are made eager.
# Collapsed blocks that hold outputs (figures among them) are opened; collapsed code alone
# stays collapsed and is left out by _static/print.css.
_SETTLE = r"""
async () => {
  const started = Date.now();
  let mathjax = "none";
  if (document.querySelector('script[src*="mathjax" i], script[src*="tex-" i]')) {
    while (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) {
      if (Date.now() - started > 60000) return {mathjax: "never started"};
      await new Promise((r) => setTimeout(r, 50));
    }
    await window.MathJax.startup.promise;
    mathjax = "done";
  }
  await document.fonts.ready;
  for (const details of document.querySelectorAll("details")) {
    if (details.querySelector(".cell_output")) details.open = true;
  }
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  const broken = images.filter((img) => !(img.complete && img.naturalWidth > 0))
                       .map((img) => img.getAttribute("src"));
  const mathErrors = [...document.querySelectorAll("mjx-merror")]
    .map((el) => (el.getAttribute("data-mjx-error") || el.textContent || "").slice(0, 120));
  return {mathjax, images: images.length, broken, mathErrors,
          formulas: document.querySelectorAll("mjx-container").length};
}
"""

# The text of every heading, as the reader sees it (whitespace collapsed).
_HEADINGS = r"""
() => [...document.querySelectorAll("h1, h2, h3, h4, h5, h6, [role=heading]")]
  .map((el) => el.innerText.replace(/\s+/g, " ").trim()).filter((text) => text)
"""

_FOOTER = (
    '<div style="width: 100%; font-size: 8px; color: #666; padding: 0 16mm; '
    'display: flex; justify-content: space-between; font-family: sans-serif;">'
    '<span class="title"></span>'
    '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>'
)


class _BookHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site, with the single page at the root.

    Sphinx's singlehtml builder writes the page under the root document's name
    (book/intro.html) but links it to _static/ and _images/ as if it lay at the top of the
    site, so it is served as / and its links resolve.
    """

    page = "index.html"

    def do_GET(self) -> None:
        if urlsplit(self.path).path in ("/", "/index.html"):
            self.path = "/" + self.page
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def chromium_path() -> str | None:
    """A Chromium of the system, else None for Playwright's own (if it was installed)."""
    named = os.environ.get("XENT_CHROMIUM")
    for candidate in (named,) if named else CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    if named:
        sys.exit(f"XENT_CHROMIUM names {named}, which is not an executable")
    return None


def launch(playwright: Any) -> Any:
    executable = chromium_path()
    try:
        return playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
    except Exception as error:
        if executable:
            raise
        sys.exit(
            "no Chromium found (looked for " + ", ".join(CHROMIUM_CANDIDATES) + ", then "
            "Playwright's own): install one, e.g. `apt-get install -y chromium` on Debian, "
            f"or run `{sys.executable} -m playwright install chromium` where it can "
            f"download.\n{type(error).__name__}: {str(error).splitlines()[0]}"
        )


def start_page(site: Path) -> str:
    """The page to print: jupyter-book's index.html redirects to the root document."""
    index = site / "index.html"
    if not index.exists():
        sys.exit(f"no built site at {site} (index.html missing): run `make pdf`")
    redirect = re.search(r'url=([^"\']+\.html)', index.read_text(encoding="utf-8"))
    return redirect.group(1) if redirect else "index.html"


def print_pdf(site: Path, output: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    page_path = start_page(site)
    handler = functools.partial(
        type("Handler", (_BookHandler,), {"page": page_path}), directory=str(site)
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{httpd.server_address[1]}"
    blocked: list[str] = []

    def route(request_route: Any) -> None:
        parts = urlsplit(request_route.request.url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == host:
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                context = browser.new_context(viewport={"width": 1100, "height": 1400})
                context.set_default_timeout(TIMEOUT_MS)
                context.route("**/*", route)
                page = context.new_page()
                # Print styles apply from the first layout, so MathJax measures the page
                # it is printed on.
                page.emulate_media(media="print")
                page.goto(f"http://{host}/", wait_until="load")
                state: dict[str, Any] = page.evaluate(_SETTLE)
                if state["mathjax"] not in ("none", "done"):
                    sys.exit(f"MathJax {state['mathjax']}: no PDF written")
                if state["mathErrors"]:
                    sys.exit(f"MathJax could not typeset: {state['mathErrors'][:5]}")
                if state["broken"]:
                    sys.exit(f"images that did not load: {state['broken'][:10]}")
                headings = page.evaluate(_HEADINGS)
                output.parent.mkdir(parents=True, exist_ok=True)
                page.pdf(
                    path=str(output),
                    format="A4",
                    print_background=True,
                    margin={"top": "16mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=_FOOTER,
                    outline=True,
                    tagged=True,
                )
            finally:
                browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    fix_outline(output, headings)
    state["blocked"] = sorted(set(blocked))
    return state


def fix_outline(pdf: Path, headings: list[str]) -> None:
    """Chromium titles each bookmark with its heading's lines run together, without the
    space where a long heading wraps ("...rerunning achapter"); give each bookmark its
    heading's text back."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    # Chromium's cross-reference table declares fewer objects than the file holds; pypdf
    # says so and reads on.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    def key(text: str) -> str:
        return re.sub(r"\s+", "", text)

    titles = {key(text): text for text in headings}
    writer = PdfWriter(clone_from=pdf)
    outlines = writer.root_object.get("/Outlines")
    stack = [outlines.get_object()["/First"]] if outlines and "/First" in outlines else []
    while stack:
        item = stack.pop().get_object()
        title = str(item.get("/Title", ""))
        better = titles.get(key(title))
        if better and better != title:
            item[NameObject("/Title")] = TextStringObject(better)
        stack += [item[link] for link in ("/First", "/Next") if link in item]
    writer.write(pdf)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--site",
        default=os.environ.get("XENT_PDF_SITE", DEFAULT_SITE),
        help=f"the singlehtml build folder (default {DEFAULT_SITE})",
    )
    parser.add_argument(
        "--output",
        default=os.environ.get("XENT_PDF", DEFAULT_OUTPUT),
        help=f"the PDF to write (default {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)
    site = Path(args.site) if Path(args.site).is_absolute() else ROOT / args.site
    output = Path(args.output) if Path(args.output).is_absolute() else ROOT / args.output
    started = time.monotonic()
    state = print_pdf(site, output)
    size = output.stat().st_size / 1e6
    print(
        f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output} "
        f"({size:.1f} MB; {state['formulas']} formulas, {state['images']} images) "
        f"in {time.monotonic() - started:.0f} s"
    )
    if state["blocked"]:
        print(f"requests outside the site, not made: {state['blocked'][:10]}", file=sys.stderr)


if __name__ == "__main__":
    main()

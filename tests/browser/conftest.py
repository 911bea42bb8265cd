"""Fixtures for the browser tests: the built site served on 127.0.0.1, one Chromium for the
session, one browser context per viewport width, and one visit per page and width.

The site is the HTML folder of a finished build, named by the environment variable XENT_SITE
(default: _build/ci/_build/html, the strict build of tests/book). Nothing is built here.

Each page is visited once per width. The visit records everything the checks in
test_site.py look at (requests that left 127.0.0.1, console messages, text that MathJax
left untypeset, clipped outputs, images, figures, the chapter drawer), so that a dozen
checks cost one page load each.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (1280, 390)
HEIGHT = 900
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
LOAD_TIMEOUT_MS = 60_000


def site_root() -> Path:
    """The HTML folder under test (XENT_SITE, relative to the repository root)."""
    path = Path(os.environ.get("XENT_SITE", "_build/ci/_build/html"))
    return path if path.is_absolute() else ROOT / path


_NAV = re.compile(r'<nav class="bd-links bd-docs-nav"(.*?)</nav>', re.S)
_HREF = re.compile(r'<a class="reference internal" href="([^"#]+\.html)"')


@functools.cache
def site_pages() -> list[str]:
    """Every page the site lists, as paths relative to the site root.

    The book's pages are read from the built site's own navigation (the root page and the
    chapters of its table of contents), not from _toc.yml, so that the list always matches
    the build under test; the general index and the search page follow.
    """
    root = site_root()
    index = root / "index.html"
    if not index.exists():
        raise pytest.UsageError(
            f"no built site at {root} (index.html missing): build the book first, or point "
            "XENT_SITE at an HTML folder"
        )
    redirect = re.search(r'url=([^"]+\.html)', index.read_text(encoding="utf-8"))
    start = redirect.group(1) if redirect else "index.html"
    html = (root / start).read_text(encoding="utf-8")
    nav = _NAV.search(html)
    if nav is None:
        raise pytest.UsageError(f"{start} has no primary navigation to read the pages from")
    folder = Path(start).parent
    pages = [start]
    for href in _HREF.findall(nav.group(1)):
        page = (folder / href).as_posix()
        if page not in pages:
            pages.append(page)
    return [*pages, "genindex.html", "search.html"]


def executable_pages() -> list[str]:
    """The pages built from notebooks: those with at least one code cell."""
    root = site_root()
    return [
        page
        for page in site_pages()
        if 'class="cell docutils container"' in (root / page).read_text(encoding="utf-8")
    ]


def chapter_pages() -> list[str]:
    """The chapters: pages built from notebooks, less the landing page."""
    return [page for page in executable_pages() if Path(page).stem not in ("intro", "index")]


def chromium_path() -> str | None:
    """The system's Chromium, or None to use the one `playwright install chromium` fetched."""
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


# ---------------------------------------------------------------------------------------
# The server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def site() -> Path:
    return site_root()


@pytest.fixture(scope="session")
def server(site: Path):
    """The site on http://127.0.0.1:<free port>/ (a http.server thread)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


# ---------------------------------------------------------------------------------------
# The browser


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        executable = chromium_path()
        if executable is None and not Path(playwright.chromium.executable_path).exists():
            raise pytest.UsageError(
                "no Chromium found (looked for /usr/bin/chromium, chromium, chromium-browser, "
                "and Playwright's own): install it, e.g. `apt-get install -y chromium` on "
                "Debian or `.venv/bin/python -m playwright install chromium`, or run "
                "`make test-browser`, which tries both"
            )
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
        yield browser
        browser.close()


# Runs in the page after MathJax has finished. Returns everything the checks need.
_COLLECT = r"""
async () => {
  const visible = (el) => {
    if (!el || !el.isConnected) return false;
    if (el.checkVisibility) {
      return el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
    }
    return el.offsetParent !== null;
  };
  const describe = (el) => {
    let text = (el.textContent || "").replace(/\s+/g, " ").trim();
    if (text.length > 60) text = text.slice(0, 57) + "...";
    const id = el.id ? "#" + el.id : "";
    const cls = el.classList.length ? "." + [...el.classList].slice(0, 3).join(".") : "";
    const near = el.closest("section[id]");
    return `<${el.tagName.toLowerCase()}${id}${cls}> "${text}"` +
      (near ? ` in section #${near.id}` : "");
  };

  // 3. Raw TeX left in the visible text outside code.
  const SKIP = "script, style, noscript, template, code, pre, kbd, samp, textarea, " +
               "mjx-container, .highlight, .MathJax, .MathJax_Preview";
  const patterns = [
    [/\$\$/, "$$ delimiter"],
    [/\$[^$\s](?:[^$]{0,300}?[^$\s])?\$/, "$...$ delimiters"],
    [/\\[\(\)\[\]]/, "\\( \\) \\[ \\] delimiter"],
    [/\\[A-Za-z]{2,}/, "TeX control word"],
  ];
  const rawTex = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue;
    if (!text || !/[$\\]/.test(text)) continue;
    const parent = node.parentElement;
    if (!parent || parent.closest(SKIP) || !visible(parent)) continue;
    for (const [re, what] of patterns) {
      const m = text.match(re);
      if (m) {
        const at = Math.max(0, m.index - 30);
        rawTex.push({what, match: m[0].slice(0, 80),
                     context: text.slice(at, m.index + m[0].length + 30).replace(/\s+/g, " ")});
        break;
      }
    }
  }
  const mathErrors = [...document.querySelectorAll("mjx-merror")].map((el) => {
    const box = el.closest("mjx-container");
    return (el.getAttribute("data-mjx-error") || el.textContent || "").slice(0, 120) +
      (box && box.parentElement ? " in: " + describe(box.parentElement) : "");
  });

  // 4. Clipped outputs and display equations.
  // A box that scrolls or clips its content (overflow does not apply to inline boxes).
  const scrolls = (el) => {
    const s = getComputedStyle(el);
    return s.overflowX !== "visible" && s.display !== "inline" && s.display !== "contents";
  };
  // Outputs and display equations (div.math is Sphinx's display-math block; span.math is
  // inline math, which wraps with the text).
  const candidates = [...document.querySelectorAll(
    '.cell_output pre, .output pre, mjx-container[display="true"], div.math')];
  const clipped = [];
  const flagged = new Set();
  for (const el of candidates) {
    if (!visible(el)) continue;
    if ([...flagged].some((f) => f.contains(el))) continue;
    let over, box;
    if (scrolls(el)) {
      box = el;
      over = el.scrollWidth - el.clientWidth;
    } else {
      box = el.parentElement;
      while (box && box !== document.documentElement && !scrolls(box)) box = box.parentElement;
      box = box || document.documentElement;
      const r = el.getBoundingClientRect();
      const b = box.getBoundingClientRect();
      const right = r.left + Math.max(el.scrollWidth, r.width);
      const boxRight = box === document.documentElement
        ? window.innerWidth : b.left + box.clientLeft + box.clientWidth;
      over = Math.min(right - boxRight, box.scrollWidth - box.clientWidth);
    }
    if (over > 1) {
      flagged.add(el);
      clipped.push({element: describe(el), overflow: Math.round(over),
                    scroller: box === el ? "itself" : describe(box).split(" ")[0],
                    scrolls: box !== document.documentElement &&
                      ["auto", "scroll"].includes(getComputedStyle(box).overflowX)});
    }
  }

  // 5. Images.
  const images = [];
  for (const img of document.images) {
    if (!img.complete) {
      await new Promise((done) => {
        img.addEventListener("load", done, {once: true});
        img.addEventListener("error", done, {once: true});
        setTimeout(done, 10000);
      });
    }
    images.push({src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0,
                 alt: (img.getAttribute("alt") || "").trim()});
  }

  // 6. Figures: every image of the article sits in a numbered figure.
  const article = document.querySelector("article.bd-article, .bd-article, main") ||
                  document.body;
  const figures = [...article.querySelectorAll("img")].map((img) => {
    const fig = img.closest("figure, .figure");
    return {src: img.getAttribute("src"), alt: (img.getAttribute("alt") || "").slice(0, 60),
            in_figure: !!fig,
            number: fig && fig.querySelector(".caption-number")
              ? fig.querySelector(".caption-number").textContent.trim() : null,
            // shown size over drawn size: how much the figure's text is scaled down
            scale: img.naturalWidth ? img.getBoundingClientRect().width / img.naturalWidth
                                    : null};
  });

  // Claims, exercises and the claims table that ends a chapter.
  const numberOf = (el) => {
    const n = el.querySelector(".caption-number");
    return n ? n.textContent.trim() : null;
  };
  const claims = [...article.querySelectorAll("div.admonition.claim")].map(
    (el) => ({id: el.id, number: numberOf(el)}));
  const exercises = [...article.querySelectorAll("div.exercise")].map(
    (el) => ({id: el.id, number: numberOf(el)}));
  const solutions = article.querySelectorAll("div.solution").length;
  const claimRows = [...article.querySelectorAll("table.claims-table tbody tr")].map(
    (tr) => ({target: (tr.querySelector("a") || {}).getAttribute?.("href") || null,
              holds: tr.lastElementChild ? tr.lastElementChild.textContent.trim() : null}));

  // 9. The download links of the article header.
  const downloads = [...document.querySelectorAll(
      ".article-header-buttons a[href], .dropdown-download-buttons a[href]")]
    .map((a) => ({href: a.getAttribute("href"), url: a.href,
                  text: a.textContent.replace(/\s+/g, " ").trim()}));

  return {rawTex, mathErrors, clipped, images, figures, downloads, claims, exercises,
          solutions, claimRows,
          mathjax: !!(window.MathJax && window.MathJax.startup)};
}
"""

_WAIT_MATHJAX = """
async () => {
  const script = document.querySelector('script[src*="mathjax" i], script[src*="tex-" i]');
  if (!script) return "none";
  const started = Date.now();
  while (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) {
    if (Date.now() - started > 30000) return "never started";
    await new Promise((r) => setTimeout(r, 50));
  }
  await window.MathJax.startup.promise;
  return "done";
}
"""

# The chapter drawer: the primary sidebar must come into the viewport once its toggle is
# clicked. Returns where the sidebar is (or why not).
_SIDEBAR_STATE = r"""
() => {
  const candidates = [...document.querySelectorAll(
    "#pst-primary-sidebar, .bd-sidebar-primary, #pst-primary-sidebar-modal, dialog[open]")];
  const states = candidates.map((el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    const seen = Math.max(0, Math.min(r.right, window.innerWidth) - Math.max(r.left, 0));
    const shown = (el.checkVisibility ? el.checkVisibility({checkVisibilityCSS: true,
                                                           checkOpacity: true})
                                      : el.offsetParent !== null);
    return {id: el.id || el.tagName.toLowerCase(), left: Math.round(r.left),
            width: Math.round(r.width), visibleWidth: Math.round(seen), shown,
            links: el.querySelectorAll("a.reference").length,
            display: s.display, visibility: s.visibility};
  });
  const open = states.some((s) => s.shown && s.visibleWidth >= 100 && s.links > 0);
  return {open, states};
}
"""


@dataclass
class Visit:
    """What one visit to one page at one width recorded."""

    page: str
    width: int
    url: str
    status: int | None = None
    foreign: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    mathjax: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    drawer: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Viewer:
    """One browser context and one tab at one width; visits pages once and remembers."""

    def __init__(self, browser, server: str, width: int):
        self.server = server
        self.host = urlsplit(server).netloc
        self.width = width
        self.context = browser.new_context(
            viewport={"width": width, "height": HEIGHT},
            device_scale_factor=1,
            is_mobile=False,
            has_touch=width < 600,
            reduced_motion="reduce",
        )
        self.context.set_default_timeout(LOAD_TIMEOUT_MS)
        self.context.route("**/*", self._route)
        self.tab = self.context.new_page()
        self.tab.on("console", self._console)
        self.tab.on("pageerror", self._pageerror)
        self.visits: dict[str, Visit] = {}
        self.current: Visit | None = None

    def _route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == self.host:
            route.continue_()
            return
        if self.current is not None:
            self.current.foreign.append(url)
        route.abort()

    def _console(self, message) -> None:
        if message.type in ("error", "warning") and self.current is not None:
            where = message.location or {}
            source = where.get("url", "")
            source = source.replace(self.server, "") if source else ""
            self.current.console.append(
                f"{message.type}: {message.text}" + (f" ({source})" if source else "")
            )

    def _pageerror(self, error) -> None:
        if self.current is not None:
            self.current.console.append(f"pageerror: {error}")

    def visit(self, page: str) -> Visit:
        if page in self.visits:
            return self.visits[page]
        visit = Visit(page=page, width=self.width, url=self.server + page)
        self.current = visit
        try:
            response = self.tab.goto(visit.url, wait_until="load")
            visit.status = response.status if response else None
            visit.mathjax = self.tab.evaluate(_WAIT_MATHJAX)
            # Late requests and messages (fonts, deferred scripts); idle or not after 5 s.
            with contextlib.suppress(Exception):
                self.tab.wait_for_load_state("networkidle", timeout=5000)
            visit.data = self.tab.evaluate(_COLLECT)
            if self.width < 768:
                visit.drawer = self._open_drawer()
        except Exception as exc:
            visit.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        finally:
            self.visits[page] = visit
        return visit

    def _open_drawer(self) -> dict[str, Any]:
        before = self.tab.evaluate(_SIDEBAR_STATE)
        toggles = self.tab.locator("button.primary-toggle, label.primary-toggle")
        clicked = None
        for i in range(toggles.count()):
            toggle = toggles.nth(i)
            if toggle.is_visible():
                clicked = toggle.evaluate("(el) => el.outerHTML.split('>')[0] + '>'")
                toggle.click(timeout=5000)
                break
        if clicked is None:
            return {"open": False, "clicked": None, "before": before, "after": before}
        after = before
        for _ in range(20):  # up to 2 s for the drawer to slide in
            self.tab.wait_for_timeout(100)
            after = self.tab.evaluate(_SIDEBAR_STATE)
            if after["open"]:
                break
        return {"open": after["open"], "clicked": clicked, "before": before, "after": after}

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="session")
def viewers(browser, server):
    """One Viewer per width, created on first use (one context at a time is enough)."""
    made: dict[int, Viewer] = {}

    def get(width: int) -> Viewer:
        if width not in made:
            made[width] = Viewer(browser, server, width)
        return made[width]

    yield get
    for viewer in made.values():
        viewer.close()


@pytest.fixture
def visit(viewers):
    """visit(page, width): the (cached) record of one visit; fails if the page did not load."""

    def get(page: str, width: int) -> Visit:
        record = viewers(width).visit(page)
        if record.error:
            pytest.fail(f"{page} at {width} px did not load: {record.error}")
        if record.status is not None and record.status >= 400:
            pytest.fail(f"{page} at {width} px: HTTP {record.status}")
        return record

    return get

"""The built book in a real browser (headless Chromium), on every page the site lists,
at a desktop width (1280 px) and a phone width (390 px).

Run with `make test-browser`, or
    .venv/bin/python -m pytest tests/browser -p no:cacheprovider
against the folder named by XENT_SITE (default _build/ci/_build/html).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest

from xenthelpers.plotting import FIGURE_DPI, SMALLEST_FONT_PT

from .conftest import ROOT, WIDTHS, chapter_pages, executable_pages, site_pages, site_root

PAGES = site_pages()
DESKTOP, PHONE = WIDTHS
PAGE_WIDTHS = [
    pytest.param(page, width, id=f"{page}-{width}") for page in PAGES for width in WIDTHS
]
SEARCHES = [("distillation", "book/knowledge-distillation.html")]


def _bullets(items, limit=15):
    items = list(items)
    shown = "\n".join(f"  - {item}" for item in items[:limit])
    more = f"\n  ... and {len(items) - limit} more" if len(items) > limit else ""
    return shown + more


# 1. -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("page", "width"), PAGE_WIDTHS)
def test_nothing_is_requested_outside_the_site(visit, page, width):
    record = visit(page, width)
    foreign = Counter(record.foreign)
    assert not foreign, (
        f"{page} at {width} px requested {sum(foreign.values())} resource(s) outside "
        f"127.0.0.1 (aborted):\n" + _bullets(f"{url} (x{n})" for url, n in foreign.items())
    )


# 2. -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("page", "width"), PAGE_WIDTHS)
def test_no_console_errors_or_warnings(visit, page, width):
    record = visit(page, width)
    messages = Counter(record.console)
    assert not messages, (
        f"{page} at {width} px logged {sum(messages.values())} console error(s)/warning(s):\n"
        + _bullets(f"{text} (x{n})" for text, n in messages.items())
    )


# 3. -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("page", "width"), PAGE_WIDTHS)
def test_mathjax_leaves_no_raw_tex(visit, page, width):
    record = visit(page, width)
    assert record.mathjax in ("none", "done"), (
        f"{page} at {width} px: MathJax is loaded but {record.mathjax}"
    )
    raw = record.data["rawTex"]
    errors = record.data["mathErrors"]
    problems = [f"{r['what']}: {r['match']!r} in ...{r['context']}..." for r in raw]
    problems += [f"mjx-merror (undefined macro or bad TeX): {e}" for e in errors]
    assert not problems, (
        f"{page} at {width} px: {len(raw)} text node(s) with raw TeX, {len(errors)} "
        f"MathJax error(s):\n" + _bullets(problems)
    )


# 4. -------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_no_clipped_output_or_display_math(visit, page):
    record = visit(page, DESKTOP)
    clipped = sorted(record.data["clipped"], key=lambda c: -c["overflow"])
    assert not clipped, (
        f"{page} at {DESKTOP} px: {len(clipped)} output block(s) or display equation(s) wider "
        "than their box (overflow px, element, box that scrolls or clips):\n"
        + _bullets(f"{c['overflow']} px  {c['element']}  [box: {c['scroller']}]" for c in clipped)
    )


# 5. -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("page", "width"), PAGE_WIDTHS)
def test_every_image_loads_and_has_alt_text(visit, page, width):
    record = visit(page, width)
    images = record.data["images"]
    broken = [f"not loaded: {img['src']}" for img in images if not img["loaded"]]
    broken += [f"no alt text: {img['src']}" for img in images if not img["alt"]]
    assert not broken, (
        f"{page} at {width} px: {len(broken)} of {len(images)} image problem(s):\n"
        + _bullets(broken)
    )


# 6. -------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_every_figure_is_numbered(visit, page):
    record = visit(page, DESKTOP)
    figures = record.data["figures"]
    unnumbered = [f for f in figures if not f["number"]]
    assert not unnumbered, (
        f"{page}: {len(unnumbered)} of {len(figures)} image(s) in the article are not in a "
        "numbered figure (a figure with a caption number, as the {figure} directive or "
        "myst-nb's figure metadata produce):\n"
        + _bullets(
            ("in an unnumbered figure: " if f["in_figure"] else "bare image: ")
            + f"{f['src']} ({f['alt']!r})"
            for f in unnumbered
        )
    )


# 7. -------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_chapter_drawer_opens_on_a_phone(visit, page):
    record = visit(page, PHONE)
    drawer = record.drawer
    assert drawer.get("clicked"), (
        f"{page} at {PHONE} px: no visible primary-sidebar toggle to click; sidebar: "
        f"{drawer.get('before', {}).get('states')}"
    )
    assert drawer["open"], (
        f"{page} at {PHONE} px: clicked {drawer['clicked']} but the primary sidebar did not "
        f"come into the viewport within 2 s.\n  before: {drawer['before']['states']}\n"
        f"  after:  {drawer['after']['states']}"
    )


# 8. -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("word", "expected"), SEARCHES, ids=[w for w, _ in SEARCHES])
def test_search_finds_a_chapter_by_a_word_of_its_body(viewers, word, expected):
    viewer = viewers(DESKTOP)
    tab = viewer.tab
    viewer.current = None  # not one of the page visits
    tab.goto(f"{viewer.server}search.html?q={word}", wait_until="load")
    try:
        tab.wait_for_function(
            "() => { const s = document.querySelector('#search-results .search-summary');"
            " return s && s.textContent.trim().length > 0; }",
            timeout=30_000,
        )
    except Exception as exc:
        pytest.fail(f"search.html?q={word}: no search summary after 30 s ({exc})".splitlines()[0])
    links = tab.eval_on_selector_all("#search-results a", "els => els.map(a => a.href)")
    summary = tab.inner_text("#search-results").strip().splitlines()[:3]
    target = urljoin(viewer.server, expected)
    hits = [link for link in links if link.split("#")[0].split("?")[0] == target]
    assert hits, (
        f"searching for {word!r} did not link {expected}; summary: {summary}; links: {links[:10]}"
    )


# 9. -------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", executable_pages())
def test_chapter_downloads_as_a_valid_notebook(visit, page):
    record = visit(page, DESKTOP)
    links = record.data["downloads"]
    notebooks = [link for link in links if urlsplit(link["href"]).path.endswith(".ipynb")]
    assert notebooks, (
        f"{page}: the article header offers no download as .ipynb "
        f"(download links found: {[link['href'] for link in links] or 'none'})"
    )
    root = site_root().resolve()
    for link in notebooks:
        path = unquote(urlsplit(link["url"]).path).lstrip("/")
        file = (root / path).resolve()
        assert file.is_relative_to(root) and file.is_file(), (
            f"{page}: the .ipynb download {link['href']} points to {path}, which is not in the site"
        )
        try:
            notebook = nbformat.read(file, as_version=4)
            nbformat.validate(notebook)
        except Exception as exc:
            pytest.fail(f"{page}: {link['href']} is not a valid notebook: {exc}")
        assert notebook.cells, f"{page}: {link['href']} is a notebook without cells"


# 10. ------------------------------------------------------------------------------------
SMALLEST_TEXT_PX = 9


@pytest.mark.parametrize("page", PAGES)
def test_figure_text_is_at_least_nine_pixels(visit, page):
    """The smallest text of a figure, as drawn, scaled by how much narrower it is shown."""
    record = visit(page, DESKTOP)
    drawn_px = SMALLEST_FONT_PT / 72 * FIGURE_DPI
    small = [
        f"{f['src']}: smallest text {drawn_px * f['scale']:.1f} px (shown at "
        f"{f['scale']:.0%} of its size)"
        for f in record.data["figures"]
        if f["scale"] is not None and drawn_px * f["scale"] < SMALLEST_TEXT_PX
    ]
    assert not small, f"{page} at {DESKTOP} px:\n" + _bullets(small)


# 11. ------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", chapter_pages())
def test_claims_and_exercises_are_numbered_and_the_table_lists_every_claim(visit, page):
    data = visit(page, DESKTOP).data
    claims, exercises = data["claims"], data["exercises"]
    assert claims, f"{page}: no claim block"
    unnumbered = [c["id"] for c in claims if not (c["number"] or "").startswith("Claim ")]
    assert not unnumbered, f"{page}: claims without a number: {unnumbered}"
    assert len(exercises) >= 2, f"{page}: {len(exercises)} exercise(s)"
    assert all((e["number"] or "").startswith("Exercise ") for e in exercises), exercises
    assert data["solutions"] >= len(exercises), f"{page}: {data['solutions']} solutions"
    rows = data["claimRows"]
    assert sorted(r["target"] for r in rows) == sorted(f"#{c['id']}" for c in claims), (
        f"{page}: the claims table does not list exactly the claim blocks:\n"
        f"  table: {[r['target'] for r in rows]}\n  blocks: {[c['id'] for c in claims]}"
    )
    assert all(r["holds"] == "yes" for r in rows), rows


# 12. ------------------------------------------------------------------------------------
_SOLUTION_STATE = """
() => [...document.querySelectorAll("div.solution")].map((el) => {
  const body = [...el.children].filter((c) => !c.classList.contains("admonition-title"));
  return {id: el.id,
          shown: body.some((c) => c.checkVisibility({checkVisibilityCSS: true}))};
})
"""


@pytest.mark.parametrize("page", chapter_pages())
def test_solutions_are_hidden_until_clicked(viewers, page):
    viewer = viewers(DESKTOP)
    tab = viewer.tab
    viewer.current = None  # an interaction, not one of the recorded visits
    tab.goto(viewer.server + page, wait_until="load")
    before = tab.evaluate(_SOLUTION_STATE)
    assert before, f"{page}: no solution"
    assert not any(s["shown"] for s in before), f"{page}: solutions shown before a click"
    titles = tab.locator("div.solution > .admonition-title")
    for i in range(titles.count()):
        titles.nth(i).scroll_into_view_if_needed()
        titles.nth(i).click()
    tab.wait_for_timeout(300)
    after = tab.evaluate(_SOLUTION_STATE)
    closed = [s["id"] for s in after if not s["shown"]]
    assert not closed, f"{page}: solutions still hidden after a click: {closed}"


# 13. ------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_wide_content_scrolls_on_a_phone(visit, page):
    record = visit(page, PHONE)
    cut = [c for c in record.data["clipped"] if not c["scrolls"]]
    assert not cut, (
        f"{page} at {PHONE} px: {len(cut)} block(s) wider than the screen that are cut "
        "instead of scrolling:\n"
        + _bullets(f"{c['overflow']} px  {c['element']}  [box: {c['scroller']}]" for c in cut)
    )


# 14. ------------------------------------------------------------------------------------
_NOT_PROSE = ("import ", "print(", "\\", "$", "torch.", "def ")


def test_search_snippets_quote_prose(viewers):
    viewer = viewers(DESKTOP)
    tab = viewer.tab
    viewer.current = None
    tab.goto(f"{viewer.server}search.html?q=temperature", wait_until="load")
    tab.wait_for_function(
        "() => { const s = document.querySelector('#search-results .search-summary');"
        " return s && /found/.test(s.textContent); }",
        timeout=30_000,
    )
    tab.wait_for_timeout(2000)  # snippets arrive page by page
    snippets = tab.eval_on_selector_all(
        "#search-results p.context", "els => els.map(p => p.textContent)"
    )
    assert snippets, "no snippet under the search results"
    code = [s for s in snippets if any(marker in s for marker in _NOT_PROSE)]
    assert not code, "snippets quoting code or TeX:\n" + _bullets(s[:120] for s in code)


# 15. ------------------------------------------------------------------------------------
SCREENSHOTS = ROOT / "_build" / "screenshots"
SHOWN_CHAPTER = "book/label-smoothing.html"


def test_screenshots_of_a_chapter_on_a_desktop_and_a_phone(viewers):
    """Saved for a person to look at: the chapter list and the evidence on both screens."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for width in WIDTHS:
        viewer = viewers(width)
        tab = viewer.tab
        viewer.current = None
        tab.goto(viewer.server + SHOWN_CHAPTER, wait_until="load")
        tab.locator("div.admonition.claim").first.scroll_into_view_if_needed()
        path = SCREENSHOTS / f"{Path(SHOWN_CHAPTER).stem}-{width}.png"
        tab.screenshot(path=path)
        saved.append(path)
        if width < 768:
            tab.locator("button.primary-toggle:visible").first.click()
            tab.wait_for_timeout(500)
            path = SCREENSHOTS / f"{Path(SHOWN_CHAPTER).stem}-{width}-chapters.png"
            tab.screenshot(path=path)
            saved.append(path)
    assert all(p.stat().st_size > 10_000 for p in saved), saved


def test_the_site_lists_pages():
    assert len(PAGES) > 2 and all((site_root() / p).is_file() for p in PAGES), PAGES
    assert Path(PAGES[0]).suffix == ".html"

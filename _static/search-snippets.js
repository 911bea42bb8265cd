// Search results quote the sentence around the word found. Sphinx takes that sentence
// from the page's whole text, code cells and the TeX source of equations included; here
// the page's header and contents list, code, outputs and math are dropped first, so the quote comes from the prose.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined" || !Search.htmlToText) return;
  const fromWholePage = Search.htmlToText;
  const notProse = [
    ".cell_input", ".cell_output", "div.highlight", "pre", "div.math",
    "mjx-container", "table.claims-table", ".caption-number",
  ].join(", ");
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    // Only the article: not the page header, its printed contents list or the footer.
    const main = page.querySelector('[role="main"]');
    const article = page.querySelector("article.bd-article");
    if (main && article) main.replaceChildren(article);
    page.querySelectorAll(notProse).forEach((el) => el.remove());
    page.querySelectorAll("span.math").forEach((el) => el.replaceWith("…"));
    return fromWholePage(page.documentElement.outerHTML, anchor);
  };
});

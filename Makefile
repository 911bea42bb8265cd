# Cross-Entropy at Work: every target sets up what it needs.
#   make book   build the HTML book into _build/html (reuses the execution cache)
#   make test   lint and type checks, unit tests, the wheel on its own, every chapter
#               under nbval, a clean strict book build, the chapters again on other kernels,
#               the built site in a browser, the book as a PDF read back
#   make pdf    the whole book as one PDF, _build/pdf/cross-entropy-at-work.pdf (same cache)
#   make bench  speed and memory of the helpers against their peers
#   make test-browser  the built site (_build/ci/_build/html, left by test-book) in headless
#               Chromium at 1280 and 390 px: offline, no console errors, MathJax, clipping,
#               images, numbered figures and claims, solutions, the phone drawer, search,
#               notebook downloads (part of `make test`)
#   make test-pdf  the tested build as one PDF, read back: chapters in order, math typeset,
#               figures (the last step of `make test`)

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= auto
JB_FLAGS := --builder html --warningiserror --nitpick --keep-going

.PHONY: all install book stale-cache pdf chromium test-pdf test test-lint test-unit test-wheel test-notebooks test-book test-kernels test-browser bench clean

all: book

# pyproject.toml declares the ranges; constraints.txt pins the versions the book is tested with.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c constraints.txt --editable ".[book,test,peers]"
	touch $(STAMP)

install: $(STAMP)

# jupyter-cache keys a chapter's outputs on its code cells only, and Sphinx re-reads only
# the sources that changed, but the outputs also depend on the package the chapters
# import. Both are dropped whenever the package source or the dependencies change, so a
# broken helper fails the next build instead of leaving yesterday's outputs standing.
CACHE        := _build/.jupyter_cache
DOCTREES     := _build/.doctrees
CACHE_DIGEST := _build/.jupyter_cache.library-sha256
LIBRARY_SHA  = $$(find xenthelpers -type f -name '*.py' | LC_ALL=C sort | xargs cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)

# A build that executes chapters depends on this step and records the digest once it succeeds.
stale-cache:
	@mkdir -p _build
	@if [ "$(LIBRARY_SHA)" != "$$(cat $(CACHE_DIGEST) 2>/dev/null)" ]; then \
		echo "xenthelpers or the dependencies changed: executing every chapter again"; \
		rm -rf $(CACHE) $(CACHE_DIGEST) $(DOCTREES); \
	fi

book: $(STAMP) stale-cache
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "$(LIBRARY_SHA)" > $(CACHE_DIGEST)
	@echo "Open _build/html/index.html in a browser."

# The whole book as one PDF: the single-page HTML build (same execution cache as `book`),
# printed by headless Chromium once MathJax and every figure have loaded (tools/print_pdf.py).
PDF := _build/pdf/cross-entropy-at-work.pdf
pdf: $(STAMP) chromium stale-cache
	$(BIN)/python tools/singlehtml.py build . --builder singlehtml
	@echo "$(LIBRARY_SHA)" > $(CACHE_DIGEST)
	$(BIN)/python tools/print_pdf.py --site _build/singlehtml --output $(PDF)

test: test-lint test-unit test-wheel test-notebooks test-book test-kernels test-browser test-pdf

# Configured in pyproject.toml ([tool.ruff], [tool.mypy]).
test-lint: $(STAMP)
	$(BIN)/ruff check xenthelpers
	$(BIN)/ruff format --check xenthelpers
	$(BIN)/mypy xenthelpers

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit xenthelpers --doctest-modules -n $(JOBS)

# The package alone: its sdist and wheel, installed into an empty venv with nothing but
# its own dependencies (at the versions of constraints.txt), then imported and used there.
test-wheel: $(STAMP)
	$(BIN)/python tests/wheel/check.py

# One notebook per worker (loadfile); one thread per kernel so workers do not fight for cores.
test-notebooks: $(STAMP)
	rm -rf _build/executed
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest book --nbval-lax --nbval-current-env \
		-p no:cacheprovider -n $(JOBS) --dist loadfile

test-book: $(STAMP)
	$(BIN)/python -m pytest tests/book

# Every chapter again on other arithmetic: PyTorch's portable CPU kernels instead of the
# SIMD ones this CPU offers, and MKL's and oneDNN's SSE paths. Readers' machines take
# other paths than this one, so a claim that holds only on this machine's rounding fails
# here. --noconftest: nothing from this run is recorded for the book build.
KERNEL_ENV := ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 DNNL_MAX_CPU_ISA=SSE41
test-kernels: $(STAMP)
	$(KERNEL_ENV) OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest book --nbval-lax \
		--nbval-current-env -p no:cacheprovider --noconftest -n $(JOBS) --dist loadfile

# Chromium for the browser checks and the PDF: Debian's (/usr/bin/chromium or `chromium` on
# PATH), installed with apt-get when run as root where there is none, else Playwright's own
# (`playwright install chromium`); with neither it stops and says how to get one.
chromium: $(STAMP)
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then \
		:; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "no Chromium found: installing Debian's with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	elif $(BIN)/python -m playwright install chromium; then \
		echo "using Playwright's Chromium"; \
	else \
		echo "This step needs Chromium (/usr/bin/chromium or chromium on PATH)." >&2; \
		echo "Install it with your package manager, e.g. 'sudo apt-get install chromium'" >&2; \
		echo "on Debian/Ubuntu, 'sudo dnf install chromium' on Fedora, 'brew install --cask" >&2; \
		echo "chromium' on macOS (then put it on PATH as chromium), or run" >&2; \
		echo "'$(BIN)/python -m playwright install chromium' where it can download." >&2; \
		exit 1; \
	fi

# The site test-book built, in a real browser (tests/browser) at 1280 and 390 px, with
# screenshots of one chapter left in _build/screenshots.
TEST_BUILD := _build/ci
test-browser: $(STAMP) chromium
	@[ -f "$(TEST_BUILD)/_build/html/index.html" ] || { echo "no built site in $(TEST_BUILD): run make test-book first" >&2; exit 1; }
	XENT_SITE=$(TEST_BUILD)/_build/html $(BIN)/python -m pytest tests/browser -p no:cacheprovider

# The same book as one PDF, read back (tests/pdf): every chapter in order, each starting a
# new page with a bookmark to it, no untypeset TeX, every figure. It is made from test-book's
# execution cache, which holds every chapter as nbval ran it, so nothing runs again.
TEST_PDF := $(TEST_BUILD)/pdf/cross-entropy-at-work.pdf
test-pdf: $(STAMP) chromium
	@[ -d "$(TEST_BUILD)/_build/.jupyter_cache" ] || { echo "no tested build in $(TEST_BUILD): run make test-book first" >&2; exit 1; }
	$(BIN)/python tools/singlehtml.py build . --builder singlehtml --path-output $(TEST_BUILD)
	$(BIN)/python tools/print_pdf.py --site $(TEST_BUILD)/_build/singlehtml --output $(TEST_PDF)
	XENT_PDF=$(TEST_PDF) $(BIN)/python -m pytest tests/pdf -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf _build .pytest_cache .hypothesis

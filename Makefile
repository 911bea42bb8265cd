# Cross-Entropy at Work: every target sets up what it needs.
#   make book   build the HTML book into _build/html (reuses the execution cache)
#   make test   lint and type checks, unit tests, the wheel on its own, every chapter
#               under nbval, a clean strict book build, the chapters again on other kernels
#   make bench  speed and memory of the helpers against their peers
#   make test-browser  the built site (_build/ci/_build/html, left by test-book) in headless
#               Chromium: offline, no console errors, MathJax, clipping, images, figures,
#               the phone drawer, search, notebook downloads (not part of `make test`)

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= auto
JB_FLAGS := --builder html --warningiserror --nitpick --keep-going

.PHONY: all install book test test-lint test-unit test-wheel test-notebooks test-book test-kernels test-browser bench clean

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

book: $(STAMP)
	@mkdir -p _build
	@if [ "$(LIBRARY_SHA)" != "$$(cat $(CACHE_DIGEST) 2>/dev/null)" ]; then \
		echo "xenthelpers or the dependencies changed: executing every chapter again"; \
		rm -rf $(CACHE) $(CACHE_DIGEST) $(DOCTREES); \
	fi
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "$(LIBRARY_SHA)" > $(CACHE_DIGEST)
	@echo "Open _build/html/index.html in a browser."

test: test-lint test-unit test-wheel test-notebooks test-book test-kernels

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

# The strict build of test-book in a real browser (tests/browser). It needs Chromium: found
# as /usr/bin/chromium or `chromium` on PATH, else installed with apt-get when run as root
# on a Debian-like system; otherwise it stops and says how to get one. Not part of `test`.
BROWSER_SITE ?= _build/ci/_build/html
test-browser: $(STAMP)
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then \
		:; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "no Chromium found: installing it with apt-get"; \
		apt-get update && apt-get install -y chromium; \
	else \
		echo "test-browser needs Chromium (/usr/bin/chromium or chromium on PATH)." >&2; \
		echo "Install it with your package manager, e.g. 'sudo apt-get install chromium'" >&2; \
		echo "on Debian/Ubuntu, 'sudo dnf install chromium' on Fedora, 'brew install --cask" >&2; \
		echo "chromium' on macOS (then put it on PATH as chromium)." >&2; \
		exit 1; \
	fi
	@[ -f "$(BROWSER_SITE)/index.html" ] || { echo "no built site in $(BROWSER_SITE): run make test-book first" >&2; exit 1; }
	XENT_SITE=$(BROWSER_SITE) $(BIN)/python -m pytest tests/browser -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf _build .pytest_cache .hypothesis

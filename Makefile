# Cross-Entropy at Work: every target sets up what it needs.
#   make book   build the HTML book into _build/html (reuses the execution cache)
#   make test   unit tests, every chapter under nbval, a clean strict book build
#   make bench  speed and memory of the helpers against their peers

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= auto
JB_FLAGS := --builder html --warningiserror --nitpick --keep-going

.PHONY: all install book test test-unit test-notebooks test-book bench clean

all: book

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --editable ".[book,test,peers]"
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "Open _build/html/index.html in a browser."

test: test-unit test-notebooks test-book

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit xenthelpers --doctest-modules -n $(JOBS)

# One notebook per worker (loadfile); one thread per kernel so workers do not fight for cores.
test-notebooks: $(STAMP)
	rm -rf _build/executed
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest book --nbval-lax --nbval-current-env \
		-p no:cacheprovider -n $(JOBS) --dist loadfile

test-book: $(STAMP)
	$(BIN)/python -m pytest tests/book

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf _build .pytest_cache .hypothesis

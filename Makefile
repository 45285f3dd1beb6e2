# The two commands a new user needs: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
# Test processes (pytest-xdist); 0 runs the tests in this one process.
PYTEST_WORKERS ?= 2
BIN := $(VENV)/bin

.PHONY: demo test install install-dev browser-deps lint format typecheck messages clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "csas needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/csas demo --port $(PORT)

browser-deps:
	bash scripts/ensure-chromium.sh

test: install-dev browser-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install-dev
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

typecheck: install-dev
	$(BIN)/mypy

# Refresh the message catalogues after changing UI strings (needs GNU gettext's msgfmt).
messages: install-dev
	cd src/csas && ../../$(BIN)/django-admin makemessages --settings=csas.config.settings \
	  -l es -l vi -l km -l ko -l ru -l uk --no-obsolete --no-location
	$(BIN)/python scripts/compile_messages.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

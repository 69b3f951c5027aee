# Two commands for a newcomer: `make run` starts the whole store, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint typecheck imports pytest install install-dev chromium clean

## run: create the virtualenv, install, and start the whole store in the foreground (Ctrl-C stops it)
run: $(RUNTIME_STAMP)
	$(BIN)/shopflow dev

## test: install what tests need (pip packages, Debian's Chromium) and run every check and test
test: $(DEV_STAMP) chromium lint typecheck imports pytest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

## chromium: Debian's Chromium for the Playwright tests (Playwright's own download cannot work here)
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy --strict .

imports: $(DEV_STAMP)
	$(BIN)/lint-imports

pytest: $(DEV_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

## bench-search: catalogue search under load on SQLite and PostgreSQL; prints ratios (BENCH_ARGS=...)
.PHONY: bench-search
bench-search: $(RUNTIME_STAMP)
	$(BIN)/python -m bench.search $(BENCH_ARGS)

## bench-checkout: bare Temporal chain vs the real workflows (no-op and real activities, SQLite and PostgreSQL); prints ratios (BENCH_ARGS=--quick ...)
.PHONY: bench-checkout
bench-checkout: $(RUNTIME_STAMP)
	$(BIN)/python -m bench.checkout $(BENCH_ARGS)

## record-histories: record every workflow kind's histories anew into tests/replay/histories/<version>/ (RECORD_ARGS=--release X, -k ...)
.PHONY: record-histories
record-histories: $(DEV_STAMP)
	$(BIN)/python -m tests.replay.record $(RECORD_ARGS)

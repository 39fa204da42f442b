# The two entry points of the README. Both do all of their own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export UNDERSIGN_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/undersign migrate --noinput
	$(BIN)/undersign collectstatic --noinput --verbosity 0
	$(BIN)/undersign seed_demo
	$(BIN)/undersign run --addr 127.0.0.1:8000

test: $(STAMP)
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests

# The two entry points of the README. Both do all of their own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export UNDERSIGN_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint install bench growth fault-test

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
	$(BIN)/ruff check src tests bench

# The load benchmark and the fault test (docs/performance.md). Both start the production stack
# on 127.0.0.1 against the local PostgreSQL and Redis; the benchmark also needs Debian's wrk.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	command -v wrk >/dev/null || bash scripts/ensure-debian-packages.sh wrk
	command -v pgbench >/dev/null || bash scripts/ensure-debian-packages.sh postgresql-contrib
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	bench/run $(BENCH_ARGS)

growth: $(BENCH_STAMP)
	bench/growth $(BENCH_ARGS)

fault-test: $(STAMP)
	$(BIN)/python -m pytest -m faults tests/faults $(PYTEST_ARGS)

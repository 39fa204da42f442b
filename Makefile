# The two entry points of the README. Both do all of their own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export UNDERSIGN_DATA_DIR ?= $(CURDIR)/data

# Python dependencies are installed only from the lock files in requirements/, every file checked
# against its hash: requirements/test.txt (runtime + the `test` extra + the build backend, for
# install, run, test and lint) and requirements/bench.txt (the same pins plus the `bench` extra).
# The project itself is then installed editable with --no-deps --no-build-isolation, so nothing
# unpinned is ever fetched. After changing dependencies in pyproject.toml, run `make lock`
# (`make lock LOCK_ARGS=--upgrade` moves every pin to the newest allowed release,
# `LOCK_ARGS="-P django"` one package) and commit requirements/*.txt with pyproject.toml.
LOCK_TEST := requirements/test.txt
LOCK_BENCH := requirements/bench.txt
PIP_INSTALL_LOCKED := $(BIN)/python -m pip install --quiet --require-hashes --no-deps
PIP_INSTALL_PROJECT := $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .

.PHONY: run test lint install bench growth fault-test flood-test lock js

# Remade when pyproject.toml or the lock changes. The lock holds hatchling and editables, which
# the editable install builds with; pip is the venv's own (ensurepip's, set by the Python
# version), never upgraded from the index. `pip check` proves the locked set is complete.
$(STAMP): pyproject.toml $(LOCK_TEST)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL_LOCKED) -r $(LOCK_TEST)
	$(PIP_INSTALL_PROJECT)
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

# `make run ADDR=0.0.0.0:8080`: where the embedded server listens (default 127.0.0.1:8000). Every
# step sees it (UNDERSIGN_ADDR), so links and e-mails name it unless SITE_URL is set, and a new
# log takes its name from it once (the name then stays: docs/settings.md, LOG_ORIGIN).
ADDR ?= 127.0.0.1:8000
run: export UNDERSIGN_ADDR = $(ADDR)
run: $(STAMP)
	$(BIN)/undersign migrate --noinput
	$(BIN)/undersign collectstatic --noinput --verbosity 0
	$(BIN)/undersign seed_demo
	$(BIN)/undersign run --addr $(ADDR)

# gettext's xgettext and msgfmt: tests/test_catalogues.py runs makemessages and checks the
# catalogues with them. Without root outside CI that one check skips and says why; under CI a
# missing tool fails the target rather than hide an incomplete catalogue. ensure-axe.sh installs
# axe-core from js/package-lock.json (npm ci, only when missing or the lock changed) for the
# accessibility browser test, under the same rule. DejaVu Sans (fonts-dejavu-core) draws the
# share image's Cyrillic; tests/sharing checks it is there.
test: $(STAMP)
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-axe.sh
	command -v xgettext >/dev/null || bash scripts/ensure-debian-packages.sh gettext || [ "$${CI:-}" != "true" ]
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || bash scripts/ensure-debian-packages.sh fonts-dejavu-core || [ "$${CI:-}" != "true" ]
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# `make js`: rebuild the browser libraries we serve from our own static files (attack mode's
# Argon2id and SHA-256, from hash-wasm) out of js/package-lock.json. The built file is committed,
# so run, test and a deployment need no npm and fetch nothing from a registry or a CDN at run
# time; rerun this only after changing js/package.json (then commit the lock and the file).
# tests/abuse/test_static_build.py checks the file names the locked version.
HASH_WASM := src/undersign/abuse/static/abuse/hash-wasm.js
js:
	cd js && npm ci --ignore-scripts --no-audit --no-fund
	{ printf '/* hash-wasm %s (MIT), argon2 and sha256 builds: made by `make js` from js/package-lock.json */\n' \
		"$$(node -p 'require("./js/node_modules/hash-wasm/package.json").version')"; \
		cat js/node_modules/hash-wasm/dist/argon2.umd.min.js js/node_modules/hash-wasm/dist/sha256.umd.min.js; \
	} > $(HASH_WASM)

# Each step fails the target; mypy reads [tool.mypy] and lint-imports [tool.importlinter]
# from pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# The load benchmark and the fault test (docs/performance.md). Both start the production stack
# on 127.0.0.1 against the local PostgreSQL and Redis; the benchmark also needs Debian's wrk, and
# both need haproxy for two app hosts (bench/run --hosts 2; the fault test always runs two).
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP) $(LOCK_BENCH)
	$(PIP_INSTALL_LOCKED) -r $(LOCK_BENCH)
	$(BIN)/python -m pip check
	command -v wrk >/dev/null || bash scripts/ensure-debian-packages.sh wrk
	command -v pgbench >/dev/null || bash scripts/ensure-debian-packages.sh postgresql-contrib
	command -v haproxy >/dev/null || bash scripts/ensure-debian-packages.sh haproxy
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	bench/run $(BENCH_ARGS)

growth: $(BENCH_STAMP)
	bench/growth $(BENCH_ARGS)

# The flood tests (docs/abuse.md) alone: part of `make test` on PostgreSQL, skipped on SQLite.
flood-test: $(STAMP)
	$(BIN)/python -m pytest -m flood tests/flood $(PYTEST_ARGS)

fault-test: $(STAMP)
	command -v haproxy >/dev/null || bash scripts/ensure-debian-packages.sh haproxy || [ "$${CI:-}" != "true" ]
	$(BIN)/python -m pytest -m faults tests/faults $(PYTEST_ARGS)

# `make lock`: regenerate requirements/*.txt from pyproject.toml (and requirements/tools.in)
# with pip-compile (pip-tools), itself installed from its own lock in .venv-lock/, apart from
# the project's .venv. pip-tools rather than `uv pip compile`: its --build-deps-for editable
# asks hatchling itself what the editable build needs (hatchling, editables), so the build
# backend is locked without a hand-kept list; and it resolves with pip, the installer that reads
# the locks. Existing pins are kept where pyproject.toml still allows them; LOCK_ARGS=--upgrade
# takes the newest releases. bench.txt is constrained by test.txt, so the two share every pin.
# The machine's pip configuration (local mirrors, find-links, constraints) is ignored here, so
# the locks name only the package index's own files and hashes. The locks are for Python 3.11
# (pip-compile resolves for the Python it runs on).
LOCK_VENV := .venv-lock
LOCK_STAMP := $(LOCK_VENV)/.installed
PIP_COMPILE = env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT \
	PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile \
	--quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS)

$(LOCK_STAMP): requirements/tools.txt
	test -x $(LOCK_VENV)/bin/python || $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements/tools.txt
	touch $(LOCK_STAMP)

lock: $(LOCK_STAMP)
	$(LOCK_VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "need Python 3.11")'
	$(PIP_COMPILE) -o requirements/tools.txt requirements/tools.in
	$(PIP_COMPILE) --extra test --build-deps-for editable -o $(LOCK_TEST) pyproject.toml
	$(PIP_COMPILE) --extra test --extra bench --build-deps-for editable -c $(LOCK_TEST) \
		-o $(LOCK_BENCH) pyproject.toml

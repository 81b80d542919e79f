# csmap — the two commands a newcomer needs are `make demo` and `make test`.
# Every target is safe to run twice and in any order: each step does only what is missing.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CSMAP := $(VENV)/bin/csmap
STAMP := $(VENV)/.csmap-installed
PORT ?= 5000

.PHONY: help demo test bootstrap os-deps os-deps-browser venv db-up db-down db-status migrate \
        demo-data serve lint typecheck jstest pytest bench bench-load bench-national drill vendor \
        vendor-check clean

help:
	@echo "make demo    set up everything and serve the demo town on http://127.0.0.1:$(PORT)"
	@echo "make test    set up everything and run lint, types, unit, PostGIS and browser tests"
	@echo "helpers:     db-up db-down db-status migrate demo-data serve lint typecheck jstest bench"
	@echo "             bench-national vendor drill (fault drill) bench-load (locust against a served demo)"

# -- set-up -----------------------------------------------------------------------------------
os-deps:
	@scripts/bootstrap-os.sh

os-deps-browser:
	@scripts/bootstrap-os.sh --browser

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP)

bootstrap: os-deps venv

db-up: bootstrap
	@$(CSMAP) db up

db-down: venv
	@$(CSMAP) db down

db-status: venv
	@$(CSMAP) db status

migrate: db-up
	@$(CSMAP) db upgrade

demo-data: migrate
	@$(CSMAP) demo load --if-empty

# -- the two commands -------------------------------------------------------------------------
demo: demo-data
	@echo
	@$(CSMAP) demo logins
	@echo
	@echo "csmap demo: http://127.0.0.1:$(PORT)  (fictional town of Wrenmouth; Ctrl-C to stop)"
	@echo
	@$(CSMAP) serve --port $(PORT)

test: os-deps-browser venv db-up lint typecheck jstest pytest

# -- checks -----------------------------------------------------------------------------------
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy

# The front end's pure logic (static/js), with Node's built-in test runner: nothing to install.
jstest: os-deps-browser
	node --test --test-reporter=spec tests/js/*.test.mjs

pytest: venv
	$(PY) -m pytest

# -- other helpers ----------------------------------------------------------------------------
serve: migrate
	@$(CSMAP) serve --port $(PORT)

bench: migrate
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	$(PY) -m bench.run

# The fault drill: kill -9 of workers and of the postmaster under idempotent writers, on a
# scratch cluster; figures into bench/RESULTS.md (a short version runs in make test).
drill: db-up
	$(PY) -m bench.drill

# Load as code: locust headless against a served demo, worker classes and counts compared.
bench-load: db-up
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	$(PY) -m bench.load

# Ten million observations (an hour or so, ~15 GB while it runs); not part of `make test`.
bench-national: migrate
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	$(PY) -m bench.national

vendor:
	scripts/vendor-assets.sh

vendor-check:
	scripts/vendor-assets.sh --check

clean: db-down
	rm -rf var

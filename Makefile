# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Needs only Python 3.10-3.12 and make; everything else comes from PyPI (and, for the browser
# tests, Debian's chromium package).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
BOOT := .tools/boot
UV := $(BOOT)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# the demo: a quarter of simulated source data at a small fraction of the city's scale; the
# pipeline then runs day by day from DEMO_RUN_START (its first run loads everything delivered so
# far: the platform going live on a source that already holds the quarter). Each day is four real
# DAG runs, about a minute here: DEMO_RUN_START=2024-01-01 runs every day of the quarter (~1.5 h).
DEMO_START ?= 2024-01-01
DEMO_END ?= 2024-03-31
DEMO_RUN_START ?= 2024-03-25
DEMO_SCALE ?= 0.02
DEMO_SEED ?= 2024
DEMO_ANOMALY_RATE ?= 0.03
PYTEST_ARGS ?=

export UV_LINK_MODE := copy

.PHONY: help env demo test test-setup test-fast test-deps superset-env bi bench lint requirements warehouse-start warehouse-stop serve clean

help:
	@echo "make demo   - set up, start the embedded warehouse, simulate $(DEMO_START)..$(DEMO_END), run every pipeline from $(DEMO_RUN_START), print the summary"
	@echo "make test   - set up and run the whole test suite"
	@echo "make bench  - run every benchmark in bench/ and print one table"
	@echo "make serve  - review application on http://127.0.0.1:8000, Airflow UI on http://127.0.0.1:8080"
	@echo "make lint | make requirements | make clean"

$(UV):
	$(PYTHON) -m venv $(BOOT)
	$(BOOT)/bin/pip install --quiet "uv==$(UV_VERSION)"

# the video loader's native fast path (Rust, no dependencies) is part of the package's build:
# setuptools-rust runs the machine's cargo offline (pyproject.toml), and `uv sync` rebuilds the
# package when the crate changes (tool.uv cache-keys). Without cargo the package installs all the
# same and the loader parses in Python (same rows, more CPU per event).
NATIVE := plugins/supervision/ingest/native

# the locked environment, bytecode compiled (PYTHONDONTWRITEBYTECODE is set on these machines)
$(BIN)/supervision: $(UV) uv.lock pyproject.toml $(NATIVE)/Cargo.toml $(NATIVE)/Cargo.lock $(wildcard $(NATIVE)/src/*.rs)
	@command -v cargo >/dev/null 2>&1 || echo "cargo not found: the video loader will parse in Python (slower; same rows)"
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

env: $(BIN)/supervision

dbt_project/target/manifest.json: env
	$(BIN)/python -c "from supervision.pipeline import ensure_manifest; ensure_manifest()"

demo: env
	$(BIN)/supervision warehouse start
	$(BIN)/supervision generate --start $(DEMO_START) --end $(DEMO_END) --scale $(DEMO_SCALE) --seed $(DEMO_SEED) \
	  --anomaly-rate $(DEMO_ANOMALY_RATE) > var/generate-summary.json
	@echo "simulated $(DEMO_START)..$(DEMO_END): summary in var/generate-summary.json"
	$(BIN)/supervision run --start $(DEMO_RUN_START) --end $(DEMO_END)
	@$(BIN)/supervision summary
	@echo
	@echo "Open the UIs:   make serve   (review app http://127.0.0.1:8000 , Airflow http://127.0.0.1:8080)"
	@echo "Users:          .venv/bin/supervision users add NAME [--district 310104]"
	@echo "Stop the warehouse when done:  .venv/bin/supervision warehouse stop"

# Debian packages the tests use: chromium (real-browser tests of the review app), PostgreSQL 15
# (the oldest server we support, beside the embedded 18) and redis-server (the Celery broker of
# the CeleryExecutor test). Installed when missing and we are root; otherwise those tests skip
# and say why.
test-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) || echo "could not install$$missing: those tests will be skipped"; \
	  else echo "missing:$$missing (sudo apt-get install$$missing): those tests will be skipped"; fi; fi

# lint first (ruff, mypy, deptry); the structure checks (import cycles, module sizes) are tests/test_structure.py
# the whole suite, in two pytest processes side by side:
# - the tests that share the two simulated days (end to end, scheduler and Celery, serve:
#   tests/simulated_run.py; mostly waiting on their runs and services, in a project folder of their
#   own), then the review application's tests and the monthly report's, which use the review
#   application's fixtures (BESIDE_DAYS), so that both processes end about together;
# - all the others.
# The first one's report is printed after the second's; `make test TEST_JOBS=1` runs everything in
# one process. The Superset bundle test imports into a real Superset in its own environment.
TEST_JOBS ?= 2
BESIDE_DAYS = tests/review tests/report/test_monthly_report.py
SUPERSET_PYTHON = $$( [ -x $(SUPERSET)/bin/superset ] && echo $(CURDIR)/$(SUPERSET)/bin/python )
# the steps before the suite, side by side once the environment exists (lint is CPU, Superset's
# environment and the Debian packages mostly download and unpack), each one's output kept together
test-setup: env
	@$(MAKE) --no-print-directory -j4 --output-sync=target lint test-deps superset-env dbt_project/target/manifest.json
test: test-setup
ifeq ($(TEST_JOBS),1)
	SUPERVISION_TEST_SUPERSET_PYTHON=$(SUPERSET_PYTHON) $(BIN)/python -m pytest $(PYTEST_ARGS)
else
	@mkdir -p var; days_tmp=$$(mktemp -d /tmp/supervision-days.XXXXXX); \
	set -m; ( $(BIN)/python -m pytest -m simulated_days --basetemp=$$days_tmp/days $(PYTEST_ARGS); a=$$?; \
	  $(BIN)/python -m pytest $(BESIDE_DAYS) --basetemp=$$days_tmp/beside $(PYTEST_ARGS); b=$$?; \
	  [ $$a -eq 0 ] && [ $$b -eq 0 ] ) > var/test-simulated-days.log 2>&1 & days=$$!; set +m; \
	trap 'kill -- -'$$days' 2>/dev/null' INT TERM; \
	SUPERVISION_TEST_SUPERSET_PYTHON=$(SUPERSET_PYTHON) $(BIN)/python -m pytest -m "not simulated_days" \
	  $(addprefix --ignore=,$(BESIDE_DAYS)) $(PYTEST_ARGS); rest=$$?; \
	wait $$days; days_rc=$$?; rm -rf $$days_tmp; \
	echo; echo "=== the simulated days' tests (-m simulated_days), then $(BESIDE_DAYS), run beside the above ==="; \
	cat var/test-simulated-days.log; \
	echo "make test: the others exited $$rest, the simulated days' process $$days_rc"; [ $$rest -eq 0 ] && [ $$days_rc -eq 0 ]
endif

# the fast part (no end-to-end runs, no scheduler or Celery services, no browser): a developer's loop
# in two processes too: the gates, the simulator, the loaders and the report beside all the others
FAST_BESIDE = tests/quality tests/simulator tests/ingest tests/report
test-fast: env
ifeq ($(TEST_JOBS),1)
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)
else
	@mkdir -p var; fast_tmp=$$(mktemp -d /tmp/supervision-fast.XXXXXX); \
	set -m; ( $(BIN)/python -m pytest -m "not slow and not browser" $(FAST_BESIDE) --basetemp=$$fast_tmp/beside \
	  $(PYTEST_ARGS) ) > var/test-fast-beside.log 2>&1 & beside=$$!; set +m; \
	trap 'kill -- -'$$beside' 2>/dev/null' INT TERM; \
	$(BIN)/python -m pytest -m "not slow and not browser" $(addprefix --ignore=,$(FAST_BESIDE)) $(PYTEST_ARGS); rest=$$?; \
	wait $$beside; beside_rc=$$?; rm -rf $$fast_tmp; \
	echo; echo "=== $(FAST_BESIDE) (not slow, not browser), run beside the above ==="; cat var/test-fast-beside.log; \
	echo "make test-fast: the others exited $$rest, $(FAST_BESIDE) $$beside_rc"; [ $$rest -eq 0 ] && [ $$beside_rc -eq 0 ]
endif

# Superset's own environment (.superset/, git-ignored; its dependencies are not the platform's)
SUPERSET := .superset
superset-env: env
	@[ -x $(SUPERSET)/bin/superset ] || $(BIN)/python -c "from pathlib import Path; from supervision.bi_local import \
	  superset_python; superset_python(Path('$(SUPERSET)'), '$(UV)')" || echo "Superset not installed: its bundle test will be skipped"

# a local Superset with the supervision dashboards, connected as supervision_bi, on 127.0.0.1:8088
bi: env superset-env
	$(BIN)/python -m supervision.bi_local --uv $(UV)

bench: env
	$(BIN)/supervision bench $(if $(BENCH),--only $(BENCH))

# ruff (style, imports, bugs), mypy (types: the whole package, the public modules fully annotated),
# deptry (every import declared, nothing declared unused); configured in pyproject.toml
lint: env
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/deptry .

requirements: $(UV)
	$(UV) export --frozen --no-hashes --no-emit-project --no-dev -o requirements.txt

warehouse-start: env
	$(BIN)/supervision warehouse start

warehouse-stop: env
	$(BIN)/supervision warehouse stop

serve: env
	$(BIN)/supervision serve

clean:
	-$(BIN)/supervision warehouse stop
	rm -rf var dbt_project/target dbt_project/logs

# branchbook: the front door. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYS_STAMP := build/.system-deps
WAREHOUSE := build/demo/warehouse.duckdb
PERIOD ?=
WORKERS ?=
RUN_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup system demo test test-fast lab serve bench bench-prepare bench-postgres bench-scopes bench-binning lint format clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

system: $(SYS_STAMP) ## install missing Debian packages (CJK fonts, Pango, poppler, chromium)
$(SYS_STAMP): scripts/install-system-deps.sh
	@bash scripts/install-system-deps.sh
	@mkdir -p $(@D) && touch $@

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

setup: system $(STAMP) ## create .venv with branchbook and its dependencies

# the demo warehouse is rebuilt when its generator changed (a new contract column)
$(WAREHOUSE): lib/branchbook/demo.py | setup
	$(BIN)/branchbook demo --out $(WAREHOUSE) --force

demo: setup $(WAREHOUSE) ## build the demo warehouse and publish every report (HTML, PDF, index)
	$(BIN)/branchbook run $(if $(PERIOD),--period $(PERIOD)) $(if $(WORKERS),--workers $(WORKERS)) $(RUN_ARGS)

test: setup ## run the whole test suite (what CI runs)
	$(BIN)/python -m pytest

test-fast: setup ## the unit tests only (not those marked slow): rerun after each edit
	$(BIN)/python -m pytest -m "not slow" -q

lab: setup $(WAREHOUSE) ## prepare the latest period, then open JupyterLab on notebooks/
	$(BIN)/branchbook prepare $(if $(PERIOD),--period $(PERIOD))
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

serve: setup ## the portal on localhost:8080: reports/, each request checked against params/access.yaml
	$(BIN)/branchbook serve

bench: setup ## run the benchmark: naive vs branchbook vs floor (see benchmarks/README.md)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

bench-prepare: setup ## time and peak memory of prepare at 30, 100 and 300 branches
	$(BIN)/python benchmarks/prepare_scale.py $(BENCH_ARGS)

bench-postgres: setup ## prepare from a PostgreSQL server through a mapping against the DuckDB file, 300 branches
	$(BIN)/python benchmarks/prepare_postgres.py $(BENCH_ARGS)

bench-scopes: setup ## time and memory of the bank's reports at 300 branches, against prepare's
	$(BIN)/python benchmarks/scope_cost.py $(BENCH_ARGS)

bench-binning: setup ## our binning and IV against optbinning and toad on the German credit data (installs the `reference` extra)
	$(BIN)/python -m pip install --quiet -e '.[reference]'
	$(BIN)/python benchmarks/binning_reference.py $(BENCH_ARGS)

lint: setup ## ruff check and format check
	$(BIN)/ruff check lib tests benchmarks
	$(BIN)/ruff format --check lib tests benchmarks

format: setup ## ruff format
	$(BIN)/ruff format lib tests benchmarks

clean: ## remove build output and published reports
	rm -rf build reports/*/ reports/index.html

distclean: clean ## also remove the virtual environment
	rm -rf $(VENV)

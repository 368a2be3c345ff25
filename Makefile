# Everything runs from a virtual environment this Makefile builds from uv.lock; a fresh machine needs only
# python3 (3.11+), pip, make and git.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
SOAK_MINUTES ?= 10
STAMP := $(VENV)/.synced-$(UV_VERSION)
SOURCE_BYTECODE := $(VENV)/.source-bytecode

.PHONY: run install test test-embedded test-theatre test-services faults lint typecheck check-layout migrate seed bench bench-theatre soak clean

run: install  ## migrate, then start API + worker + scheduler on the embedded defaults
	$(BIN)/chorus migrate
	@echo ""
	@echo "  chorus API docs: http://127.0.0.1:8000/docs    mail written to var/mail/    Ctrl-C stops all"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

install: $(STAMP) $(SOURCE_BYTECODE)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# Compiled bytecode: with PYTHONDONTWRITEBYTECODE=1 (as here and in most images) an uncompiled venv recompiles every
# dependency at each process start (import chorus.api 3.7 s instead of 1.3 s).
$(STAMP): $(UV) uv.lock pyproject.toml theatre/pyproject.toml
	$(UV) sync --frozen --quiet --compile-bytecode
	touch $@

# chorus and theatre are installed editable, so uv compiles neither: their own modules too, refreshed whenever one
# changes (0.15-0.25 s off every `import chorus.api`, and so off every process and theatre probe).
# theatre's templates are data, not modules (their paths hold spaces and their text {{ placeholders }}): skipped.
$(SOURCE_BYTECODE): $(STAMP) $(shell find src theatre/src -name '*.py' -not -path 'theatre/src/theatre/templates/*')
	$(BIN)/python -m compileall -q -x 'theatre/templates/' src theatre/src
	touch $@

test: lint typecheck check-layout test-theatre test-embedded  ## lint, type check, and the whole suite on the embedded defaults

test-embedded: install
	$(BIN)/pytest

test-theatre: install  ## theatre's own suite (its fixture projects; no services)
	cd theatre && ../$(BIN)/pytest

test-services: install  ## the same suite against PostgreSQL, RabbitMQ and Redis on 127.0.0.1, and a new project's too
	CHORUS_TEST_SERVICES=1 $(BIN)/pytest
	cd theatre && THEATRE_TEST_SERVICES=1 ../$(BIN)/pytest tests/test_generated_project.py

faults: install  ## fault tests: PostgreSQL, RabbitMQ and Redis cut and partitioned through proxies the suite starts
	CHORUS_TEST_FAULTS=1 $(BIN)/pytest tests/faults

lint: install
	$(BIN)/ruff check src tests theatre bench
	$(BIN)/ruff format --check src tests theatre bench

typecheck: install
	$(BIN)/mypy
	$(BIN)/mypy bench
	cd theatre && ../$(BIN)/mypy

check-layout: install  ## the theatre layout's rules, enforced on chorus (theatre check)
	$(BIN)/theatre check chorus

migrate: install
	$(BIN)/chorus migrate

seed: install  ## a large synthetic data set for benchmarks (SEED_ARGS="--reset --users 100 ..."; see chorus seed -h)
	$(BIN)/chorus migrate
	$(BIN)/chorus seed $(SEED_ARGS)

bench: install  ## chorus against its ceilings on this machine (QUICK=1: a short run); table + bench/results/latest.json
	$(BIN)/python -m bench $(if $(QUICK),--quick)

bench-theatre: install  ## theatre's speed alone (no services): check chorus, check and map on a large generated project
	$(BIN)/python -m bench --only theatre $(if $(QUICK),--quick)

soak: install  ## a fixed-rate mix at 80% of the peak post rate, with live streams (SOAK_MINUTES=10); bench/results/soak.json
	$(BIN)/python -m bench --only soak --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache

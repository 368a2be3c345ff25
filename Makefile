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
PORT ?= 8000

.PHONY: run install client chromium test test-embedded test-theatre test-browser screenshots test-services faults lint typecheck check-layout migrate seed bench bench-theatre soak clean

run: install client  ## migrate, then start API + worker + scheduler on the embedded defaults (PORT=8000)
	$(BIN)/chorus migrate
	@echo ""
	@echo "  chorus: http://127.0.0.1:$(PORT)/    API docs: /docs    mail written to var/mail/    Ctrl-C stops all"
	@echo ""
	$(BIN)/chorus run --port $(PORT)

install: $(STAMP) $(SOURCE_BYTECODE)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# Compiled bytecode: with PYTHONDONTWRITEBYTECODE=1 (as here and in most images) an uncompiled venv recompiles every
# dependency at each process start (import chorus.api 3.7 s instead of 1.3 s).
# Debian's packages, when a command is missing (never Playwright's browser download): as root in CI, else with sudo.
# The package lists are refreshed only when an install fails without them.
APT_INSTALL = $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y
APT_UPDATE = $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get update
CHROMIUM := /usr/bin/chromium

chromium: $(CHROMIUM)  ## Debian's Chromium, which the browser tests drive

$(CHROMIUM):
	$(APT_INSTALL) chromium || ($(APT_UPDATE) && $(APT_INSTALL) chromium)

# The web client (client/, TypeScript built by Vite into what api:app serves at /), rebuilt when its sources or its
# lock change; the built index.html is the stamp. Nothing to build while there is no client/.
CLIENT_BUILT := src/chorus/client/built/index.html
CLIENT_SOURCES := $(wildcard client/package.json client/package-lock.json client/tsconfig.json client/vite.config.ts \
	client/index.html) $(shell find client/src client/public -type f 2>/dev/null)

client: $(if $(wildcard client/package.json),$(CLIENT_BUILT))  ## build the web client (npm ci, vite); Debian's npm if missing

$(CLIENT_BUILT): $(CLIENT_SOURCES)
	@command -v npm >/dev/null || $(APT_INSTALL) nodejs npm || ($(APT_UPDATE) && $(APT_INSTALL) nodejs npm)
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a == 20 && b >= 19) ? 0 : 1)' \
		|| { echo "make client: Vite 7 needs Node.js 20.19 or newer; this is $$(node --version)" >&2; exit 1; }
	cd client && npm ci && npm run build
	touch $@

$(STAMP): $(UV) uv.lock pyproject.toml theatre/pyproject.toml
	$(UV) sync --frozen --quiet --compile-bytecode
	touch $@

# chorus and theatre are installed editable, so uv compiles neither: their own modules too, refreshed whenever one
# changes (0.15-0.25 s off every `import chorus.api`, and so off every process and theatre probe).
# theatre's templates are data, not modules (their paths hold spaces and their text {{ placeholders }}): skipped.
$(SOURCE_BYTECODE): $(STAMP) $(shell find src theatre/src -name '*.py' -not -path 'theatre/src/theatre/templates/*')
	$(BIN)/python -m compileall -q -x 'theatre/templates/' src theatre/src
	touch $@

test: lint typecheck check-layout test-theatre test-embedded test-browser  ## lint, type check, the whole suite and the browser tests on the embedded defaults

test-embedded: install
	$(BIN)/pytest

test-browser: install chromium client  ## the web client in headless Chromium against `chorus run` (tests/browser)
	$(BIN)/pytest tests/browser

screenshots: install chromium client  ## the browser tests, keeping their screenshots in docs/screenshots/ (for the README)
	CHORUS_SCREENSHOTS=1 $(BIN)/pytest tests/browser

test-theatre: install  ## theatre's own suite (its fixture projects; no services)
	cd theatre && ../$(BIN)/pytest

test-services: install chromium client  ## the same suites (browser too) against PostgreSQL, RabbitMQ and Redis on 127.0.0.1, and a new project's
	CHORUS_TEST_SERVICES=1 $(BIN)/pytest
	CHORUS_TEST_SERVICES=1 $(BIN)/pytest tests/browser
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

soak: install  ## a fixed-rate mix at half the peak post rate, with live streams (SOAK_MINUTES=10); bench/results/soak.json
	$(BIN)/python -m bench --only soak --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache

# Polisregister — every command a developer, a newcomer or CI needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STAGE ?= prod
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed
TOOLS_REQUIREMENTS := "cfn-lint>=1.20,<2" "checkov>=3.2,<4"
AWS_PORT ?= 4566
API_PORT ?= 8000
export AWS_PORT API_PORT

.PHONY: install lint format typecheck test test-unit test-integration test-e2e run token mails bench bench-check-parts bench-storm bench-recognition bench-identity bench-year bench-console screenshots package clean openapi fuzz

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip<26.3'  # chalice 1.34 requires pip<26.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy app.py chalicelib scripts

test: lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadfile tests

test-unit: install
	$(BIN)/python -m pytest -m unit tests/unit

test-integration: install
	$(BIN)/python -m pytest -m integration tests/integration

test-e2e: install
	$(BIN)/python -m pytest -m e2e tests/e2e

run: install
	$(BIN)/python -m scripts.run_local

token: install
	@$(BIN)/python -m scripts.token --role "$(ROLE)" $(if $(PARTNER),--partner "$(PARTNER)",)

mails: install
	@$(BIN)/python -m scripts.mails

openapi: install
	$(BIN)/python -m scripts.openapi

# The contract fuzz alone, longer: EXAMPLES generated requests per operation (make test runs 30).
EXAMPLES ?= 500
fuzz: install
	FUZZ_EXAMPLES=$(EXAMPLES) $(BIN)/python -m pytest -p no:xdist -q tests/e2e/test_contract_fuzz.py

bench: install
	$(BIN)/python -m bench.run
	$(MAKE) bench-storm
	$(MAKE) bench-year

# A year of monthly unchanged deliveries: write units per row, the retention checked (docs/benchmarks.md).
bench-year: install
	$(BIN)/python -m bench.retention_year $(YEAR_ARGS)

# Where a check-only delivery's time goes against (b), each part timed in place (docs/benchmarks.md).
CHECK_PARTS_ROWS ?= 100000
CHECK_PARTS_RUNS ?= 5
bench-check-parts: install
	$(BIN)/python -m bench.check_parts --rows $(CHECK_PARTS_ROWS) --runs $(CHECK_PARTS_RUNS)

# The month-start storm (docs/benchmarks.md): serial design vs partners in parallel, same backend.
bench-storm: install
	$(BIN)/python -m bench.storm $(STORM_ARGS)

# Recognition quality and lookup latency on a noisy multi-partner portfolio (docs/benchmarks.md):
# PERSONS through the real ingest, CLIENTS in the register (0: the portfolio alone).
bench-recognition: install
	$(BIN)/python -m bench.recognition

# Identity resolution's write units per new row with the identity buckets at the density of a
# register of IDENTITY_CLIENTS clients (docs/benchmarks.md, "Identity writes at register density").
IDENTITY_CLIENTS ?= 1000000
bench-identity: install
	$(BIN)/python -m bench.identity_writes --clients $(IDENTITY_CLIENTS)

# The console: Enter in the search box -> first candidate on screen, p50/p95 over SEARCHES
# searches in Chromium against a local run of its own (docs/console.md).
SEARCHES ?= 50
bench-console: install
	$(BIN)/python -m bench.console_search --searches $(SEARCHES)

# The console's main screens at 1280x720 into docs/screenshots/ (shown in the README).
screenshots: install
	$(BIN)/python -m scripts.screenshots

package: install
	@# cfn-lint and checkov live in their own venv: checkov pins libraries the app's venv also uses.
	test -f $(TOOLS_STAMP) || { $(PYTHON) -m venv $(TOOLS_VENV) \
		&& $(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip \
		&& $(TOOLS_VENV)/bin/python -m pip install --quiet $(TOOLS_REQUIREMENTS) \
		&& touch $(TOOLS_STAMP); }
	$(BIN)/python -m scripts.package --stage $(STAGE)

clean:
	rm -rf $(VENV) .venv-tools .run build .mypy_cache .ruff_cache .pytest_cache

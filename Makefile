# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_VERSION := 26.3

.PHONY: install browser run test lint bench fault-suite constraints clean

install: $(STAMP)

# Re-installs only when the pinned set or the package metadata changes.
$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## The browser tests' chromium: Debian's package (Playwright's own download cannot reach the
## internet here). Installed only when missing; without root or apt the browser tests skip.
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium is not installed (apt-get install chromium): the browser tests will skip"

## Simulator + Airflow standalone + demo accounts; prints the URL and login. Ctrl-C stops it all.
run: install
	$(BIN)/exchange-sync demo

## The whole suite (PostgreSQL tests run when EXCHANGE_SYNC_TEST_PG_URL is set, as .ci/run does).
test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

## Benchmarks: DAG parse time, and import overhead against bare ccxt loops (as shipped: ccxt's
## rate limiter on; with 30 ms network latency and no limiter; on bare loopback, the worst case);
## a Kraken import's requests and wall time against what Kraken's page sizes and call counter allow;
## every exchange's first import against the fewest requests its page sizes allow; peak memory of
## 10k, 100k and 1M-trade imports (flat in history size); a recovery's backfill of a 30-day gap
## against the least weight Binance allows and its time at 6,000/min; concurrent imports of one
## exchange's accounts against the time their weight takes at the shared per-IP budget.
bench: install
	$(BIN)/python bench/parse_dags.py
	$(BIN)/python bench/parse_dags.py --accounts 1000 --repeat 1
	$(BIN)/python bench/requests_vs_minimum.py
	$(BIN)/python bench/idle_accounts.py
	$(BIN)/python bench/import_vs_ccxt.py
	$(BIN)/python bench/import_vs_ccxt.py --no-throttle --latency-ms 30
	$(BIN)/python bench/import_vs_ccxt.py --no-throttle --rounds 5
	$(BIN)/python bench/kraken_pacing.py
	$(BIN)/python bench/memory_vs_history.py
	$(BIN)/python bench/backfill_vs_minimum.py
	$(BIN)/python bench/concurrent_imports.py
	$(BIN)/python bench/status_reconcile.py

## The randomized fault suite, long: 200 seeded scenarios per warehouse (CI runs 8 of each).
## FAULT_SEED picks another world of faults; PostgreSQL runs when EXCHANGE_SYNC_TEST_PG_URL is set.
FAULT_SCENARIOS ?= 200
FAULT_SEED ?= 20261201
fault-suite: install
	EXCHANGE_SYNC_FAULT_SCENARIOS=$(FAULT_SCENARIOS) EXCHANGE_SYNC_FAULT_SEED=$(FAULT_SEED) \
		$(BIN)/python -m pytest tests/importer/test_fault_suite.py -p no:logging -q --timeout 0

## Re-freeze constraints.txt from a clean virtualenv holding only requirements.txt.
constraints:
	rm -rf /tmp/exchange-sync-freeze && $(PYTHON) -m venv /tmp/exchange-sync-freeze
	/tmp/exchange-sync-freeze/bin/pip install --quiet pip==$(PIP_VERSION)
	/tmp/exchange-sync-freeze/bin/pip install --quiet -r requirements.txt
	(echo "# Full pinned install set for Python 3.11 (pip freeze of a clean install of requirements.txt)."; \
	 echo "# Regenerate with: make constraints"; \
	 /tmp/exchange-sync-freeze/bin/pip freeze --all | grep -v "^pip==") > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

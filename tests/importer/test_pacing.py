"""Pacing by Kraken's call counter, with the simulator enforcing it (the rest of the suite runs
with rate limits and pacing off). Timing is the benchmark's business (bench/kraken_pacing.py);
this proves the behaviour: paced, an import needing more than the counter's burst completes; not
paced, the same import is refused."""

from __future__ import annotations

import pytest

from exchange_sync.hooks.ccxt import CLIENT_PACING_ENV
from exchange_sync.importer.run import AccountImportError, run_account_import
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.importer.conftest import account_config

# Six ledger pages and three of trades at +2 each, and four other calls: past the counter's 15.
BEYOND_THE_BURST = {"trades": 120, "symbols": 2, "deposits": 10, "withdrawals": 6, "days": 200}


@pytest.fixture
def counted(simulator):
    simulator.set_ratelimit(enabled=True)
    yield
    simulator.set_ratelimit(enabled=False)


@pytest.mark.parametrize("exchange", ["kraken"])
def test_a_paced_import_never_trips_the_counter(make_sim_account, connect, sqlite_url, counted, monkeypatch):
    from exchange_sync.warehouse import Warehouse

    unpaced = make_sim_account(**BEYOND_THE_BURST)
    connect(f"conn_{unpaced.id}", unpaced.id)
    with Warehouse.open(sqlite_url) as warehouse:
        with pytest.raises(AccountImportError, match="Rate limit exceeded"):
            run_account_import(account_config(unpaced.id, "kraken"), warehouse)

        monkeypatch.setenv(CLIENT_PACING_ENV, "on")
        paced = make_sim_account(**BEYOND_THE_BURST)
        connect(f"conn_{paced.id}", paced.id)
        report = run_account_import(account_config(paced.id, "kraken"), warehouse)
        assert report["streams"]["ledger"]["requests"] >= 6
        assert_warehouse_matches(warehouse, paced.id, paced.history())

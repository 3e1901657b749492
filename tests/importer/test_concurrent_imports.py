"""Imports of two accounts of one exchange at the same time (two Celery workers, each its own
process and client) share the exchange's one per-IP budget (hooks/shared.py), so together they go
no faster than one import alone and never draw a 429.

Only exchanges whose private endpoints count against a per-IP budget are tested: Binance (api/v3
REQUEST_WEIGHT, 6,000 a minute per IP). Kraken's counter is per API key, OKX's private limits are
per account (UID) and Coinbase's per key: only their market lists count per IP, and those are
downloaded once and shared (tests/recovery/test_backfill_client.py)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from exchange_sync.hooks.ccxt import CLIENT_PACING_ENV
from exchange_sync.hooks.shared import BUDGET_AHEAD_SECONDS
from exchange_sync.importer.run import run_account_import
from exchange_sync.sim_client import ip_weight
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.importer.conftest import account_config

PER_IP = ["binance"]
SPEC = {"trades": 600, "symbols": 12, "deposits": 10, "withdrawals": 6, "days": 60}
# From the history's start: one 90-day window of withdraw/history each, whose UID weight (18,000
# of 180,000 a minute per account) is the account's own limit, not the IP's.
HISTORY_START = datetime.now(UTC) - timedelta(days=61)
WEIGHT_PER_MINUTE = 6000


@pytest.fixture
def limited(simulator, monkeypatch):
    """The simulator's limits on, and the client paced as shipped."""
    monkeypatch.setenv(CLIENT_PACING_ENV, "on")
    simulator.set_ratelimit(enabled=True, weight_per_minute=WEIGHT_PER_MINUTE)
    yield
    simulator.set_ratelimit(enabled=False, weight_per_minute=6000)


@pytest.mark.parametrize("exchange", PER_IP)
def test_two_concurrent_imports_share_one_budget(
    make_sim_account, connect, warehouse_url, simulator, limited, exchange
):
    from exchange_sync.warehouse import Warehouse

    accounts = [make_sim_account(exchange, **SPEC) for _ in range(2)]
    for account in accounts:
        connect(f"conn_{account.id}", account.id, exchange=exchange)
    Warehouse.open(warehouse_url).close()  # migrated once, as the deployment does before the workers
    errors: list[BaseException] = []

    def import_one(account_id: str) -> None:
        try:
            with Warehouse.open(warehouse_url) as warehouse:  # each worker its own engine and client
                run_account_import(
                    account_config(account_id, exchange, history_start=HISTORY_START), warehouse
                )
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)

    seq = simulator.last_seq()
    began = time.monotonic()
    threads = [threading.Thread(target=import_one, args=(a.id,)) for a in accounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    assert not errors, errors

    made = simulator.requests_since(seq)["requests"]
    assert [r for r in made if r["status"] in (418, 429)] == []
    with Warehouse.open(warehouse_url) as warehouse:
        for account in accounts:
            assert_warehouse_matches(warehouse, account.id, account.history())
    # Both ran at once: each one's requests fall between the other's first and last.
    order = [r["account"] for r in made if r["account"] in {a.id for a in accounts}]
    for a, b in (accounts, accounts[::-1]):
        first, last = order.index(a.id), len(order) - 1 - order[::-1].index(a.id)
        assert b.id in order[first:last]
    # Together no faster than one budget: unshared, each spends a whole one (about half this).
    costs = simulator.exchanges()[exchange]["costs"]
    weight = sum(ip_weight(costs, exchange, r["path"]) for r in made)
    assert wall >= weight / (WEIGHT_PER_MINUTE / 60) - BUDGET_AHEAD_SECONDS - 0.5

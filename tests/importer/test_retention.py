"""History the exchange's API forgets (OKX serves fills and bills of the last 3 months only): the
importer never asks for it, and says what it could not import and where to get it instead."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from exchange_sync.importer.run import run_account_import
from exchange_sync.profiles import get_profile
from exchange_sync.warehouse.schema import ledger, trades
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.fixtures.simulator import RETENTION_EXCHANGES
from tests.importer.conftest import account_config

DAY_MS = 86_400_000


@pytest.mark.parametrize("exchange", RETENTION_EXCHANGES)
def test_first_import_skips_what_the_api_forgot_and_says_so(
    make_sim_account, connect, warehouse, simulator, exchange, caplog
):
    account = make_sim_account(trades=300, symbols=3, deposits=10, withdrawals=5, days=300)
    connect(f"conn_{account.id}", account.id)
    retention = simulator.exchanges()[exchange]["retention_days"]
    seq = simulator.last_seq()
    with caplog.at_level(logging.WARNING, logger="exchange_sync"):
        report = run_account_import(account_config(account.id, exchange), warehouse)
    history = account.history()
    now = datetime.now(UTC)

    # What the API serves is imported exactly; nothing older is stored, or asked for.
    assert_warehouse_matches(warehouse, account.id, history)
    for stream, table, column in (("trades", trades, "traded_at"), ("ledger", ledger, "occurred_at")):
        if stream not in retention:
            continue
        kept = timedelta(days=retention[stream])
        assert get_profile(exchange).retention(stream) == kept, "the profile states the API's window"
        older = [t for t in history[stream] if t["timestamp"] < (now - kept).timestamp() * 1000]
        assert older, "the account has history beyond the window (else this test proves nothing)"
        stored = warehouse.rows(table, account.id)
        assert stored and min(r[column] for r in stored) >= now - kept - timedelta(minutes=5)
        # The report and the log say which period could not be imported and point to the CSV.
        start, end = (datetime.fromisoformat(v) for v in report["unreachable"][stream])
        assert start <= datetime.fromtimestamp(older[0]["timestamp"] / 1000, UTC)
        assert now - kept < end < now - kept + timedelta(hours=2)
        warning = next(r.getMessage() for r in caplog.records if f" {stream}: " in r.getMessage())
        assert "no longer serves" in warning and "CSV export" in warning
    refused = [
        r for r in simulator.requests_since(seq)["requests"] if r["account"] == account.id and r["refused"]
    ]
    assert refused == []


@pytest.mark.parametrize("exchange", RETENTION_EXCHANGES)
def test_later_runs_do_not_repeat_the_warning_once_history_is_inside_the_window(
    make_sim_account, connect, warehouse, simulator, exchange
):
    account = make_sim_account(trades=200, symbols=2, deposits=6, withdrawals=3, days=300)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id, exchange)
    assert run_account_import(config, warehouse)["unreachable"]
    simulator.add_activity(account.id, trades=4)
    second = run_account_import(config, warehouse)
    assert second["unreachable"] == {}
    assert_warehouse_matches(warehouse, account.id, account.history())

"""The importer against the simulator over real HTTP, with ccxt's real binance class."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from textwrap import dedent

import pytest

from exchange_sync.importer.run import run_account_import
from exchange_sync.warehouse import Warehouse
from exchange_sync.warehouse.schema import trades
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.importer.conftest import HISTORY_START, account_config, requests_of


def test_first_import_equals_ground_truth(sim_account, warehouse):
    report = run_account_import(account_config(sim_account.id), warehouse)
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())
    history = sim_account.history()
    assert report["streams"]["trades"]["rows"] == len(history["trades"])
    assert report["streams"]["deposits"]["rows"] == len(history["deposits"])
    assert warehouse.account_sync(sim_account.id)["last_error"] is None


def test_second_run_fetches_only_new_activity(sim_account, warehouse, simulator):
    account = account_config(sim_account.id)
    first = run_account_import(account, warehouse)
    simulator.add_activity(sim_account.id, trades=7, deposits=2, withdrawals=1)
    seq = simulator.last_seq()
    second = run_account_import(account, warehouse)

    made = requests_of(simulator, sim_account.id, seq)
    paths = [r["path"].split("?")[0] for r in made]
    # One balance read, then one request per transfer stream (the new window is far below 90 days
    # and one page), and one myTrades per candidate symbol (each holds < 1,000 new trades).
    assert paths.count("/binance/api/v3/account") == 1
    assert paths.count("/binance/sapi/v1/capital/deposit/hisrec") == 1
    assert paths.count("/binance/sapi/v1/capital/withdraw/history") == 1
    assert paths.count("/binance/api/v3/myTrades") == first["symbols_queried"] == second["symbols_queried"]
    assert second["streams"]["trades"]["rows"] == 7
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())


def test_symbol_discovery_queries_few_symbols_yet_finds_every_traded_one(sim_account, warehouse, simulator):
    seq = simulator.last_seq()
    report = run_account_import(account_config(sim_account.id), warehouse)
    history = sim_account.history()
    made = requests_of(simulator, sim_account.id, seq)
    # Every symbol here holds < 1,000 trades: one myTrades request per candidate symbol.
    my_trades = [r for r in made if r["path"] == "/binance/api/v3/myTrades"]
    markets = simulator.request("GET", "/binance/api/v3/exchangeInfo")["symbols"]
    # The rule, computed independently from ground truth: spot pairs of assets the account holds
    # or has moved in or out.
    assets = set(history["balances"]) | {t["currency"] for t in history["deposits"] + history["withdrawals"]}
    pairs = {m["symbol"] for m in markets if m["baseAsset"] in assets and m["quoteAsset"] in assets}
    assert len(markets) >= 1500
    assert report["symbols_queried"] == len(pairs) == len(my_trades) < len(markets) / 20
    assert {t["market_id"] for t in history["trades"]} <= pairs
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())


def test_history_start_bounds_what_is_stored(sim_account, warehouse):
    start = datetime.now(UTC) - timedelta(days=120)
    run_account_import(account_config(sim_account.id, history_start=start), warehouse)
    since_ms = int(start.timestamp() * 1000)
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history(), since_ms=since_ms)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "drop", "path_contains": "myTrades"},
        {"kind": "truncate", "path_contains": "myTrades"},
        {"kind": "http_5xx", "status": 503, "path_contains": "withdraw/history"},
    ],
    ids=["dropped-connection", "truncated-body", "5xx"],
)
def test_failed_run_resumes_without_loss_or_duplicates(
    make_sim_account, connect, warehouse, simulator, fault
):
    account_sim = make_sim_account(trades=2500, symbols=3)
    connect(f"conn_{account_sim.id}", account_sim.id)
    account = account_config(account_sim.id)
    # Let some pages through first, so the failure lands mid-pagination.
    simulator.add_fault(
        "latency", latency_ms=1, count=2, path_contains=fault["path_contains"], account=account_sim.id
    )
    simulator.add_fault(**fault, count=1, account=account_sim.id)
    with pytest.raises(Exception):  # noqa: B017 -- ccxt raises NetworkError / ExchangeNotAvailable subclasses
        run_account_import(account, warehouse)
    assert warehouse.account_sync(account_sim.id)["last_error"]
    run_account_import(account, warehouse)
    assert_warehouse_matches(warehouse, account_sim.id, account_sim.history())


def test_run_killed_mid_import_resumes_without_gaps_or_duplicates(
    make_sim_account, simulator, tmp_path, warehouse_url
):
    """SIGKILL the `exchange-sync import` process between pages, then run it again."""
    from tests.fixtures.simulator import ccxt_connection_env

    account_sim = make_sim_account(trades=6000, symbols=4)
    registry = tmp_path / "accounts.yaml"
    registry.write_text(
        dedent(
            f"""
            defaults: {{history_start: {HISTORY_START.date()}}}
            accounts: [{{id: {account_sim.id}, exchange: binance, conn_id: kill_conn}}]
            """
        )
    )
    conn_var, conn_value = ccxt_connection_env("kill_conn", simulator, account_sim.id)
    env = {**os.environ, conn_var: conn_value, "EXCHANGE_SYNC_WAREHOUSE_URL": warehouse_url}
    argv = [sys.executable, "-m", "exchange_sync.cli", "import", account_sim.id, "--registry", str(registry)]
    simulator.add_fault(
        "latency", latency_ms=400, count=1000, path_contains="myTrades", account=account_sim.id
    )

    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    warehouse = Warehouse.open(warehouse_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(warehouse.rows(trades, account_sim.id)) < 1000:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(warehouse.rows(trades, account_sim.id))
    assert 1000 <= partial < 6000, "the kill should land mid-import"

    simulator.clear_faults()
    assert subprocess.run(argv, env=env, capture_output=True).returncode == 0
    assert_warehouse_matches(warehouse, account_sim.id, account_sim.history())
    warehouse.close()

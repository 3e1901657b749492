"""The importer against the simulator over real HTTP, with ccxt's real exchange classes: every
scenario that proves an exchange runs for each supported one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from textwrap import dedent

import pytest

from exchange_sync.importer.run import AccountImportError, run_account_import
from exchange_sync.warehouse import Warehouse
from exchange_sync.warehouse.schema import trades, transfers
from tests.fixtures.ground_truth import assert_warehouse_matches, served_since
from tests.fixtures.simulator import ENDPOINTS, every_exchange
from tests.importer.conftest import HISTORY_START, account_config, requests_of


@every_exchange
def test_first_import_equals_ground_truth(sim_account, warehouse, exchange):
    report = run_account_import(account_config(sim_account.id, exchange), warehouse)
    history = sim_account.history()
    assert_warehouse_matches(warehouse, sim_account.id, history)
    served = [t for t in history["trades"] if t["timestamp"] >= served_since(history, "trades")]
    assert report["streams"]["trades"]["rows"] == len(served)
    assert len([r for r in warehouse.rows(transfers, sim_account.id) if r["kind"] == "withdrawal"]) >= 1
    assert warehouse.account_sync(sim_account.id)["last_error"] is None


@every_exchange
def test_second_run_fetches_only_new_activity(sim_account, warehouse, simulator, exchange):
    account = account_config(sim_account.id, exchange)
    first = run_account_import(account, warehouse)
    trades_before = len(warehouse.rows(trades, sim_account.id))
    simulator.add_activity(sim_account.id, trades=7, deposits=2, withdrawals=1)
    seq = simulator.last_seq()
    second = run_account_import(account, warehouse)
    made = Counter(r["path"].split("?")[0] for r in requests_of(simulator, sim_account.id, seq))
    seq = simulator.last_seq()
    run_account_import(account, warehouse)
    idle = Counter(r["path"].split("?")[0] for r in requests_of(simulator, sim_account.id, seq))

    # The new activity is far below one page and one window of every stream: the run costs what
    # a run with nothing new costs, each list asked once (per candidate symbol where the exchange
    # needs one, Binance myTrades; per currency account, Coinbase).
    assert made == idle
    per_symbol = {path: n for path, n in made.items() if n > 1 and path.endswith(ENDPOINTS[exchange].trades)}
    assert all(n == second["symbols_queried"] == first["symbols_queried"] for n in per_symbol.values())
    # (Exchanges that re-read the last day of trades upsert them: no new rows.)
    assert len(warehouse.rows(trades, sim_account.id)) - trades_before == 7
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())


@every_exchange
def test_a_status_that_changes_a_week_later_reaches_the_warehouse(
    sim_account, warehouse, simulator, exchange
):
    """Pending transfers of the first import (8+ days old) settle later: the next run stores the
    final status (Binance's look-back is a day, so only re-reading pending ones finds it)."""
    account = account_config(sim_account.id, exchange)
    run_account_import(account, warehouse)
    history = sim_account.history()
    pending = [
        (kind, t) for kind in ("deposits", "withdrawals") for t in history[kind] if t["status"] == "pending"
    ]
    # Coinbase shows a deposit only once credited: its pending ones are not on the API yet.
    unlisted = [(kind, t) for kind, shown in history["unlisted"].items() for t in shown]
    assert {kind for kind, _ in pending + unlisted} == {"deposits", "withdrawals"}, pending
    assert all(t["timestamp"] < (time.time() - 7 * 86_400) * 1000 for _, t in pending + unlisted)
    stored = {(r["kind"], r["transfer_id"]): r["status"] for r in warehouse.rows(transfers, sim_account.id)}
    assert all(stored[(kind[:-1], t["id"])] == "pending" for kind, t in pending)
    outcomes = {"deposits": "ok", "withdrawals": "canceled"}
    for kind, transfer in pending + unlisted:
        simulator.settle_transfer(sim_account.id, transfer["id"], outcomes[kind])
    run_account_import(account, warehouse)
    settled = sim_account.history()
    assert_warehouse_matches(warehouse, sim_account.id, settled)
    stored = {(r["kind"], r["transfer_id"]): r["status"] for r in warehouse.rows(transfers, sim_account.id)}
    assert all(stored[(kind[:-1], t["id"])] != "pending" for kind, t in pending)


def test_symbol_discovery_queries_few_symbols_yet_finds_every_traded_one(sim_account, warehouse, simulator):
    """Binance's myTrades needs a symbol; Kraken's TradesHistory answers for all pairs at once."""
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


@every_exchange
def test_history_start_bounds_what_is_stored(sim_account, warehouse, exchange):
    start = datetime.now(UTC) - timedelta(days=120)
    run_account_import(account_config(sim_account.id, exchange, history_start=start), warehouse)
    since_ms = int(start.timestamp() * 1000)
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history(), since_ms=since_ms)


# Enough trades that a fault after two pages of trades lands mid-pagination (the import after the
# fault is the test's time): OKX serves ~450 of 1,500 (3 months of 300 days) in 5 pages of 100,
# Coinbase 6 pages of 250, Kraken 30 of 50. Binance pages 1,000 trades per symbol: it keeps the
# 2,500 it always had, so fewer trades never move its fault from inside a symbol's pages to between
# symbols. A fault that did not fire fails the test (pytest.raises, `fired == 1`).
MID_PAGINATION_TRADES = {"binance": 2500}
MID_PAGINATION_DEFAULT = 1500


@every_exchange
@pytest.mark.parametrize(
    "fault",
    [{"kind": "drop"}, {"kind": "truncate"}, {"kind": "http_5xx", "status": 503}],
    ids=["dropped-connection", "truncated-body", "5xx"],
)
def test_failed_run_resumes_without_loss_or_duplicates(
    make_sim_account, connect, warehouse, simulator, fault, exchange
):
    account_sim = make_sim_account(
        trades=MID_PAGINATION_TRADES.get(exchange, MID_PAGINATION_DEFAULT), symbols=3
    )
    connect(f"conn_{account_sim.id}", account_sim.id)
    account = account_config(account_sim.id, exchange)
    # Let some pages through first, so the failure lands mid-pagination.
    path = ENDPOINTS[exchange].trades
    simulator.add_fault(**fault, path_contains=path, count=1, skip=2, account=account_sim.id)
    with pytest.raises(Exception):  # noqa: B017 -- ccxt raises NetworkError / ExchangeNotAvailable subclasses
        run_account_import(account, warehouse)
    assert warehouse.account_sync(account_sim.id)["last_error"]
    run_account_import(account, warehouse)
    assert_warehouse_matches(warehouse, account_sim.id, account_sim.history())


@every_exchange
def test_entries_recorded_late_while_a_window_was_unfinished_are_imported(
    make_sim_account, connect, warehouse, simulator, exchange
):
    """A run fails in the middle of a window; meanwhile the exchange records entries dated a
    moment ago, i.e. inside that window, above the pages already read (the simulator stamps new
    activity up to ~2 s in the past). The next run finishes the window and then re-reads the
    look-back from its end, as any run does, so they are not skipped."""
    account_sim = make_sim_account(
        trades=MID_PAGINATION_TRADES.get(exchange, MID_PAGINATION_DEFAULT), symbols=3
    )
    connect(f"conn_{account_sim.id}", account_sim.id)
    account = account_config(account_sim.id, exchange)
    fault = simulator.add_fault(
        "http_5xx",
        status=503,
        path_contains=ENDPOINTS[exchange].trades,
        count=1,
        skip=2,
        account=account_sim.id,
    )
    with pytest.raises(AccountImportError):
        run_account_import(account, warehouse)
    simulator.add_activity(account_sim.id, trades=3)
    assert simulator.request("GET", "/_sim/faults")["faults"][-1]["fired"] == 1, fault
    run_account_import(account, warehouse)
    assert_warehouse_matches(warehouse, account_sim.id, account_sim.history())


# Trades stored before the kill: a Binance page (1,000), or pages of the others (50-250 a page).
KILL_AFTER = 500


@every_exchange
def test_run_killed_mid_import_resumes_without_gaps_or_duplicates(
    make_sim_account, simulator, tmp_path, warehouse_url, exchange
):
    """SIGKILL the `exchange-sync import` process between pages, then run it again."""
    from tests.fixtures.simulator import ccxt_connection_env

    # 3,000 trades (was 6,000: the resumed run's time is the test's time): still several pages of
    # every exchange's trades (Binance: its most traded symbol ~1,800, so the kill lands mid-symbol;
    # OKX: ~900 inside its 3-month retention), and the kill still lands after KILL_AFTER rows.
    account_sim = make_sim_account(trades=3000, symbols=4)
    registry = tmp_path / "accounts.yaml"
    registry.write_text(
        dedent(
            f"""
            defaults: {{history_start: {HISTORY_START.date()}}}
            accounts: [{{id: {account_sim.id}, exchange: {exchange}, conn_id: kill_conn}}]
            """
        )
    )
    conn_var, conn_value = ccxt_connection_env("kill_conn", simulator, account_sim.id, exchange)
    env = {**os.environ, conn_var: conn_value, "EXCHANGE_SYNC_WAREHOUSE_URL": warehouse_url}
    argv = [sys.executable, "-m", "exchange_sync.cli", "import", account_sim.id, "--registry", str(registry)]
    simulator.add_fault(
        "latency",
        latency_ms=400,
        count=1000,
        path_contains=ENDPOINTS[exchange].trades,
        account=account_sim.id,
    )

    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    warehouse = Warehouse.open(warehouse_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(warehouse.rows(trades, account_sim.id)) < KILL_AFTER:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(warehouse.rows(trades, account_sim.id))
    history = account_sim.history()
    served = [t for t in history["trades"] if t["timestamp"] >= served_since(history, "trades")]
    assert KILL_AFTER <= partial < len(served), "the kill should land mid-import"

    simulator.clear_faults()
    assert subprocess.run(argv, env=env, capture_output=True).returncode == 0
    assert_warehouse_matches(warehouse, account_sim.id, account_sim.history())
    warehouse.close()

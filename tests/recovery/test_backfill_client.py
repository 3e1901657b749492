"""One client per backfill: the chunks of a backfill (each its own task process in the recovery DAG)
share one market list and one request budget through the warehouse (hooks/shared.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from exchange_sync.hooks.shared import MARKETS_TTL
from exchange_sync.recovery.backfill import (
    backfill_client,
    backfill_stream,
    coverage_gaps,
    first_wave,
    plan_trade_chunks,
    prime_markets,
)
from tests.fixtures.concurrency import at_once
from tests.fixtures.simulator import EXCHANGES
from tests.importer.conftest import account_config

# The requests one load_markets makes (the exchange's market-list endpoints, with how many of each).
MARKET_LIST = {
    "binance": {"/binance/api/v3/exchangeInfo": 1},
    "kraken": {"/kraken/0/public/AssetPairs": 1, "/kraken/0/public/Assets": 1},
    "okx": {"/okx/api/v5/public/instruments": 1},
    "coinbase": {"/coinbase/api/v3/brokerage/market/products": 2},
}
GAP = {"trades": 200, "symbols": 3, "deposits": 10, "withdrawals": 6, "days": 30}


def market_list_requests(simulator, exchange: str, since: int) -> dict[str, int]:
    counts = dict.fromkeys(MARKET_LIST[exchange], 0)
    for r in simulator.requests_since(since)["requests"]:
        path = r["path"].split("?")[0]
        if path in counts:
            counts[path] += 1
    return counts


def backfill(account, warehouse) -> int:
    """The recovery DAG's backfill without Airflow: prime, the first wave, the trade chunks."""
    started = datetime.now(UTC)
    prime_markets(account, warehouse)
    rows = sum(backfill_stream(account, chunk, warehouse) for chunk in first_wave(account))
    trade_chunks = plan_trade_chunks(account, warehouse, started)
    return rows + sum(backfill_stream(account, chunk, warehouse) for chunk in trade_chunks)


@pytest.fixture
def gap_account(make_sim_account, connect):
    def make(exchange: str):
        sim = make_sim_account(exchange, **GAP)
        connect(f"conn_{sim.id}", sim.id, exchange=exchange)
        return sim, account_config(sim.id, exchange, history_start=datetime.now(UTC) - timedelta(days=31))

    return make


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_a_backfill_of_many_chunks_downloads_the_market_list_once(
    gap_account, warehouse, simulator, exchange
):
    _sim, account = gap_account(exchange)
    started = datetime.now(UTC)
    seq = simulator.last_seq()
    rows = backfill(account, warehouse)
    chunks = len(first_wave(account)) + len(plan_trade_chunks(account, warehouse))
    assert chunks >= 1 and rows > 0
    # Before: every chunk (and the trade planner) downloaded it again, e.g. 5 times on Binance.
    assert market_list_requests(simulator, exchange, seq) == MARKET_LIST[exchange]
    assert coverage_gaps(account, started, warehouse) == []


def test_the_trade_planner_reads_the_balance_the_first_wave_stored(gap_account, warehouse, simulator):
    _sim, account = gap_account("binance")
    seq = simulator.last_seq()
    backfill(account, warehouse)
    balances = [
        r for r in simulator.requests_since(seq)["requests"] if r["path"] == "/binance/api/v3/account"
    ]
    assert len(balances) == 1
    # Without a balance stored since the backfill began, the planner reads one.
    seq = simulator.last_seq()
    assert plan_trade_chunks(account, warehouse, datetime.now(UTC)) == plan_trade_chunks(account, warehouse)
    balances = [
        r for r in simulator.requests_since(seq)["requests"] if r["path"] == "/binance/api/v3/account"
    ]
    assert len(balances) == 2


def test_a_market_list_older_than_the_ttl_is_reloaded(gap_account, warehouse, simulator):
    _sim, account = gap_account("binance")
    prime_markets(account, warehouse)
    stored = warehouse.clients.market_list("binance", simulator.exchange_url("binance"))
    old = datetime.now(UTC) - MARKETS_TTL - timedelta(minutes=1)
    warehouse.clients.store_market_list(
        "binance", simulator.exchange_url("binance"), stored.markets, stored.currencies, stored.helpers, old
    )
    seq = simulator.last_seq()
    backfill_client(account, warehouse).load_markets()
    assert market_list_requests(simulator, "binance", seq) == {"/binance/api/v3/exchangeInfo": 1}
    reloaded = warehouse.clients.market_list("binance", simulator.exchange_url("binance"))
    assert reloaded.loaded_at > old + timedelta(minutes=1)
    # Fresh again: the next client takes it from the warehouse.
    seq = simulator.last_seq()
    assert backfill_client(account, warehouse).load_markets()
    assert market_list_requests(simulator, "binance", seq) == {"/binance/api/v3/exchangeInfo": 0}


def test_a_symbol_absent_from_the_stored_list_reloads_it_once(gap_account, warehouse, simulator):
    sim, account = gap_account("binance")
    traded = sorted({t["symbol"] for t in sim.simulator.history(sim.id)["trades"]})
    prime_markets(account, warehouse)
    url = simulator.exchange_url("binance")
    stored = warehouse.clients.market_list("binance", url)
    # A list loaded before the symbol was listed.
    markets = {s: m for s, m in stored.markets.items() if s != traded[0]}
    warehouse.clients.store_market_list("binance", url, markets, stored.currencies, stored.helpers)
    seq = simulator.last_seq()
    rows = backfill_stream(account, {"streams": ["trades"], "symbols": traded}, warehouse)
    assert market_list_requests(simulator, "binance", seq) == {"/binance/api/v3/exchangeInfo": 1}
    history = sim.simulator.history(sim.id)["trades"]
    assert rows == len(history)
    assert {r["symbol"] for r in warehouse.rows(warehouse_trades(), sim.id)} == set(traded)
    assert traded[0] in warehouse.clients.market_list("binance", url).markets


def warehouse_trades():
    from exchange_sync.warehouse import schema

    return schema.trades


def test_a_stored_list_is_what_load_markets_leaves(gap_account, warehouse, simulator):
    """set_markets from the stored JSON restores what ccxt's own load_markets set up."""
    _sim, account = gap_account("kraken")
    loaded = backfill_client(account, warehouse)
    loaded.load_markets()
    seq = simulator.last_seq()
    stored = backfill_client(account, warehouse)
    stored.load_markets()
    assert market_list_requests(simulator, "kraken", seq) == dict.fromkeys(MARKET_LIST["kraken"], 0)
    assert stored.symbols == loaded.symbols and stored.ids == loaded.ids
    assert set(stored.markets_by_id) == set(loaded.markets_by_id)
    assert set(stored.currencies) == set(loaded.currencies)
    # Kraken finds markets by their altname too (filled in by its fetch_markets).
    assert stored.options["marketsByAltname"].keys() == loaded.options["marketsByAltname"].keys()


def test_concurrent_clients_share_one_request_budget(warehouse, monkeypatch):
    """Each reservation starts where the previous one ends, whoever made it: N clients side by side
    together go no faster than one alone (up to `ahead` of the schedule). All at one moment here,
    so the waits are exact: no two clients may get the same slot."""
    from exchange_sync.warehouse import client_state

    monkeypatch.setattr(client_state, "now_us_since_epoch", lambda: 1_000_000_000_000)
    waits = at_once(6, lambda: warehouse.clients.reserve("binance", "http://x", 0.5, ahead=0.2))
    assert sorted(waits) == [pytest.approx(max(0, 0.5 * k - 0.2)) for k in range(6)]
    assert warehouse.clients.reserve("binance", "http://other", 0.5) == 0


def test_paced_clients_wait_on_the_shared_schedule(gap_account, warehouse, simulator, monkeypatch):
    """With client pacing on (as shipped), ccxt's throttle reserves each request in the warehouse's
    schedule, where every other client of the exchange waits for it."""
    from exchange_sync.hooks.shared import BUDGET_HEADROOM
    from exchange_sync.warehouse import schema
    from exchange_sync.warehouse.client_state import now_us_since_epoch

    monkeypatch.setenv("EXCHANGE_SYNC_CLIENT_PACING", "on")
    _sim, account = gap_account("binance")
    before = now_us_since_epoch()
    backfill_client(account, warehouse).fetch_balance()  # the market list, then the balance
    with warehouse.engine.connect() as conn:
        (scheduled,) = conn.execute(schema.rate_budgets.select()).all()
    assert scheduled.base_url == simulator.exchange_url("binance")
    # exchangeInfo and account cost 4 of ccxt's units each, at 50 ms: the schedule is that far on.
    assert scheduled.next_at_us >= before + 2 * round(0.2 / BUDGET_HEADROOM * 1e6)


def test_an_endpoint_on_its_own_budget_is_counted_per_account_and_charges_the_ip_nothing(
    gap_account, warehouse, simulator, monkeypatch
):
    """Binance's conversion history is limited per account (UID weight, in minute windows), not per
    IP: its calls are counted in that account's own window, go at once while it has room, and leave
    the IP's schedule, which every other client of the exchange waits on, where the market list and
    the balance left it (ccxt alone would charge it about a second per call)."""
    from exchange_sync.hooks.shared import own_schedule
    from exchange_sync.profiles import BINANCE
    from exchange_sync.warehouse import schema

    monkeypatch.setenv("EXCHANGE_SYNC_CLIENT_PACING", "on")
    _sim, account = gap_account("binance")
    client = backfill_client(account, warehouse)
    client.fetch_balance()

    def schedules() -> dict[str, int]:
        with warehouse.engine.connect() as conn:
            return {r.base_url: r.next_at_us for r in conn.execute(schema.rate_budgets.select())}

    ip = simulator.exchange_url("binance")
    ip_before = schedules()[ip]
    now_ms = int(time.time() * 1000)
    started = time.monotonic()
    for _ in range(2):
        client.fetch_convert_trade_history(since=now_ms - 86_400_000, params={"until": now_ms})
    took = time.monotonic() - started
    assert schedules() == {ip: ip_before}
    budget = next(b for b in BINANCE.own_budgets if b.path == "convert/tradeFlow")
    with warehouse.engine.connect() as conn:
        (counted,) = conn.execute(schema.window_budgets.select()).all()
    assert counted.schedule == own_schedule(ip, budget, client.apiKey)
    # Both calls in one window (or the second in the next, had the first met the window's edge).
    assert counted.used in (2 * budget.weight, budget.weight)
    assert took < 1.0 or counted.used == budget.weight
    assert own_schedule(ip, budget, "another account's key") != counted.schedule


def test_a_window_budget_lets_calls_go_until_it_is_spent_then_waits_for_the_next_window(
    warehouse, monkeypatch
):
    """Clients side by side on one account's window budget: as many go at once as the window has
    room for, the rest wait for the next window's start (plus the edge margin); another account's
    window is its own; a request too close to a window's end waits for the next one."""
    from exchange_sync.warehouse import client_state

    minute = 60_000_000
    clock = {"now": 1000 * minute + 10_000_000}  # 10 s into a minute
    monkeypatch.setattr(client_state, "now_us_since_epoch", lambda: clock["now"])
    waits = at_once(7, lambda: warehouse.clients.reserve_in_window("binance", "acct-a", 3000, 9000, 60, 0.5))
    # 3 fit a window: 3 now, 3 at the next minute's start + 0.5 s, 1 a minute after that.
    assert sorted(waits) == [0, 0, 0, 50.5, 50.5, 50.5, 110.5]
    assert warehouse.clients.reserve_in_window("binance", "acct-b", 3000, 9000, 60, 0.5) == 0
    clock["now"] = 1003 * minute - 200_000  # 0.2 s before a window ends: wait for the next
    assert warehouse.clients.reserve_in_window("binance", "acct-b", 3000, 9000, 60, 0.5) == pytest.approx(0.7)

"""Idle accounts cost almost nothing on exchanges asked per symbol: a scheduled run asks only the
symbols whose assets' balances moved since the last successful run, and a sweep asks every
candidate symbol every `trade_sweep_hours`, so even trades that net to zero arrive."""

from __future__ import annotations

import logging
import time

import pytest

from exchange_sync.importer.run import run_account_import
from exchange_sync.profiles import get_profile
from exchange_sync.status import account_status
from exchange_sync.warehouse.schema import trades
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.fixtures.simulator import ENDPOINTS, EXCHANGES
from tests.importer.conftest import account_config, requests_of

ASKED_PER_SYMBOL = [e for e in EXCHANGES if get_profile(e).needs_symbols]
per_symbol_exchanges = pytest.mark.parametrize("exchange", ASKED_PER_SYMBOL)


def scheduled(account, warehouse) -> dict:
    return run_account_import(account, warehouse, sweep=False)


def trade_requests(simulator, account_id: str, since: int, exchange: str) -> int:
    path = ENDPOINTS[exchange].trades
    return sum(1 for r in requests_of(simulator, account_id, since) if path in r["path"])


@per_symbol_exchanges
def test_an_idle_account_asks_no_symbol_between_sweeps(sim_account, warehouse, simulator, exchange, caplog):
    account = account_config(sim_account.id, exchange)
    first = scheduled(account, warehouse)  # nothing to compare with yet: every candidate asked
    assert first["symbols_queried"] > 10 and first["symbols_skipped"] == 0
    seq = simulator.last_seq()
    with caplog.at_level(logging.INFO, logger="exchange_sync.importer.account"):
        idle = scheduled(account, warehouse)
    # Public calls (the market list) carry no account; nothing else talks to the simulator now.
    asked = [r for r in simulator.requests_since(seq)["requests"] if r["account"] in (sim_account.id, None)]
    assert trade_requests(simulator, sim_account.id, seq, exchange) == 0
    assert len(asked) <= 5, [r["path"] for r in asked]  # balance, markets, one per transfer list
    assert (idle["symbols_queried"], idle["symbols_skipped"]) == (0, first["symbols_queried"])
    logged = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert logged and "balances moved since" in logged[0] and "every symbol is asked again by" in logged[0]
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())
    # The status says how fresh each symbol is: every one as of the first run, none newer.
    scopes = account_status(account, warehouse)["streams"]["trades"]["scopes"]
    assert len(scopes) == first["symbols_queried"]
    first_covered = {c.scope: c.synced_until.isoformat() for c in warehouse.cursors(sim_account.id, "trades")}
    assert scopes == first_covered


@per_symbol_exchanges
def test_symbols_whose_assets_moved_are_asked_and_their_trades_imported(
    sim_account, warehouse, simulator, exchange
):
    account = account_config(sim_account.id, exchange)
    first = scheduled(account, warehouse)
    made = simulator.add_activity(sim_account.id, trades=6, deposits=1)
    traded = {t["symbol"] for t in made["trades"]}
    second = scheduled(account, warehouse)
    assert len(traded) <= second["symbols_queried"] < first["symbols_queried"]
    assert second["symbols_skipped"] > 0
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())


@per_symbol_exchanges
def test_trades_that_net_to_zero_arrive_with_the_sweep(sim_account, warehouse, simulator, exchange):
    account = account_config(sim_account.id, exchange, trade_sweep_hours=3 / 3600)  # a 3 s sweep
    scheduled(account, warehouse)
    made = simulator.add_activity(sim_account.id, round_trips=1)
    (buy, sell) = made["trades"]
    assert (buy["symbol"], buy["amount"], buy["cost"]) == (sell["symbol"], sell["amount"], sell["cost"])
    before = len(warehouse.rows(trades, sim_account.id))
    scheduled(account, warehouse)  # no balance moved: the round trip is not seen yet
    assert len(warehouse.rows(trades, sim_account.id)) == before
    time.sleep(3.5)
    swept = scheduled(account, warehouse)
    assert swept["symbols_skipped"] == 0
    assert len(warehouse.rows(trades, sim_account.id)) == before + 2
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())


@per_symbol_exchanges
def test_a_run_that_failed_after_its_balance_snapshot_hides_no_trade(
    sim_account, warehouse, simulator, exchange
):
    """The comparison is with the last successful run's snapshot, not with the failed run's."""
    account = account_config(sim_account.id, exchange)
    scheduled(account, warehouse)
    simulator.add_activity(sim_account.id, trades=4)
    simulator.add_fault(
        "http_5xx", status=503, count=50, path_contains=ENDPOINTS[exchange].trades, account=sim_account.id
    )
    with pytest.raises(Exception):  # noqa: B017 -- ccxt's ExchangeNotAvailable
        scheduled(account, warehouse)
    simulator.clear_faults()
    assert warehouse.account_sync(sim_account.id)["last_error"]
    scheduled(account, warehouse)
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())


@per_symbol_exchanges
def test_a_person_asking_for_an_import_gets_every_symbol(sim_account, warehouse, simulator, exchange):
    account = account_config(sim_account.id, exchange)
    first = scheduled(account, warehouse)
    seq = simulator.last_seq()
    again = run_account_import(account, warehouse)  # the CLI and the freeze's final sync
    assert again["symbols_skipped"] == 0
    assert trade_requests(simulator, sim_account.id, seq, exchange) == first["symbols_queried"]

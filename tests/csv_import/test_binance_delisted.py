"""Delisted coins (issue 12): Binance's API no longer returns the trades of a delisted coin's
pair, its Spot Trade History still holds them. The simulator's delisting control hides them from
myTrades; the export completes the account, and a later API import changes nothing of it."""

from __future__ import annotations

from exchange_sync.importer.run import run_account_import
from exchange_sync.warehouse.schema import trades
from tests.csv_import.test_exports import import_exports, precision
from tests.fixtures.ground_truth import assert_whole_history_matches, discrepancies
from tests.importer.conftest import SMALL, account_config


def test_the_export_restores_what_a_delisting_took_from_the_api(
    make_sim_account, connect, simulator, warehouse, tmp_path
):
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    history = account.history()
    symbol = max(
        {t["symbol"] for t in history["trades"]},
        key=lambda s: sum(t["symbol"] == s for t in history["trades"]),
    )
    simulator.delist(account.id, symbol)
    history = account.history()
    assert history["delisted"] == [symbol]
    hidden = {str(("trade", t["symbol"], t["id"])) for t in history["trades"] if t["symbol"] == symbol}
    config = account_config(account.id, "binance")

    run_account_import(config, warehouse)
    found = discrepancies(warehouse, account.id, history)
    assert set(found.lost) == hidden and not found.duplicated and not found.wrong

    reports = import_exports(account, warehouse, tmp_path)
    assert_whole_history_matches(warehouse, account.id, history, precision(reports))
    from_csv = [r for r in warehouse.rows(trades, account.id) if r["source"] != "api"]
    assert {r["symbol"] for r in from_csv} == {symbol} and len(from_csv) == len(hidden)

    run_account_import(config, warehouse)
    assert_whole_history_matches(warehouse, account.id, account.history(), precision(reports))

"""Binance's exports against the simulator, for what only Binance has: delisted coins (its API no
longer returns their trades, its Spot Trade History still holds them) and conversions (Convert,
dust to BNB: only its Transaction History holds them)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from exchange_sync.csv_import.run import import_csv
from exchange_sync.importer.run import run_account_import
from exchange_sync.sim_client import SimulatorClient
from exchange_sync.warehouse.schema import ledger, trades, transfers
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


@pytest.mark.skipif(
    not hasattr(SimulatorClient, "add_conversions"),
    reason="the simulator has no conversions yet (branch recon)",
)
def test_transaction_history_stores_conversions_as_ledger_rows(
    make_sim_account, simulator, warehouse, tmp_path
):
    """Binance Convert and dust to BNB reach no API stream: the Transaction History's lines of
    them are ledger rows (Operation, coin, signed change, the second), its other lines are not."""
    account = make_sim_account(**SMALL)
    made = [
        *simulator.add_conversions(account.id, count=2, kind="convert"),
        *simulator.add_conversions(account.id, count=1, kind="dust"),
    ]
    path = tmp_path / "transaction_history.csv"
    path.write_bytes(simulator.export(account.id, "transaction_history.csv"))
    report = import_csv(warehouse, account_config(account.id, "binance"), path)
    names = {"convert": "Binance Convert", "dust": "Small Assets Exchange BNB"}
    expected = sorted(
        (
            names[c["kind"]],
            currency,
            Decimal(sign + amount),
            datetime.fromtimestamp(c["timestamp"] // 1000, UTC),
        )
        for c in made
        for currency, sign, amount in (
            (c["from_currency"], "-", c["from_amount"]),
            (c["to_currency"], "", c["to_amount"]),
        )
    )
    stored = warehouse.rows(ledger, account.id)
    assert sorted((r["type"], r["currency"], r["amount"], r["occurred_at"]) for r in stored) == expected
    assert warehouse.rows(trades, account.id) == [] and warehouse.rows(transfers, account.id) == []
    assert set(report.rejected) == {"covered_by_export"}

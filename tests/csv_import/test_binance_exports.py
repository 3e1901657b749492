"""Binance's exports against the simulator, for what only Binance has: delisted coins (its API no
longer returns their trades, its Spot Trade History still holds them) and conversions (Convert,
dust to BNB: only its Transaction History holds them)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from exchange_sync.csv_import.rejects import rejects
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


def statement_lines(account, tmp_path) -> tuple[Path, int, int]:
    """The account's Transaction History: (path, its lines, its refund lines)."""
    tmp_path.mkdir()
    path = tmp_path / "transaction_history.csv"
    path.write_bytes(account.simulator.export(account.id, "transaction_history.csv"))
    lines = list(csv.DictReader(io.StringIO(path.read_text())))
    refunds = sum(1 for line in lines if line["Operation"] == "Withdraw" and Decimal(line["Change"]) > 0)
    return path, len(lines), refunds


def named_rows(rejected: list[dict]) -> set[tuple[str, str]]:
    """(table, id) of the stored rows the rejections name."""
    found = set()
    for reject in rejected:
        match = re.search(
            r"(trades|transfers) row \w+=[^,]+, (?:trade_id|transfer_id)=(\S+) at", reject["detail"]
        )
        if match:
            found.add((match.group(1), match.group(2)))
    return found


def explained(warehouse, account_id: str) -> set[tuple[str, str]]:
    """(table, id) of the account's trades and transfers that have lines in its statement: all but
    deposits not credited yet."""
    rows = {("trades", r["trade_id"]) for r in warehouse.rows(trades, account_id)}
    return rows | {
        ("transfers", r["transfer_id"])
        for r in warehouse.rows(transfers, account_id)
        if r["kind"] == "withdrawal" or r["status"] == "ok"
    }


def is_refund(raw: list[str]) -> bool:
    return raw[3] == "Withdraw" and not raw[5].startswith("-")


def test_statement_legs_name_the_row_they_belong_to(make_sim_account, connect, warehouse, tmp_path):
    """After the API: each leg line is a duplicate of the API's trade or transfer, named; after
    the other exports: covered by their rows, named. Every stored row is named by its legs."""
    api_account = make_sim_account(**(SMALL | {"withdrawals": 20}))  # some fail or are canceled
    connect(f"conn_{api_account.id}", api_account.id)
    config = account_config(api_account.id, "binance")
    run_account_import(config, warehouse)
    path, lines, refunds = statement_lines(api_account, tmp_path / "api")
    assert refunds  # withdrawals given back: no stored row has the time of their lines
    report = import_csv(warehouse, config, path)
    assert report.rejected == {"duplicate_of_api": lines - refunds, "covered_by_export": refunds}
    rejected = rejects(warehouse.engine, api_account.id, report.import_id)
    assert named_rows(rejected) == explained(warehouse, api_account.id)

    csv_account = make_sim_account(**SMALL)
    (tmp_path / "csv").mkdir()
    exported = import_exports(csv_account, warehouse, tmp_path / "csv")
    statement = next(r for r in exported if r.format == "binance_statement")
    assert statement.rejected == {"covered_by_export": statement.rows_read}
    rejected = rejects(warehouse.engine, csv_account.id, statement.import_id)
    assert all("stored from import" in r["detail"] for r in rejected if not is_refund(r["raw"]))
    assert named_rows(rejected) == explained(warehouse, csv_account.id)

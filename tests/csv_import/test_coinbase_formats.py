"""Coinbase's Transaction report, format by format: lines written as the real files have them
(third-party fixtures of real reports, BittyTax's header versions), not by our simulator, imported
into a real warehouse. What the simulator's whole report restores is tests/csv_import/test_exports."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from exchange_sync.csv_import.formats import coinbase_report, for_exchange, identify
from exchange_sync.csv_import.rejects import rejects
from exchange_sync.csv_import.run import import_csv
from exchange_sync.warehouse.schema import ledger, trades, transfers
from tests.importer.conftest import SMALL, account_config

V4 = (
    "ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,"
    "Total (inclusive of fees and/or spread),Fees and/or Spread,Notes"
)
V4_NO_ID = V4.removeprefix("ID,")
V3 = V4_NO_ID.replace("Price Currency", "Spot Price Currency").replace(
    "Price at Transaction", "Spot Price at Transaction"
)
V2 = V3.replace(
    "Total (inclusive of fees and/or spread),Fees and/or Spread", "Total (inclusive of fees),Fees"
)
V1 = (
    "Timestamp,Transaction Type,Asset,Quantity Transacted,USD Spot Price at Transaction,USD Subtotal,"
    "USD Total (inclusive of fees),USD Fees,Notes"
)
PREAMBLE = (
    "You can use this transaction report to inform your likely tax obligations. For US customers, Sells, "
    "Converts, Rewards Income, Coinbase Earn transactions, and Donations are taxable events. For final tax "
    "obligations, please consult your tax advisor.\n\nTransactions\n"
    "User,Jane Doe,7f5c2d1e-0b7a-5d43-9a1b-2c3d4e5f6a7b\n"
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def imported(
    warehouse, tmp_path: Path, header: str, *lines: str, preamble: str = PREAMBLE, bom: bool = False
):
    path = tmp_path / "report.csv"
    text = preamble + header + "\n" + "\n".join(lines) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    account = account_config("cb-file", "coinbase", history_start=datetime(2015, 1, 1, tzinfo=UTC))
    report = import_csv(warehouse, account, path)
    tables = {t.name: warehouse.rows(t, "cb-file") for t in (trades, transfers, ledger)}
    return report, tables


@pytest.mark.parametrize("header", [V4, V4_NO_ID, V3, V2, V1], ids=["v4", "v4-no-id", "v3", "v2", "v1"])
def test_every_header_version_is_the_coinbase_report(header):
    assert identify(header.split(","), for_exchange("coinbase")) is coinbase_report.FORMAT
    assert identify(header.split(","), for_exchange("kraken")) is None


def test_advanced_trades_become_a_trade_and_its_two_ledger_legs(warehouse, tmp_path):
    """Newest first, as the file lists them; the fill's own amounts come from the Notes (the value
    columns are in the report's currency: USD for a BTC-USDC trade), thousands separators quoted."""
    report, rows = imported(
        warehouse,
        tmp_path,
        V4,
        '67645f1f8e8ebf2624a29d86,2025-03-05 10:00:00 UTC,Advanced Trade Buy,BTC,0.015,EUR,"€82,304.00",'
        '"€1,234.56","€1,240.73",€6.17,Bought 0.015 BTC for 1240.73 EUR on BTC-EUR at 82304 EUR/BTC',
        "678bc07ce631ff618bee7b4a,2025-01-18 14:53:48 UTC,Advanced Trade Buy,BTC,0.00424956,USD,$103882.31,"
        "$441.45411,$446.75156,$5.2974493114032,Bought 0.00424956 BTC for 446.7515585950032 USDC on BTC-USDC "
        "at 103882.31 USDC/BTC",
        "67645f1f8e8ebf2624a29d84,2025-01-10 09:15:00 UTC,Advanced Trade Sell,SOL,-0.5,EUR,€200.00,€100.00,"
        "€99.40,€0.60,Sold 0.5 SOL for 99.40 EUR on SOL-EUR at 200 EUR/SOL",
        bom=True,
    )
    assert report.rejected == {}
    facts = sorted(
        (r["traded_at"], r["symbol"], r["side"], r["price"], r["amount"], r["fee_cost"], r["fee_currency"])
        for r in rows["trades"]
    )
    assert facts == [
        (at("2025-01-10 09:15:00"), "SOL/EUR", "sell", 200, Decimal("0.5"), Decimal("0.60"), "EUR"),
        (
            at("2025-01-18 14:53:48"),
            "BTC/USDC",
            "buy",
            Decimal("103882.31"),
            Decimal("0.00424956"),
            Decimal("5.2974493114032"),
            "USDC",
        ),
        (at("2025-03-05 10:00:00"), "BTC/EUR", "buy", 82304, Decimal("0.015"), Decimal("6.17"), "EUR"),
    ]
    # No fill id in the report: content ids, matched with the API's fills by the matching rule.
    assert all(r["trade_id"].startswith("csv-") for r in rows["trades"])
    legs = sorted((r["occurred_at"], r["currency"], r["amount"]) for r in rows["ledger"])
    assert legs == [
        (at("2025-01-10 09:15:00"), "EUR", Decimal("99.40")),
        (at("2025-01-10 09:15:00"), "SOL", Decimal("-0.5")),
        (at("2025-01-18 14:53:48"), "BTC", Decimal("0.00424956")),
        (at("2025-01-18 14:53:48"), "USDC", Decimal("-446.7515585950032")),
        (at("2025-03-05 10:00:00"), "BTC", Decimal("0.015")),
        (at("2025-03-05 10:00:00"), "EUR", Decimal("-1240.73")),
    ]
    assert {r["type"] for r in rows["ledger"]} == {"advanced_trade_fill"}
    assert not rows["transfers"]


def test_a_trade_whose_notes_name_no_product_is_read_from_the_value_columns(warehouse, tmp_path):
    _, rows = imported(
        warehouse,
        tmp_path,
        V4,
        "14,2025-01-11 11:59:44 UTC,Advanced Trade Buy,ETH,0.03232528,EUR,€2544.75,€82.25976,€83.24687,"
        "€0.98711707536,Bought ETH",
    )
    [fill] = rows["trades"]
    assert (fill["symbol"], fill["side"], fill["price"], fill["amount"], fill["fee_cost"]) == (
        "ETH/EUR",
        "buy",
        Decimal("2544.75"),
        Decimal("0.03232528"),
        Decimal("0.98711707536"),
    )
    assert sorted((r["currency"], r["amount"]) for r in rows["ledger"]) == [
        ("ETH", Decimal("0.03232528")),
        ("EUR", Decimal("-83.24687")),
    ]


def test_transfers_are_keyed_by_the_lines_id_with_their_fees(warehouse, tmp_path):
    """A fiat withdrawal's quantity includes its fee; a send's is what was sent, its fee valued
    in the report's currency (Fees / Price gives it in the asset)."""
    _, rows = imported(
        warehouse,
        tmp_path,
        V4,
        "a3,2024-08-04 10:00:00 UTC,Send,BTC,-0.01,USD,$21000,$210,$210.21,$0.21,"
        "Sent 0.01 BTC to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh",
        "a2,2024-08-03 10:00:00 UTC,Withdrawal,EUR,-251.5,EUR,€1.00,€250.00,€251.50,€1.50,"
        "Withdrawal to NL29 ABNA",
        "a1,2024-08-02 10:00:00 UTC,Receive,ETH,0.5,USD,$3000,$1500,$1500,$0.00,"
        "Received 0.5 ETH from an external account",
        "61aa7acddc3e590001a6258f,2021-12-03 20:15:09 UTC,Deposit,EUR,1000,EUR,€1.00,€1000.00,€1000.00,€0.00,"
        "Deposit from ABN AMRO BANK NV (NL29 ABNA 0889 7749 27)",
    )
    got = sorted(
        (r["transfer_id"], r["kind"], r["currency"], r["amount"], r["fee"], r["status"], r["occurred_at"])
        for r in rows["transfers"]
    )
    assert got == [
        ("61aa7acddc3e590001a6258f", "deposit", "EUR", 1000, None, "ok", at("2021-12-03 20:15:09")),
        ("a1", "deposit", "ETH", Decimal("0.5"), None, "ok", at("2024-08-02 10:00:00")),
        ("a2", "withdrawal", "EUR", 250, Decimal("1.50"), "ok", at("2024-08-03 10:00:00")),
        ("a3", "withdrawal", "BTC", Decimal("0.01"), Decimal("0.00001"), "ok", at("2024-08-04 10:00:00")),
    ]
    assert {r["transfer_id"]: r["address"] for r in rows["transfers"]}["a3"] == (
        "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
    )
    # The same ids in the ledger, each signed as the balance moved (v2 types, as the API's).
    assert sorted((r["ledger_id"], r["type"], r["amount"], r["fee"]) for r in rows["ledger"]) == [
        ("61aa7acddc3e590001a6258f", "fiat_deposit", 1000, None),
        ("a1", "send", Decimal("0.5"), None),
        ("a2", "fiat_withdrawal", Decimal("-251.5"), None),
        ("a3", "send", Decimal("-0.01"), Decimal("0.00001")),
    ]


def test_older_versions_rewards_conversions_and_simple_buys(warehouse, tmp_path):
    """v3 without ID (content ids), unsigned quantities: the type gives the direction."""
    _, rows = imported(
        warehouse,
        tmp_path,
        V3,
        "2019-09-25T14:37:00Z,Convert,BTC,0.05413984,USD,194436.11,10415.01,10526.74,111.73,"
        "Converted 0.05413984 BTC to 451.212148 USDC",
        "2023-02-01T00:00:00Z,Staking Income,ETH,0.00012345,USD,1600,0.19752,0.19752,0,",
        "2018-01-05T10:00:00Z,Buy,BTC,0.01,USD,15000.00,150.00,152.24,2.24,Bought 0.0100 BTC for $152.24 USD",
    )
    got = sorted((r["occurred_at"], r["type"], r["currency"], r["amount"]) for r in rows["ledger"])
    assert got == [
        (at("2018-01-05 10:00:00"), "buy", "BTC", Decimal("0.01")),
        (at("2018-01-05 10:00:00"), "buy", "USD", Decimal("-152.24")),
        (at("2019-09-25 14:37:00"), "trade", "BTC", Decimal("-0.05413984")),
        (at("2019-09-25 14:37:00"), "trade", "USDC", Decimal("451.212148")),
        (at("2023-02-01 00:00:00"), "staking_reward", "ETH", Decimal("0.00012345")),
    ]
    assert all(r["ledger_id"].startswith("csv-") for r in rows["ledger"])


def test_v1_currency_prefixed_columns(warehouse, tmp_path):
    _, rows = imported(
        warehouse,
        tmp_path,
        V1,
        "2018-01-05T10:00:00Z,Sell,BTC,0.01,15000.00,150.00,147.76,2.24,Sold 0.0100 BTC for $147.76 USD",
        preamble="",
    )
    assert sorted((r["currency"], r["amount"]) for r in rows["ledger"]) == [
        ("BTC", Decimal("-0.01")),
        ("USD", Decimal("147.76")),
    ]


def test_a_send_that_did_not_complete_and_one_still_pending(warehouse, tmp_path):
    """The simulator's conventions for what the report has no column for (README "Coinbase")."""
    _, rows = imported(
        warehouse,
        tmp_path,
        V4,
        "r1,2024-08-05 10:00:00 UTC,Send Reversal,BTC,0.01001,USD,$21000,$210.21,$210.21,$0.00,"
        "Reversal of s1: the send failed",
        "s2,2024-08-04 11:00:00 UTC,Send,BTC,-0.02,USD,$21000,$420,$420.21,$0.21,"
        "Sent 0.02 BTC to bc1qabc (pending)",
        "s1,2024-08-04 10:00:00 UTC,Send,BTC,-0.01,USD,$21000,$210,$210.21,$0.21,Sent 0.01 BTC to bc1qabc",
    )
    assert {r["transfer_id"]: (r["status"], r["address"]) for r in rows["transfers"]} == {
        "s1": ("failed", "bc1qabc"),
        "s2": ("pending", "bc1qabc"),
    }
    assert {r["ledger_id"]: (r["type"], r["amount"]) for r in rows["ledger"]}["r1"] == (
        "tx",
        Decimal("0.01001"),
    )


def test_lines_that_are_no_balance_change_or_unreadable_are_rejected_with_their_line(warehouse, tmp_path):
    report, rows = imported(
        warehouse,
        tmp_path,
        V4,
        "8,2025-01-08 17:38:49 UTC,Retail Staking Transfer,SOL,0.124,EUR,€133.07,€16.5,€16.5,€0.00,",
        "9,2025-01-09 10:00:00 UTC,Mystery Bonus,SOL,1,EUR,€133.07,€133.07,€133.07,€0.00,",
        "10,1/18/2025 14:53,Receive,SOL,1,EUR,€133.07,€133.07,€133.07,€0.00,",
        "11,2025-01-10 10:00:00 UTC,Receive,SOL,1 SOL,EUR,€133.07,€133.07,€133.07,€0.00,",
        "12,2025-01-11 10:00:00 UTC,Advanced Trade Buy,SOL,1,EUR,€133.07,€133.07,€133.07,,Bought SOL",
    )
    header_line = PREAMBLE.count("\n") + 1
    got = {
        r["line"] - header_line: r["reason"] for r in rejects(warehouse.engine, "cb-file", report.import_id)
    }
    assert got == {
        1: "not_a_balance_change",
        2: "unknown_operation",
        3: "bad_time",
        4: "bad_amount",
        5: "missing_value",
    }
    assert not any(rows.values())


def test_the_simulators_report_names_the_apis_transactions(make_sim_account):
    """Its v4 layout, newest first, one line per fill and per other transaction, each line's ID the
    v2 transaction id of the API's ledger (a fill's: its base leg's), at the API's second."""
    account = make_sim_account("coinbase", **SMALL)
    text = account.simulator.export(account.id, "transaction_report.csv").decode()
    lines = text.splitlines()
    start = lines.index(V4)
    assert lines[start - 1].startswith("User,") and "Transactions" in lines[:start]
    report = list(csv.DictReader(lines[start:]))
    history = account.history()
    fills = [e for e in history["ledger"] if e["type"] == "advanced_trade_fill"]
    others = {e["id"]: e for e in history["ledger"] if e["type"] != "advanced_trade_fill"}
    trade_lines = [r for r in report if r["Transaction Type"].startswith("Advanced Trade")]
    assert len(trade_lines) == len(history["trades"]) and len(report) == len(trade_lines) + len(others)
    assert {r["ID"] for r in trade_lines} <= {e["id"] for e in fills}
    times = [datetime.strptime(r["Timestamp"], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC) for r in report]
    assert times == sorted(times, reverse=True)
    for line, when in zip(report, times, strict=True):
        if line["ID"] in others:
            assert when.timestamp() * 1000 == others.pop(line["ID"])["timestamp"] // 1000 * 1000
    assert not others

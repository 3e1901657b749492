"""The matching rule, both ways (csv_import/matching.py): an export's line the API delivered, or
delivers later, is stored once; two genuinely different entries are never merged, however alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from exchange_sync import streams
from exchange_sync.csv_import.rejects import rejects
from exchange_sync.csv_import.run import import_csv
from exchange_sync.warehouse import Cursor
from exchange_sync.warehouse.schema import trades, transfers
from tests.csv_import.conftest import HEADER, account

SECOND = datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)


def api_trade(trade_id: str, ms: int = 250, amount: str = "0.01", side: str = "buy") -> dict:
    """A trades row as the API import writes it (importer/rows.py), `ms` into SECOND."""
    return {
        "account_id": "acc",
        "symbol": "BTC/USDT",
        "trade_id": trade_id,
        "exchange": "binance",
        "order_id": "o1",
        "side": side,
        "price": Decimal("50000"),
        "amount": Decimal(amount),
        "cost": Decimal("500"),
        "fee_cost": Decimal("0.5"),
        "fee_currency": "USDT",
        "taker_or_maker": "taker",
        "traded_at": SECOND + timedelta(milliseconds=ms),
        "imported_at": SECOND,
    }


def commit_api(warehouse, rows: list[dict]) -> None:
    warehouse.commit_page(streams.TRADES, rows, Cursor("acc", streams.TRADES, SECOND, scope="BTC/USDT"))


def csv_trade(time: str = "2024-03-01 10:00:00", amount: str = "0.01", side: str = "buy") -> str:
    return f"trade,{time},,BTC/USDT,{side},50000,{amount},500,,0.5,USDT,,"


def import_lines(warehouse, write, *lines: str, name: str = "export.csv"):
    return import_csv(warehouse, account(), write(name, "\n".join((HEADER, *lines)) + "\n"))


def test_identical_fills_pair_one_to_one_with_the_apis(warehouse, write):
    """Two fills in one second at one price and amount: two API rows; the export's three such
    lines are two duplicates (each naming its own API row) and one more fill."""
    commit_api(warehouse, [api_trade("1", 100), api_trade("2", 900)])
    report = import_lines(warehouse, write, csv_trade(), csv_trade(), csv_trade())
    assert report.stored["trades"] == 1 and report.rejected == {"duplicate_of_api": 2}
    named = sorted(r["detail"] for r in rejects(warehouse.engine, "acc"))
    assert "trade_id=1" in named[0] and "trade_id=2" in named[1]
    assert len(warehouse.rows(trades, "acc")) == 3


@pytest.mark.parametrize(
    "line",
    [
        csv_trade(amount="0.02"),  # another amount
        csv_trade(side="sell"),  # another side
        csv_trade(time="2024-03-01 10:00:01"),  # the next second: outside Binance's 1 s precision
        csv_trade(time="2024-03-01 09:59:59"),  # the second before
        csv_trade().replace("50000", "50001"),  # another price
    ],
)
def test_a_line_unlike_the_api_row_is_never_merged(warehouse, write, line):
    commit_api(warehouse, [api_trade("1")])
    report = import_lines(warehouse, write, line)
    assert report.stored["trades"] == 1 and not report.rejected
    assert len(warehouse.rows(trades, "acc")) == 2


def test_the_api_later_takes_over_the_exports_rows(warehouse, write):
    report = import_lines(warehouse, write, csv_trade(), csv_trade(), csv_trade(time="2024-03-01 10:00:07"))
    assert report.stored["trades"] == 3
    # The API delivers the two fills of 10:00:00 (and one the export did not have).
    commit_api(warehouse, [api_trade("1", 100), api_trade("2", 900), api_trade("3", 2500)])
    rows = warehouse.rows(trades, "acc")
    assert sorted((r["trade_id"][:4], r["source"]) for r in rows) == [
        ("1", "api"),
        ("2", "api"),
        ("3", "api"),
        ("csv-", f"csv:{report.import_id}:4"),  # 10:00:07: no API twin yet
    ]
    superseded = rejects(warehouse.engine, "acc", report.import_id)
    assert [(r["line"], r["reason"]) for r in superseded] == [(2, "superseded"), (3, "superseded")]
    # Importing the export again stores nothing twice: its two lines are now the API's.
    again = import_lines(warehouse, write, csv_trade(), csv_trade(), csv_trade(time="2024-03-01 10:00:07"))
    assert again.rejected == {"duplicate_of_api": 2} and again.unchanged == 1
    assert len(warehouse.rows(trades, "acc")) == 4


def test_a_page_of_many_api_rows_supersedes_in_bulk(warehouse, write):
    """Pages of 64 rows or more go by the bulk path (COPY on PostgreSQL): same outcome."""
    lines = [csv_trade(time=f"2024-03-01 10:{m:02d}:00") for m in range(50)]
    import_lines(warehouse, write, *lines)
    page = [api_trade(str(i), i * 60_000 + 5) for i in range(80)]
    commit_api(warehouse, page)
    rows = warehouse.rows(trades, "acc")
    assert len(rows) == 80 and {r["source"] for r in rows} == {"api"}


def test_an_exported_native_id_is_the_apis_row_both_ways(warehouse, write):
    line = "trade,2024-03-01 10:00:00,T9,BTC/USDT,buy,50000,0.01,500,,0.5,USDT,,"
    import_lines(warehouse, write, line)
    assert warehouse.rows(trades, "acc")[0]["source"].startswith("csv:")
    commit_api(warehouse, [api_trade("T9")])  # the API's time has milliseconds
    [row] = warehouse.rows(trades, "acc")
    assert row["source"] == "api" and row["traded_at"] == SECOND + timedelta(milliseconds=250)
    report = import_lines(warehouse, write, line, name="again.csv")
    assert report.rejected == {"duplicate_of_api": 1}
    assert "trade_id=T9" in report.first_rejects[0]["detail"]


def test_transfers_with_different_txids_are_two(warehouse, write):
    deposit = "deposit,2024-03-01 10:00:00,,,,,1.5,,BTC,,,{txid},"
    warehouse.commit_page(
        streams.DEPOSITS,
        [
            {
                "account_id": "acc",
                "kind": "deposit",
                "transfer_id": "d1",
                "exchange": "binance",
                "currency": "BTC",
                "amount": Decimal("1.5"),
                "fee": None,
                "network": "BTC",
                "address": "bc1q",
                "txid": "0xaaa",
                "status": "ok",
                "occurred_at": SECOND,
                "imported_at": SECOND,
            }
        ],
        Cursor("acc", streams.DEPOSITS, SECOND),
    )
    report = import_lines(warehouse, write, deposit.format(txid="0xbbb"), deposit.format(txid="0xaaa"))
    assert report.stored["transfers"] == 1 and report.rejected == {"duplicate_of_api": 1}
    assert sorted(r["txid"] for r in warehouse.rows(transfers, "acc")) == ["0xaaa", "0xbbb"]

"""Binance's export formats, line by line: every header version is recognised, and lines written
the way Binance's website writes them (products.md §3, BittyTax's and rotki's Binance parsers and
test files; not our simulator's output) become the rows ccxt's binance parse makes of the API's
answers. The last tests import the simulator's Transaction History alone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from exchange_sync.csv_import.formats import ParseContext, Record, Rejection, for_exchange, identify
from exchange_sync.csv_import.reader import read_csv
from exchange_sync.csv_import.rejects import rejects
from exchange_sync.csv_import.run import import_csv
from exchange_sync.simulator.model import AccountSpec, Reward
from exchange_sync.simulator.protocols.binance import exports
from exchange_sync.simulator.seed import book_reward
from exchange_sync.simulator.state import World
from exchange_sync.warehouse.schema import ledger, trades, transfers
from tests.importer.conftest import SMALL, account_config

BINANCE = for_exchange("binance")

HEADERS = {
    "binance_trades": (
        "Date(UTC),Pair,Side,Price,Executed,Amount,Fee",
        "Date(UTC),Market,Type,Price,Amount,Total,Fee,Fee Coin",
    ),
    "binance_deposits": ("Date(UTC+0),Coin,Network,Amount,Address,TXID,Status",),
    "binance_withdrawals": ("Date(UTC+0),Coin,Network,Amount,Fee,Address,TXID,Status",),
    "binance_statement": (
        "User_ID,UTC_Time,Account,Operation,Coin,Change,Remark",
        "UTC_Time,Account,Operation,Coin,Change,Remark",
    ),
}


@pytest.mark.parametrize(
    ("name", "header"), [(name, h) for name, headers in HEADERS.items() for h in headers], ids=str
)
def test_every_header_version_is_recognised(name, header):
    chosen = identify(header.split(","), BINANCE)
    assert chosen is not None and chosen.name == name


def parse(tmp_path: Path, text: str, context: ParseContext | None = None) -> list[Record | Rejection]:
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    csv_file = read_csv(path, lambda h: identify(h, BINANCE) is not None, "")
    chosen = identify(csv_file.header, BINANCE)
    assert chosen is not None
    return list(chosen.parse(csv_file.rows, context or ParseContext()))


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def test_spot_trade_history_values_carry_their_asset(tmp_path):
    text = (
        "Date(UTC),Pair,Side,Price,Executed,Amount,Fee\n"
        "2024-05-16 12:57:55,ETHUSDT,BUY,1674.12,0.017ETH,28.46004USDT,0.00009883BNB\n"
        '2024-05-16 12:58:01,BTCUSDT,SELL,61234.5,0.05BTC,"3,061.725USDT",3.061725USDT\n'
        "2024-05-17 08:00:00,1INCHUSDT,BUY,0.4,0.51INCH,0.2USDT,0.0005 1INCH\n"
        "2024-05-17 09:00:00,YOYOBTC,SELL,0.0000001,1E+3YOYO,0.0001BTC,1E-7BTC\n"
    )
    rows = [r.values for r in parse(tmp_path, text)]
    assert [(r["symbol"], r["side"], r["price"], r["amount"], r["cost"]) for r in rows] == [
        ("ETH/USDT", "buy", Decimal("1674.12"), Decimal("0.017"), Decimal("28.46004")),
        ("BTC/USDT", "sell", Decimal("61234.5"), Decimal("0.05"), Decimal("3061.725")),
        # 1INCH begins with a digit: "0.51INCH" is 0.5 of it, the pair says which.
        ("1INCH/USDT", "buy", Decimal("0.4"), Decimal("0.5"), Decimal("0.2")),
        # ccxt calls Binance's YOYO "YOYOW" (commonCurrencies); scientific notation is exact.
        ("YOYOW/BTC", "sell", Decimal("1E-7"), Decimal("1000"), Decimal("0.0001")),
    ]
    assert [(r["fee_cost"], r["fee_currency"]) for r in rows] == [
        (Decimal("0.00009883"), "BNB"),  # the fee token, a third asset
        (Decimal("3.061725"), "USDT"),
        (Decimal("0.0005"), "1INCH"),
        (Decimal("1E-7"), "BTC"),
    ]
    assert rows[0]["traded_at"] == at("2024-05-16 12:57:55")
    assert all(r["trade_id"] is None for r in rows)  # no id: content ids and the matching rule


def test_a_spreadsheets_semicolon_file_has_decimal_commas(tmp_path):
    text = (
        "Date(UTC);Pair;Side;Price;Executed;Amount;Fee\n"
        "2024-05-16 12:57:55;ETHUSDT;BUY;1674,12;0,017ETH;28,46004USDT;0,00009883BNB\n"
    )
    (row,) = [r.values for r in parse(tmp_path, text)]
    assert (row["price"], row["amount"], row["cost"], row["fee_cost"], row["fee_currency"]) == (
        Decimal("1674.12"),
        Decimal("0.017"),
        Decimal("28.46004"),
        Decimal("0.00009883"),
        "BNB",
    )


def test_older_trade_history_and_the_stored_market_list(tmp_path):
    text = (
        "Date(UTC),Market,Type,Price,Amount,Total,Fee,Fee Coin\n"
        "2019-03-01 10:00:00,BNBBTC,BUY,0.0026,10,0.026,0.0075,BNB\n"
        "2019-03-01 10:05:00,XYZABC,SELL,1,1,1,0,ABC\n"
    )
    context = ParseContext(symbol={"XYZABC": "XYZ/ABC"}.get)
    rows = [r.values for r in parse(tmp_path, text, context)]
    assert [
        (r["symbol"], r["side"], r["amount"], r["cost"], r["fee_cost"], r["fee_currency"]) for r in rows
    ] == [
        ("BNB/BTC", "buy", Decimal("10"), Decimal("0.026"), Decimal("0.0075"), "BNB"),
        ("XYZ/ABC", "sell", Decimal("1"), Decimal("1"), Decimal("0"), "ABC"),
    ]


def test_trade_lines_that_cannot_be_read_are_rejected(tmp_path):
    text = (
        "Date(UTC),Pair,Side,Price,Executed,Amount,Fee\n"
        "2024-05-16 12:57:55,ETHUSDT,BUY,1674.12,0.017BTC,28.46USDT,0.1BNB\n"
        "2024-05-16 12:57:55,ETHUSDT,HOLD,1674.12,0.017ETH,28.46USDT,0.1BNB\n"
        "16/05/2024 12:57,ETHUSDT,BUY,1674.12,0.017ETH,28.46USDT,0.1BNB\n"
    )
    found = parse(tmp_path, text)
    assert [(r.line, r.reason) for r in found if isinstance(r, Rejection)] == [
        (2, "bad_amount"),
        (3, "unknown_operation"),
        (4, "bad_time"),
    ]


def test_deposit_and_withdraw_history(tmp_path):
    deposits = (
        "Date(UTC+0),Coin,Network,Amount,Address,TXID,Status\n"
        "2024-02-01 08:00:01,BTC,BTC,0.5,bc1qxyz,4a5e1e4baab89f3a32518a88c31bc87f,Completed\n"
        "24-02-02 09:00:00,USDT,TRX,100,TXyz,Internal transfer 123456789,Completed\n"
        "2024-02-03 10:00:00,ETH,ETH,1,0xabc,,Pending\n"
        "2024-02-04 10:00:00,ETH,ETH,2,0xabc,0xdead,Rejected\n"
    )
    rows = [r.values for r in parse(tmp_path, deposits)]
    assert [(r["kind"], r["currency"], r["amount"], r["fee"], r["txid"], r["status"]) for r in rows] == [
        ("deposit", "BTC", Decimal("0.5"), None, "4a5e1e4baab89f3a32518a88c31bc87f", "ok"),
        # ccxt strips "Internal transfer " from the API's txId; so does the import.
        ("deposit", "USDT", Decimal("100"), None, "123456789", "ok"),
        ("deposit", "ETH", Decimal("1"), None, None, "pending"),
        # ccxt has no word for a rejected deposit: the API's row says "2", and so does this one.
        ("deposit", "ETH", Decimal("2"), None, "0xdead", "2"),
    ]
    assert rows[1]["occurred_at"] == at("2024-02-02 09:00:00")  # a two-digit year
    withdrawals = (
        "Date(UTC+0),Coin,Network,Amount,Fee,Address,TXID,Status\n"
        "2024-03-01 12:00:00,BTC,BTC,0.1,0.0002,bc1qabc,9f86d081884c7d65,Completed\n"
        "2024-03-02 12:00:00,ETH,ETH,1,0.001,0xabc,,Cancelled\n"
        "2024-03-03 12:00:00,ETH,ETH,1,0.001,0xabc,,Awaiting Approval\n"
        "2024-03-04 12:00:00,ETH,ETH,1,0.001,0xabc,,Lost in the post\n"
    )
    found = parse(tmp_path, withdrawals)
    rows = [r.values for r in found if isinstance(r, Record)]
    assert [(r["kind"], r["amount"], r["fee"], r["status"], r["network"]) for r in rows] == [
        ("withdrawal", Decimal("0.1"), Decimal("0.0002"), "ok", "BTC"),
        ("withdrawal", Decimal("1"), Decimal("0.001"), "canceled", "ETH"),
        ("withdrawal", Decimal("1"), Decimal("0.001"), "pending", "ETH"),
    ]
    assert [(r.line, r.reason) for r in found if isinstance(r, Rejection)] == [(5, "unknown_operation")]


def test_transaction_history_keeps_only_what_no_other_file_holds(tmp_path):
    text = (
        "User_ID,UTC_Time,Account,Operation,Coin,Change,Remark\n"
        "1,2023-09-29 09:56:26,Spot,Transaction Buy,ETH,0.01700000,\n"
        "1,2023-09-29 09:56:26,Spot,Transaction Fee,BNB,-0.00009883,\n"
        "1,2023-09-29 09:56:26,Spot,Transaction Spend,USDT,-28.46106000,\n"
        "1,2020-12-01 20:06:44,Spot,Withdraw,KNC,-0.16,Withdraw fee is included\n"
        "1,2020-10-28 22:03:03,Spot,Deposit,EUR,245.25,\n"
        "1,2023-01-13 06:01:00,Spot,Simple Earn Flexible Interest,BUSD,0.00003634,Binance Earn\n"
        "1,2023-06-05 19:47:00,Spot,Binance Convert,BUSD,-125.626918,\n"
        "1,2023-06-05 19:47:00,Spot,Binance Convert,MATIC,140.1195285,\n"
        "1,2020-11-20 20:22:20,Spot,Small Assets Exchange BNB,SOL,-2.055565E-3,\n"
        "1,2021-12-31 00:33:45,Spot,Transfer Between Main and Funding Wallet,USDT,500.00000000,\n"
        "1,2023-01-13 06:57:00,Spot,Simple Earn Flexible Subscription,BUSD,-0.00003634,Binance Earn\n"
        "1,2020-12-01 20:06:45,Spot,ABC,ETH,-15,\n"
    )
    found = parse(tmp_path, text)
    rows = [r.values for r in found if isinstance(r, Record)]
    assert [(r["type"], r["currency"], r["amount"], r["occurred_at"]) for r in rows] == [
        ("Simple Earn Flexible Interest", "BUSD", Decimal("0.00003634"), at("2023-01-13 06:01:00")),
        ("Binance Convert", "BUSD", Decimal("-125.626918"), at("2023-06-05 19:47:00")),
        ("Binance Convert", "MATIC", Decimal("140.1195285"), at("2023-06-05 19:47:00")),
        ("Small Assets Exchange BNB", "SOL", Decimal("-0.002055565"), at("2020-11-20 20:22:20")),
    ]
    assert all(isinstance(r, Record) and r.table == "ledger" for r in found if isinstance(r, Record))
    assert [(r.line, r.reason) for r in found if isinstance(r, Rejection)] == [
        (2, "covered_by_export"),
        (3, "covered_by_export"),
        (4, "covered_by_export"),
        (5, "covered_by_export"),
        (6, "covered_by_export"),
        (11, "not_a_balance_change"),
        (12, "not_a_balance_change"),
        (13, "unknown_operation"),
    ]


@pytest.fixture(scope="module")
def rewarded() -> tuple[World, object, list[Reward]]:
    """An in-process world: a small Binance account that also earned interest, a flow the API's
    streams do not hold (Binance's venue pays no staking in the default world)."""
    world = World(42, 1.0, 1_780_000_000_000)
    account = world.add_account(AccountSpec(id="earner", exchange="binance", seed=5, **SMALL))
    later = account.last_event_time + 60_000
    rewards = [
        Reward(1, "BTC", Decimal("0.00001234"), later),
        Reward(2, "BTC", Decimal("0.00001234"), later),  # twice the same second: both kept
        Reward(3, "USDT", Decimal("0.5"), later + 86_400_000),
    ]
    for reward in rewards:
        book_reward(account, reward)
    return world, account, rewards


def test_transaction_history_alone_stores_the_off_stream_flows_once(rewarded, warehouse, tmp_path):
    world, account, rewards = rewarded
    path = tmp_path / exports.STATEMENT
    path.write_text(world.protocol("binance").export(world, account, exports.STATEMENT))
    config = account_config(account.id, "binance")
    report = import_csv(warehouse, config, path)
    stored = warehouse.rows(ledger, account.id)
    assert sorted((r["type"], r["currency"], r["amount"], r["occurred_at"]) for r in stored) == sorted(
        (
            "Simple Earn Flexible Interest",
            r.asset,
            r.amount,
            datetime.fromtimestamp(r.time // 1000, UTC),
        )
        for r in rewards
    )
    # Its trade and transfer legs are left to the other files: nothing else is stored.
    assert warehouse.rows(trades, account.id) == [] and warehouse.rows(transfers, account.id) == []
    legs = sum(1 for _ in path.read_text().splitlines()[1:]) - len(rewards)
    assert report.rejected == {"covered_by_export": legs}
    # ... and each says that the trade or transfer it belongs to is not stored yet.
    details = [r["detail"] for r in rejects(warehouse.engine, account.id, report.import_id)]
    assert len(details) == legs and all(
        d.endswith("none is stored yet") or d.startswith("'Withdraw' is a transfer") for d in details
    )
    assert report.stored == {"trades": 0, "transfers": 0, "ledger": len(rewards)}
    again = import_csv(warehouse, config, path)
    assert sum(again.stored.values()) == 0 and again.unchanged == len(rewards)
    assert warehouse.rows(ledger, account.id) == stored

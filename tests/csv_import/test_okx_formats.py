"""OKX's bills downloads, format by format: every header version is recognised, hand-written
lines in the layout of real downloads (not the simulator's) become the rows ccxt's parse of the
same bills and fills gives, and the format's tricky values (two lines per fill, several fills of
one order in one second, "0E-8", a byte-order mark, refunds of withdrawals) are read right."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from exchange_sync.csv_import.formats import ParseContext, Record, Rejection, for_exchange, identify
from exchange_sync.csv_import.reader import read_csv

TRADING_2025 = ("id,Order id,Time,Trade Type,Symbol,Action,Amount,Trading Unit,Filled Price,PnL,Fee,Fee Unit,"
                "Position Change,Position Balance,Balance Change,Balance,Balance Unit")  # fmt: skip
TRADING_2023 = ("id,Order id,Time,Trade Type,Symbol,Action,Amount,Trading Unit,Filled Price,"
                "Filled Price Unit,PnL,Fee,Fee Unit,Position Change,Position Balance,Position Unit,"
                "Balance Change,Balance,Balance Unit")  # fmt: skip
TRADING_OLD = ("id,Order id,Time,Trade Type,Instrument,Type,Amount,Unit,PL,Fee,Position Change,"
               "Position Balance,Balance Change,Balance,Unit")  # fmt: skip
FUNDING_FEE = "id,Time,Type,Amount,Before Balance,After Balance,Fee,Symbol"
FUNDING_BLANK = "id,,Time,Type,Amount,Before Balance,After Balance,Fee,Symbol"
FUNDING_2025 = "id,Time,Type,Amount,Before Balance,After Balance,Symbol"


def parse(tmp_path: Path, text: str) -> tuple[str, list[Record], list[Rejection]]:
    path = tmp_path / "okx.csv"
    path.write_text(text, encoding="utf-8")
    formats = for_exchange("okx")
    csv_file = read_csv(path, lambda header: identify(header, formats) is not None, "")
    chosen = identify(csv_file.header, formats)
    assert chosen is not None
    items = list(chosen.parse(csv_file.rows, ParseContext()))
    return (
        chosen.name,
        [i for i in items if isinstance(i, Record)],
        [i for i in items if isinstance(i, Rejection)],
    )


def of(records: list[Record], table: str) -> list[dict]:
    return [r.values for r in records if r.table == table]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        (TRADING_2025, "okx-trading"),
        (TRADING_2023, "okx-trading"),
        (TRADING_OLD, "okx-trading"),
        (FUNDING_FEE, "okx-funding"),
        (FUNDING_BLANK, "okx-funding"),
        (FUNDING_2025, "okx-funding"),
    ],
)
def test_every_header_version_is_recognised(header, name):
    found = identify(header.split(","), for_exchange("okx"))
    assert found is not None and found.name == name
    # ...and only for OKX accounts (the generic template does not claim it either).
    assert identify(header.split(","), for_exchange("kraken")) is None


def test_a_buy_is_two_bills_and_one_trade(tmp_path):
    # 0.05 BTC bought for 3000.025 EUR at 60000.5, the 0.1 % fee charged in the BTC coming in.
    text = "\n".join(
        [
            TRADING_2025,
            "2968046098898770001,2968046098831660000,2025-10-20 10:44:26,Spot,BTC-EUR,Buy,0.05000000,EUR,"
            "60000.50000000,0.00000000,-0.00005000,BTC,0.00000000,0.00000000,0.04995000,0.14995000,BTC",
            "2968046098898770002,2968046098831660000,2025-10-20 10:44:26,Spot,BTC-EUR,Sell,3000.02500000,EUR,"
            "60000.50000000,0.00000000,0.00000000,EUR,0.00000000,0.00000000,-3000.02500000,999.97500000,EUR",
        ]
    )
    name, records, rejections = parse(tmp_path, text)
    assert name == "okx-trading" and not rejections
    ledger = {r["ledger_id"]: r for r in of(records, "ledger")}
    assert ledger["2968046098898770001"] == {
        "ledger_id": "2968046098898770001",
        "refid": "2968046098831660000",
        "type": "2",  # the bill's type as the API's ledger rows store it: 2 = trade
        "currency": "BTC",
        "amount": Decimal("0.04995"),  # balChg: net of the fee
        "fee": Decimal("0.00005"),
        "balance": Decimal("0.14995"),
        "occurred_at": at("2025-10-20 10:44:26"),
    }
    assert ledger["2968046098898770002"]["amount"] == Decimal("-3000.025")
    assert ledger["2968046098898770002"]["fee"] == 0
    assert all(r.native_id for r in records if r.table == "ledger")
    [trade] = [r for r in records if r.table == "trades"]
    assert not trade.native_id  # the export has no trade id: content id and the matching rule
    assert trade.values == {
        "symbol": "BTC/EUR",
        "trade_id": None,
        "order_id": "2968046098831660000",
        "side": "buy",
        "price": Decimal("60000.5"),
        "amount": Decimal("0.05"),
        "cost": Decimal("3000.025"),
        "fee_cost": Decimal("0.00005"),
        "fee_currency": "BTC",
        "taker_or_maker": None,
        "traded_at": at("2025-10-20 10:44:26"),
    }


def test_a_sell_in_the_2023_layout_with_zeros_in_scientific_notation(tmp_path):
    text = "\n".join(
        [
            TRADING_2023,
            "597524845211280010,597489919078300000,2023-07-07 13:30:24,Spot,BTC-USDT,Buy,602.00000000,BTC,"
            "30100.00000000,USDT,0E-8,-0.60200000,USDT,0E-8,0E-8,USDT,601.39800000,1601.39800000,USDT",
            "597524845211280008,597489919078300000,2023-07-07 13:30:24,Spot,BTC-USDT,Sell,0.02000000,BTC,"
            "30100.00000000,USDT,0E-8,0E-8,BTC,0E-8,0E-8,BTC,-0.02000000,0E-8,BTC",
        ]
    )
    _, records, rejections = parse(tmp_path, text)
    assert not rejections
    [trade] = of(records, "trades")
    assert (trade["side"], trade["amount"], trade["price"], trade["cost"]) == (
        "sell",
        Decimal("0.02"),
        Decimal("30100"),
        Decimal("602"),
    )
    assert (trade["fee_cost"], trade["fee_currency"]) == (Decimal("0.602"), "USDT")
    btc = next(r for r in of(records, "ledger") if r["currency"] == "BTC")
    assert (btc["amount"], btc["balance"], btc["fee"]) == (Decimal("-0.02"), 0, 0)


def test_the_oldest_layout_without_a_price(tmp_path):
    # Its second "Unit" column is the balance's; the price is the fill's cost over its amount.
    text = "\n".join(
        [
            TRADING_OLD,
            "401,400,2021-03-01 08:00:01,Spot,ETH-USDT,Buy,0.50000000,ETH,0,-0.00050000,0,0,0.49950000,"
            "2.49950000,ETH",
            "402,400,2021-03-01 08:00:01,Spot,ETH-USDT,Sell,1000.00000000,ETH,0,0,0,0,-1000.00000000,"
            "50.00000000,USDT",
        ]
    )
    _, records, rejections = parse(tmp_path, text)
    assert not rejections
    [trade] = of(records, "trades")
    assert (trade["symbol"], trade["side"], trade["price"], trade["amount"]) == (
        "ETH/USDT",
        "buy",
        Decimal("2000"),
        Decimal("0.5"),
    )
    assert {r["currency"] for r in of(records, "ledger")} == {"ETH", "USDT"}


def test_several_fills_of_one_order_in_one_second_pair_by_amount_and_price(tmp_path):
    # Three fills of one ADA sell; bill ids interleaved so that neighbours are not partners.
    fills = [  # (base bill, base ADA, price, quote bill, quote EUR, fee EUR)
        ("11", "100", "0.5", "16", "50", "0.05"),
        ("13", "300", "0.5", "12", "150", "0.15"),
        ("15", "100", "0.51", "14", "51", "0.051"),
    ]
    lines = [TRADING_2025]
    for base_id, ada, price, quote_id, eur, fee in fills:
        lines.append(
            f"{base_id},9,2025-10-20 10:43:59,Spot,ADA-EUR,Sell,{ada},ADA,{price},0,0,ADA,0,0,-{ada},1,ADA"
        )
        net = Decimal(eur) - Decimal(fee)
        lines.append(
            f"{quote_id},9,2025-10-20 10:43:59,Spot,ADA-EUR,Buy,{eur},ADA,{price},0,-{fee},EUR,0,0,"
            f"{net},1,EUR"
        )
    _, records, rejections = parse(tmp_path, "\n".join(lines))
    assert not rejections
    trades = Counter(
        (t["side"], t["price"], t["amount"], t["cost"], t["fee_cost"]) for t in of(records, "trades")
    )
    expected = Counter(
        ("sell", Decimal(price), Decimal(ada), Decimal(eur), Decimal(fee))
        for _, ada, price, _, eur, fee in fills
    )
    assert trades == expected
    assert len(of(records, "ledger")) == 6


def test_transfers_and_unknown_lines_with_a_byte_order_mark(tmp_path):
    text = "\ufeff" + "\n".join(
        [
            TRADING_2025,
            "501,,2025-10-21 08:00:00,Transfer,,Transfer in,100.00000000,USDT,,0,0,USDT,0,0,100.00000000,"
            "1100.00000000,USDT",
            "502,77,2025-10-21 09:00:00,Perpetual,BTC-USDT-SWAP,Buy,1,BTC,60000,0,-0.1,USDT,1,1,-0.1,"
            "1099.9,USDT",
            "503,78,20/10/2025 10:44,Spot,BTC-USDT,Buy,1,USDT,60000,0,0,BTC,0,0,1,1,BTC",
        ]
    )
    _, records, rejections = parse(tmp_path, text)
    [transfer] = records
    assert transfer.values["type"] == "1" and transfer.values["refid"] is None
    assert transfer.values["amount"] == Decimal("100") and transfer.native_id
    assert {(r.line, r.reason) for r in rejections} == {(3, "unknown_operation"), (4, "bad_time")}


def test_funding_history_deposits_withdrawals_refunds_and_the_rest(tmp_path):
    text = "\n".join(
        [
            FUNDING_FEE,
            "10021313100,2025-11-04 09:00:00,Airdrop,1.00000000,0,1.00000000,0,XYZ",
            "10021313000,2025-11-03 09:00:00,Staking Yield,0.00000100,0,0.00000100,0,ETH",
            "10021312900,2025-11-02 09:00:00,To unified trading account,-0.02000000,0.02000000,0,0,BTC",
            "10021312800,2025-11-01 09:00:00,Canceled withdrawal,0.01010000,0,0.01010000,0,BTC",
            "10021312703,2025-10-31 11:55:15,Withdrawal,-0.01000000,0.01010000,0E-18,-0.00010000,BTC",
            "10021312600,2025-10-31 11:55:00,Withdrawal,-5.00000000,6.00000000,0.50000000,-0.50000000,USDT",
            "10021312314,2025-10-31 11:54:20,Deposit,0.02000000,0,0.02000000,0,BTC",
        ]
    )
    name, records, rejections = parse(tmp_path, text)
    assert name == "okx-funding"
    transfers = {(t["kind"], t["currency"]): t for t in of(records, "transfers")}
    assert set(transfers) == {("deposit", "BTC"), ("withdrawal", "BTC"), ("withdrawal", "USDT")}
    btc = transfers["withdrawal", "BTC"]
    assert (btc["amount"], btc["fee"], btc["status"]) == (Decimal("0.01"), Decimal("0.0001"), "canceled")
    assert transfers["withdrawal", "USDT"]["status"] == "ok"
    assert transfers["withdrawal", "USDT"]["fee"] == Decimal("0.5")
    assert (transfers["deposit", "BTC"]["amount"], transfers["deposit", "BTC"]["status"]) == (
        Decimal("0.02"),
        "ok",
    )
    assert transfers["deposit", "BTC"]["occurred_at"] == at("2025-10-31 11:54:20")
    assert not any(r.native_id for r in records)  # funding-bill numbers are not depId / wdId
    [reward] = of(records, "ledger")
    assert (reward["type"], reward["currency"], reward["amount"]) == ("Staking Yield", "ETH", Decimal("1E-6"))
    assert {(r.line, r.reason) for r in rejections} == {
        (2, "unknown_operation"),
        (4, "not_a_balance_change"),
        (5, "covered_by_export"),
    }


def test_funding_history_without_a_fee_column_and_a_refund_of_nothing(tmp_path):
    text = "\n".join(
        [
            FUNDING_2025,
            "2,2025-10-31 11:56:00,Failed withdrawal,0.50000000,0,0.50000000,ETH",
            "1,2025-10-31 11:54:20,Deposit,0.00010000,0.01147863,0.01157863,BTC",
        ]
    )
    _, records, rejections = parse(tmp_path, text)
    [deposit] = of(records, "transfers")
    assert (deposit["amount"], deposit["fee"]) == (Decimal("0.0001"), 0)
    assert [(r.line, r.reason) for r in rejections] == [(2, "unknown_operation")]


def test_the_simulators_funding_history_gives_each_withdrawal_its_final_status(
    simulator, make_sim_account, tmp_path
):
    """Failed and canceled withdrawals (a seeded account with >= 10 has one each) are told apart
    by their refund lines; the statuses, amounts and fees are the ground truth's."""
    account = make_sim_account("okx", trades=20, symbols=1, deposits=6, withdrawals=12, days=120)
    history = account.history()
    for kind in ("deposits", "withdrawals"):  # the file cannot tell a transfer in flight (README)
        for pending in (t for t in history[kind] if t["status"] == "pending"):
            simulator.settle_transfer(account.id, pending["id"], "ok")
    history = account.history()
    text = simulator.export(account.id, "funding-account-history.csv").decode()
    _, records, rejections = parse(tmp_path, text)
    assert {r.reason for r in rejections} == {"covered_by_export"}
    stored = Counter(
        (t["kind"], t["currency"], t["amount"], t["fee"] if t["kind"] == "withdrawal" else None, t["status"])
        for t in of(records, "transfers")
    )
    true = Counter(
        (
            kind[:-1],
            t["currency"],
            Decimal(t["amount"]),
            Decimal(t["fee"]) if kind == "withdrawals" else None,
            t["status"],
        )
        for kind in ("deposits", "withdrawals")
        for t in history[kind]
    )
    assert stored == true
    assert {"failed", "canceled"} <= {status for *_, status in stored}


def test_the_simulators_trading_history_is_the_ledger_and_the_fills(simulator, make_sim_account, tmp_path):
    account = make_sim_account("okx", trades=30, symbols=2, deposits=3, withdrawals=1, days=60)
    history = account.history()
    text = simulator.export(account.id, "trading-account-history.csv").decode()
    assert text.splitlines()[0] == TRADING_2025
    _, records, rejections = parse(tmp_path, text)
    assert not rejections
    ledger = {r["ledger_id"]: r for r in of(records, "ledger")}
    assert set(ledger) == {e["id"] for e in history["ledger"]}  # the API's bill ids
    for entry in history["ledger"]:
        row = ledger[entry["id"]]
        assert (row["amount"], row["fee"], row["balance"]) == (
            Decimal(entry["amount"]),
            Decimal(entry["fee"]),
            Decimal(entry["balance"]),
        )
        assert row["occurred_at"] == datetime.fromtimestamp(entry["timestamp"] // 1000, tz=UTC)
    trades = Counter(
        (t["symbol"], t["side"], t["price"], t["amount"], t["fee_cost"], t["order_id"])
        for t in of(records, "trades")
    )
    true = Counter(
        (t["symbol"], t["side"], Decimal(t["price"]), Decimal(t["amount"]), Decimal(t["fee"]), t["order_id"])
        for t in history["trades"]
    )
    assert trades == true


def test_named_through_the_stored_market_list_as_the_api_names_them(
    simulator, make_sim_account, connect, warehouse, tmp_path
):
    """With the market list an API import stored (what `exchange-sync import-csv` passes), the
    files' rows name symbols and currencies as the API's rows do: an export of what the API holds
    adds nothing and rejects nothing but duplicates."""
    from exchange_sync.csv_import.context import context_for
    from exchange_sync.csv_import.run import import_csv
    from exchange_sync.importer.run import run_account_import
    from tests.importer.conftest import account_config

    account = make_sim_account("okx", trades=25, symbols=2, deposits=3, withdrawals=2, days=30)
    connect(f"conn_{account.id}", account.id, exchange="okx")
    config = account_config(account.id, "okx")
    run_account_import(config, warehouse)
    context = context_for(warehouse, "okx")
    assert context.symbol("BTC-USDT") == "BTC/USDT"
    for name in ("trading-account-history.csv", "funding-account-history.csv"):
        path = tmp_path / name
        path.write_bytes(simulator.export(account.id, name))
        report = import_csv(warehouse, config, path, context=context)
        assert sum(report.stored.values()) == 0, report.summary()
        assert "duplicate_of_api" in report.rejected, report.summary()
        assert set(report.rejected) <= {"duplicate_of_api", "covered_by_export"}, report.summary()


def test_a_closed_account_with_transfers_in_flight(simulator, make_sim_account, warehouse, tmp_path):
    """A deposit not yet credited is in neither file, a withdrawal not yet done is in the funding
    history as done: ground truth names both `unexported`, and the rest is the whole history."""
    from exchange_sync.csv_import.run import import_csv
    from tests.fixtures.ground_truth import assert_whole_history_matches
    from tests.importer.conftest import account_config

    account = make_sim_account("okx", trades=30, symbols=2, deposits=4, withdrawals=2, days=60)
    simulator.add_activity(account.id, pending_deposits=1, pending_withdrawals=1)
    simulator.set_account_status(account.id, "closed")
    history = account.history()
    assert all(history["unexported"].values())  # one of each kind is in flight
    for name in ("trading-account-history.csv", "funding-account-history.csv"):
        path = tmp_path / name
        path.write_bytes(simulator.export(account.id, name))
        report = import_csv(warehouse, account_config(account.id, "okx"), path)
        assert not report.rejected, report.summary()
    assert_whole_history_matches(warehouse, account.id, history, 1000)

"""Kraken's ledgers.csv and trades.csv, format by format: every header version is recognised, lines
written after Kraken's own documentation examples become the rows the API import stores for the
same entries (ccxt's real kraken class parses the API side here), and the format's tricky values
(native asset ids, pair ids, sub-second times, lines that move nothing) come out right."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest
from sqlalchemy import select

from exchange_sync.csv_import.context import context_for
from exchange_sync.csv_import.formats import (
    ParseContext,
    Record,
    Rejection,
    for_exchange,
    identify,
    kraken_names,
)
from exchange_sync.csv_import.reader import read_csv
from exchange_sync.csv_import.run import import_csv
from exchange_sync.importer.rows import ledger_row, trade_row
from exchange_sync.importer.run import run_account_import
from exchange_sync.warehouse.schema import csv_rejects, ledger, market_lists, trades, transfers
from tests.fixtures.ground_truth import assert_whole_history_matches
from tests.importer.conftest import account_config

KRAKEN = for_exchange("kraken")
LEDGER_HEADERS = {
    "original": "txid,refid,time,type,subtype,aclass,asset,amount,fee,balance",
    "wallet": "txid,refid,time,type,subtype,aclass,asset,wallet,amount,fee,balance",
    "amountusd": "txid,refid,time,type,subtype,aclass,asset,wallet,amount,fee,balance,amountusd",
    "subclass": "txid,refid,time,type,subtype,aclass,subclass,asset,wallet,amount,fee,balance",
    "usd columns": "txid,refid,time,type,subtype,aclass,subclass,asset,wallet,amount,fee,balance,amountusd,"
    "feeusd,balanceusd,feecurrency",
}
TRADE_HEADERS = {
    "original": "txid,ordertxid,pair,time,type,ordertype,price,cost,fee,vol,margin,misc,ledgers",
    "positions": "txid,ordertxid,pair,time,type,ordertype,price,cost,fee,vol,margin,misc,ledgers,postxid,"
    "posstatus,cprice,ccost,cfee,cvol,cmargin,net,trades",
    "aclass": "txid,ordertxid,pair,aclass,subclass,time,type,ordertype,price,cost,fee,vol,margin,misc,"
    "ledgers,posttxid,posstatuscode,cprice,ccost,cfee,cvol,cmargin,net,costusd,trades",
}
LEDGER_HEADER = ",".join(f'"{c}"' for c in LEDGER_HEADERS["subclass"].split(","))
TRADE_HEADER = ",".join(f'"{c}"' for c in TRADE_HEADERS["original"].split(","))
# docs.kraken.com "Get Ledgers Info" / "Get Trades History" response examples, as export lines.
DOC_LEDGERS = {
    "L4UESK-KG3EQ-UFO4T5": {"refid": "TJKLXX-PGMUI-4NTLXU", "time": "1688464484.1787", "type": "trade",
                            "asset": "ZGBP", "amount": "-24.5000", "fee": "0.0490", "balance": "459567.9171"},
    "LMKZCZ-Z3GVL-CXKK4H": {"refid": "TBZIP2-F6QOU-TMB6FY", "time": "1688444262.8888", "type": "trade",
                            "asset": "ZUSD", "amount": "0.9852", "fee": "0.0010", "balance": "52732.1132"},
}  # fmt: skip
DOC_TRADES = {
    "THVRQM-33VKH-UCI7BS": {"ordertxid": "OQCLML-BW3P3-BUCMWZ", "pair": "XXBTZUSD", "time": "1688667796.8802",
                            "type": "buy", "ordertype": "limit", "price": "30010.00000", "cost": "600.20000",
                            "fee": "0.00000", "vol": "0.02000000", "margin": "0.00000", "misc": ""},
    "TCWJEG-FL4SZ-3FKGH6": {"ordertxid": "OQCLML-BW3P3-BUCMWZ", "pair": "XXBTZUSD", "time": "1688667769.6396",
                            "type": "sell", "ordertype": "limit", "price": "30010.00000", "cost": "300.10000",
                            "fee": "0.78026", "vol": "0.01000000", "margin": "0.00000", "misc": ""},
}  # fmt: skip
EARLY = datetime(2020, 1, 1, tzinfo=UTC)


def export_time(seconds: str) -> str:
    whole, _, fraction = seconds.partition(".")
    return f"{datetime.fromtimestamp(int(whole), UTC):%Y-%m-%d %H:%M:%S}.{fraction}"


def doc_ledger_lines() -> list[str]:
    return [
        f'"{txid}","{e["refid"]}","{export_time(e["time"])}","{e["type"]}","","currency","fiat","{e["asset"]}",'
        f'"spot / main",{e["amount"]},{e["fee"]},{e["balance"]}'
        for txid, e in DOC_LEDGERS.items()
    ]


def doc_trade_lines() -> list[str]:
    return [
        f'"{txid}","{t["ordertxid"]}","{t["pair"]}","{export_time(t["time"])}","{t["type"]}","{t["ordertype"]}",'
        f'{t["price"]},{t["cost"]},{t["fee"]},{t["vol"]},{t["margin"]},"{t["misc"]}","L1,L2"'
        for txid, t in DOC_TRADES.items()
    ]


def ledger_line(txid: str, refid: str, time: str, kind: str, asset: str, numbers: str) -> str:
    """A ledgers.csv line as Kraken writes it: texts quoted, amount, fee and balance bare."""
    subclass = "fiat" if asset.startswith("Z") else "crypto"
    return (
        f'"{txid}","{refid}","{time}","{kind}","","currency","{subclass}","{asset}","spot / main",{numbers}'
    )


def parse(tmp_path: Path, lines: list[str], context: ParseContext | None = None) -> list[Record | Rejection]:
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    csv_file = read_csv(path, lambda header: identify(header, KRAKEN) is not None, "kraken")
    chosen = identify(csv_file.header, KRAKEN)
    assert chosen is not None
    return list(chosen.parse(csv_file.rows, context or ParseContext()))


def api_client() -> ccxt.kraken:
    client = ccxt.kraken()
    client.number = str  # as build_client makes every client: amounts stay strings
    return client


def without_import_fields(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("account_id", "exchange", "imported_at")}


@pytest.mark.parametrize("version", LEDGER_HEADERS)
def test_every_ledgers_header_version_is_recognised(version):
    header = LEDGER_HEADERS[version].split(",")
    assert identify(header, KRAKEN).name == "kraken-ledgers"
    assert identify([f'"{c.upper()}"' for c in header], KRAKEN).name == "kraken-ledgers"


@pytest.mark.parametrize("version", TRADE_HEADERS)
def test_every_trades_header_version_is_recognised(version):
    assert identify(TRADE_HEADERS[version].split(","), KRAKEN).name == "kraken-trades"


def test_a_file_of_another_kind_is_neither():
    assert identify("txid,refid,time,type,asset,amount".split(","), KRAKEN) is None  # no fee column
    assert identify("Date(UTC),Pair,Side,Price,Executed,Amount,Fee".split(","), KRAKEN) is None


def test_ledger_lines_are_the_rows_the_api_import_stores(tmp_path):
    """Each line equals ccxt's parse of the documented Ledgers entry, through the API's row code."""
    records = parse(tmp_path, [LEDGER_HEADER, *doc_ledger_lines()])
    client = api_client()
    for record in records:
        assert isinstance(record, Record) and record.table == "ledger" and record.native_id
        txid = record.values["ledger_id"]
        answer = json.loads(json.dumps(DOC_LEDGERS[txid] | {"subtype": "", "aclass": "currency"}))
        answer["time"] = json.loads(DOC_LEDGERS[txid]["time"])  # a JSON number, as Kraken sends it
        api = ledger_row(client.parse_ledger_entry(answer | {"id": txid}), "a", "kraken", EARLY)
        assert record.values == without_import_fields(api)
    assert [r.values["currency"] for r in records] == ["GBP", "USD"]
    assert records[0].values["amount"] == Decimal("-24.5000")
    assert records[0].values["occurred_at"] == datetime(2023, 7, 4, 9, 54, 44, 178000, tzinfo=UTC)


def test_trade_lines_are_the_rows_the_api_import_stores(tmp_path):
    records = parse(tmp_path, [TRADE_HEADER, *doc_trade_lines()])
    client = api_client()
    for record in records:
        assert isinstance(record, Record) and record.table == "trades" and record.native_id
        txid = record.values["trade_id"]
        answer = DOC_TRADES[txid] | {"time": json.loads(DOC_TRADES[txid]["time"])}
        api = trade_row(client.parse_trade(answer | {"id": txid}), "a", "kraken", EARLY)
        same = ("trade_id", "order_id", "side", "price", "amount", "cost", "fee_cost", "traded_at")
        assert {k: record.values[k] for k in same} == {k: api[k] for k in same}
        # ccxt names the market and the fee's currency from the market list, which the file does
        # not need: XXBTZUSD is XBT/USD (docs.kraken.com "Get Tradable Asset Pairs").
        assert (record.values["symbol"], record.values["fee_currency"]) == ("BTC/USD", "USD")
    assert [r.values["side"] for r in records] == ["buy", "sell"]
    assert records[1].values["fee_cost"] == Decimal("0.78026")


@pytest.mark.parametrize(
    "native", ["XXBT", "XBT", "XXDG", "XDG", "ZUSD", "ZEUR", "XETH", "XXRP", "USDT", "SOL", "DOT.S",
               "XBT.M", "ETH2.S", "LUNA", "XXMR", "ZJPY"]
)  # fmt: skip
def test_asset_ids_become_ccxts_codes(native):
    assert kraken_names.currency(native, ParseContext()) == ccxt.kraken().safe_currency_code(native)


@pytest.mark.parametrize(
    ("pair", "symbol"),
    [("XXBTZUSD", "BTC/USD"), ("XETHXXBT", "ETH/BTC"), ("XXDGZEUR", "DOGE/EUR"), ("SOLUSD", "SOL/USD"),
     ("XBTUSDT", "BTC/USDT"), ("XDGUSD", "DOGE/USD"), ("USDCUSDT", "USDC/USDT"), ("XBT/EUR", "BTC/EUR"),
     ("DOTEUR", "DOT/EUR"), ("USDTZUSD", "USDT/USD"), ("XTZEUR", "XTZ/EUR"), ("ZEURZUSD", "EUR/USD"),
     ("XTZETH", "XTZ/ETH"), ("1INCHEUR", "1INCH/EUR")],
)  # fmt: skip
def test_pair_ids_become_unified_symbols(pair, symbol):
    assert kraken_names.symbol(pair, ParseContext()) == symbol


def test_the_stored_market_list_names_pairs_first(tmp_path):
    """A pair the fallback would split wrongly (or not at all) is named by the stored list."""
    context = ParseContext(symbol={"1INCHEUR": "1INCH/EUR", "XTZETH": "XTZ/ETH", "BABYXBT": None}.get)
    line = '"T1","O1","{}","2024-05-01 10:00:00.0001","buy","limit",1.0,1.0,0.0,1.0,0.0,"",""'
    records = parse(tmp_path, [TRADE_HEADER, line.format("1INCHEUR"), line.format("WEIRDPAIR")], context)
    assert records[0].values["symbol"] == "1INCH/EUR"
    assert isinstance(records[1], Rejection) and records[1].reason == "unknown_market"


def test_times_keep_their_sub_second_digits_and_older_whole_seconds(tmp_path):
    lines = [
        LEDGER_HEADER,
        ledger_line("L1", "R1", "2024-03-14 15:14:08.3052", "deposit", "XXBT", "1.0,0,1.0"),
        ledger_line("L2", "R2", "2024-03-14 15:14:08.3059", "staking", "DOT.S", "2.5,0,2.5"),
        ledger_line("L3", "R3", "2018-01-12 18:25:01", "withdrawal", "ZEUR", "-5.0,0.09,0"),
    ]
    times = [r.values["occurred_at"] for r in parse(tmp_path, lines)]
    assert times == [
        datetime(2024, 3, 14, 15, 14, 8, 305000, tzinfo=UTC),
        datetime(2024, 3, 14, 15, 14, 8, 305000, tzinfo=UTC),  # same millisecond: the ids tell them apart
        datetime(2018, 1, 12, 18, 25, 1, tzinfo=UTC),
    ]


def test_lines_that_cannot_be_rows_are_rejected_with_a_reason(tmp_path):
    lines = [
        LEDGER_HEADER,
        ledger_line("L1", "R1", "2024-03-14 15:14:08.3052", "trade", "XXBT", "0,0,1.0"),
        ledger_line("L2", "R2", "2024-03-14 15:14:09", "spaceship", "XXBT", "1.0,0,2.0"),
        ledger_line("L3", "R3", "14/03/2024 15:14", "deposit", "XXBT", "1.0,0,3.0"),
        ledger_line("L4", "R4", "2024-03-14 15:14:10", "deposit", "XXBT", "1.0.0,0,3.0"),
        ledger_line("L5", "R5", "2024-03-14 15:14:11", "deposit", "XXBT", "1.0,0,3.0"),
    ]
    out = parse(tmp_path, lines)
    assert [(r.line, r.reason) for r in out if isinstance(r, Rejection)] == [
        (2, "not_a_balance_change"),
        (3, "unknown_operation"),
        (4, "bad_time"),
        (5, "bad_amount"),
    ]
    assert [r.values["ledger_id"] for r in out if isinstance(r, Record)] == ["L5"]


def test_a_ledger_file_alone_restores_transfers_and_keeps_rejects(warehouse, tmp_path):
    """Deposits and withdrawals come from the ledger's entries, a refunded withdrawal as failed;
    re-importing stores nothing new; every rejected line is kept with its number and reason."""
    lines = [
        LEDGER_HEADER,
        ledger_line(
            "LD1",
            "FTdep01-aaaa",
            "2024-02-01 08:00:00.0000",
            "deposit",
            "XXBT",
            "0.5000000000,0.0000000000,0.5000000000",
        ),
        ledger_line(
            "LW1",
            "FTwd001-bbbb",
            "2024-02-03 09:00:00.0000",
            "withdrawal",
            "XXBT",
            "-0.1000000000,0.0001500000,0.3998500000",
        ),
        ledger_line(
            "LW2",
            "FTwd002-cccc",
            "2024-02-04 09:00:00.0000",
            "withdrawal",
            "XXBT",
            "-0.2000000000,0.0001500000,0.1997000000",
        ),
        # the refund of a failed withdrawal: a positive withdrawal entry with its refid
        ledger_line(
            "LR2",
            "FTwd002-cccc",
            "2024-02-04 10:00:00.0000",
            "withdrawal",
            "XXBT",
            "0.2001500000,0.0000000000,0.3998500000",
        ),
        ledger_line("LX1", "RX1", "2024-02-05 10:00:00.0000", "spaceship", "XXBT", "1,0,1"),
    ]
    path = tmp_path / "ledgers.csv"
    path.write_text("\n".join(lines) + "\n")
    config = account_config("kr-ledger", "kraken", history_start=EARLY)
    report = import_csv(warehouse, config, path)
    assert (report.format, report.stored["ledger"], report.rejected) == (
        "kraken-ledgers",
        4,
        {"unknown_operation": 1},
    )
    stored = {(r["kind"], r["transfer_id"]): r for r in warehouse.rows(transfers, "kr-ledger")}
    assert {k: (r["currency"], r["amount"], r["fee"], r["status"]) for k, r in stored.items()} == {
        ("deposit", "FTdep01-aaaa"): ("BTC", Decimal("0.5"), Decimal("0"), "ok"),
        ("withdrawal", "FTwd001-bbbb"): ("BTC", Decimal("0.1"), Decimal("0.00015"), "ok"),
        ("withdrawal", "FTwd002-cccc"): ("BTC", Decimal("0.2"), Decimal("0.00015"), "failed"),
    }
    assert {r["source"].split(":")[0] for r in warehouse.rows(ledger, "kr-ledger")} == {"csv"}
    rejects = warehouse.rows(csv_rejects, "kr-ledger")
    assert [(r["line"], r["reason"]) for r in rejects] == [(6, "unknown_operation")]
    again = import_csv(warehouse, config, path)
    assert sum(again.stored.values()) == 0 and again.unchanged == 4
    assert warehouse.rows(trades, "kr-ledger") == []


@pytest.mark.parametrize("exchange", ["kraken"])
def test_every_simulated_pair_and_asset_is_named_as_the_stored_market_list_names_it(
    make_sim_account, connect, warehouse, tmp_path
):
    """The format's own names (used when no API import stored Kraken's market list) agree with
    ccxt's market list for every pair and asset Kraken lists; with the list, the exports of an
    account the API imported are all its rows already."""
    account = make_sim_account(trades=40, symbols=2, deposits=4, withdrawals=2, days=60)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id, "kraken")
    run_account_import(config, warehouse)
    m = market_lists.c
    with warehouse.engine.connect() as conn:
        stored = conn.execute(select(m.markets, m.currencies).where(m.exchange == "kraken")).one()
    markets, currencies = json.loads(stored.markets), json.loads(stored.currencies)
    assert len(markets) > 300
    bare = ParseContext()
    assert {market["id"]: kraken_names.symbol(market["id"], bare) for market in markets.values()} == {
        market["id"]: symbol for symbol, market in markets.items()
    }
    assert {c["id"]: kraken_names.currency(c["id"], bare) for c in currencies.values()} == {
        c["id"]: code for code, c in currencies.items()
    }
    context = context_for(warehouse, "kraken")
    for name in ("ledgers.csv", "trades.csv"):
        path = tmp_path / name
        path.write_bytes(account.simulator.export(account.id, name))
        report = import_csv(warehouse, config, path, context=context)
        assert sum(report.stored.values()) == 0 and set(report.rejected) == {"duplicate_of_api"}, (
            report.summary()
        )


@pytest.mark.parametrize("exchange", ["kraken"])
def test_a_closed_account_with_every_transfer_outcome(make_sim_account, simulator, warehouse, tmp_path):
    """Failed and canceled withdrawals (refunded in the ledger) come back failed, as ccxt calls
    Kraken's Failure; what the ledger cannot show (a deposit not credited yet, a withdrawal still
    pending) is named by the ground truth as unexported, and the rest is the whole history."""
    account = make_sim_account()  # 40 deposits, 20 withdrawals: pending, failed and canceled ones
    simulator.set_account_status(account.id, "closed")
    config = account_config(account.id, "kraken")
    for name in ("ledgers.csv", "trades.csv"):
        path = tmp_path / name
        path.write_bytes(simulator.export(account.id, name))
        report = import_csv(warehouse, config, path)
        assert report.rejected == {}, report.summary()
    history = account.history()
    assert_whole_history_matches(warehouse, account.id, history)
    withdrawals = {w["id"]: w["status"] for w in history["withdrawals"]}
    assert {"pending", "failed"} <= set(withdrawals.values())
    assert history["unexported"]["withdrawals"] == [i for i, s in withdrawals.items() if s == "pending"]
    stored = {r["transfer_id"]: r["status"] for r in warehouse.rows(transfers, account.id)}
    assert {i: stored[i] for i, s in withdrawals.items() if s == "failed"} == {
        i: "failed" for i, s in withdrawals.items() if s == "failed"
    }


def test_a_tab_separated_export_reads_like_the_csv(tmp_path):
    """Kraken's export (and its AddExport API) offers TSV as well as CSV."""
    lines = [LEDGER_HEADER, *doc_ledger_lines()]
    as_csv = parse(tmp_path, lines)
    as_tsv = parse(tmp_path, [line.replace('","', '"\t"').replace(",", "\t") for line in lines])
    assert [r.values for r in as_tsv] == [r.values for r in as_csv] and len(as_csv) == 2

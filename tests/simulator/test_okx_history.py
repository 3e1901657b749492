"""Balances, fills, bills, deposits and withdrawals through ccxt's real okx class equal the
simulator's ground truth, paging as OKX pages (100 per call, newest first, `after` = billId), and
only within each endpoint's window (fills-history and bills-archive 90 days, fills 3, bills 7)."""

from __future__ import annotations

import math
import time
from decimal import Decimal

import ccxt
import pytest

from tests.simulator.conftest import ccxt_trade_facts, ledger_balances, truth_balances, truth_trade_facts

DAY = 86_400_000
PAGE = 100


@pytest.fixture(scope="module")
def frank_history(simulator):
    return simulator.history("frank")


def _since(days: int) -> int:
    return int(time.time() * 1000) - days * DAY


def _walk(fetch, id_field: str) -> tuple[list, int]:
    """Every page, following `after` = the oldest record's billId; returns (records, calls)."""
    fetched, calls, after = [], 0, None
    while True:
        page = fetch(params={} if after is None else {"after": after})
        calls += 1
        fetched += page
        if len(page) < PAGE:
            return fetched, calls
        after = min(int(r["info"][id_field]) for r in page)


def test_frank_is_a_year_on_okx(frank_history, simulator):
    trades = frank_history["trades"]
    assert 300 <= len(trades) <= 500 and len({t["symbol"] for t in trades}) >= 5
    assert trades[-1]["timestamp"] - trades[0]["timestamp"] > 300 * DAY
    assert ledger_balances(frank_history, net=True) == truth_balances(frank_history)
    for t in trades:
        base, quote = t["symbol"].split("/")
        assert t["fee_currency"] == (base if t["side"] == "buy" else quote), "fee in the asset received"
        assert Decimal(t["cost"]) == Decimal(t["price"]) * Decimal(t["amount"]), "ccxt's cost is exact"
        assert t["market_id"] == f"{base}-{quote}"
    assert simulator.exchanges()["okx"]["retention_days"] == {"trades": 90, "ledger": 90}


def test_fetch_balance_matches_ground_truth(okx, new_key, frank_history):
    balance = okx(new_key("frank")).fetch_balance()
    reported = {code: Decimal(balance[code]["total"]) for code in balance["total"]}
    assert {c: v for c, v in reported.items() if v} == truth_balances(frank_history)
    for asset, parts in frank_history["balances"].items():
        assert (Decimal(balance[asset]["free"]), Decimal(balance[asset]["used"])) == (
            Decimal(parts["free"]),
            Decimal(parts["locked"]),
        )


def test_fills_history_pages_the_last_90_days_only(okx, new_key, frank_history, simulator):
    exchange = okx(new_key("frank"))
    recent = [t for t in frank_history["trades"] if t["timestamp"] >= _since(90) + 60_000]
    older = [t for t in frank_history["trades"] if t["timestamp"] < _since(90) - 60_000]
    assert recent and older, "frank has trades on both sides of the window"
    seq = simulator.last_seq()
    fetched, calls = _walk(exchange.fetch_my_trades, "billId")
    served = {t["id"] for t in fetched}
    assert {t["id"] for t in recent} <= served and not served & {t["id"] for t in older}
    truth = {t["id"]: t for t in frank_history["trades"]}
    assert sorted(ccxt_trade_facts(t) for t in fetched) == sorted(
        truth_trade_facts(truth[t["id"]]) for t in fetched
    )
    assert all(t["takerOrMaker"] == ("maker" if truth[t["id"]]["is_maker"] else "taker") for t in fetched)
    assert calls == math.ceil((len(fetched) + 1) / PAGE)
    logged = simulator.requests_since(seq)["requests"]
    assert {(r["path"], r["account"], r["status"]) for r in logged} == {
        ("/okx/api/v5/trade/fills-history", "frank", 200)
    }
    # An `after` cursor older than the window finds nothing, though the ground truth has it.
    assert exchange.fetch_my_trades(params={"after": "500000000000000000"}) == []
    # ccxt's own pagination (limit=1000, served as 100, then by `end`) reaches the same window.
    paginated = exchange.fetch_my_trades(params={"paginate": True})
    assert sorted(t["id"] for t in paginated) == sorted(served)


def test_fills_answer_like_okx(okx, new_key, frank_history):
    exchange = okx(new_key("frank"))
    raw = exchange.private_get_trade_fills_history({"instType": "SPOT", "limit": 5})["data"]
    assert len(raw) == 5
    bills = [int(f["billId"]) for f in raw]
    assert bills == sorted(bills, reverse=True), "newest first"
    newest = [t["id"] for t in reversed(frank_history["trades"])][:5]
    assert [f["tradeId"] for f in raw] == newest
    fill = raw[0]
    assert fill["fee"].startswith("-") and fill["execType"] in ("T", "M") and fill["instType"] == "SPOT"
    fills = exchange.private_get_trade_fills_history
    newer = fills({"instType": "SPOT", "before": raw[-1]["billId"]})["data"]
    assert [f["billId"] for f in newer] == [f["billId"] for f in raw[:-1]], "newer than `before`"
    ascending = sorted(int(f["billId"]) for f in fills({"instType": "SPOT"})["data"])
    closest = fills({"instType": "SPOT", "before": ascending[10], "limit": 3})["data"]
    assert [int(f["billId"]) for f in closest] == ascending[13:10:-1], "the 3 just newer, newest first"
    between = fills({"instType": "SPOT", "after": ascending[20], "before": ascending[10]})["data"]
    assert [int(f["billId"]) for f in between] == ascending[19:10:-1]
    symbol_only = exchange.fetch_my_trades("BTC/USDT")
    assert symbol_only and {t["symbol"] for t in symbol_only} == {"BTC/USDT"}
    capped = exchange.private_get_trade_fills_history({"instType": "SPOT", "limit": 1000})["data"]
    assert len(capped) == PAGE, "more than 100 is served as 100"
    with pytest.raises(ccxt.BadRequest, match="51000"):
        exchange.private_get_trade_fills_history({"instType": "SPOT", "limit": 0})
    missing = exchange.private_get_trade_fills_history  # instType is required
    with pytest.raises(ccxt.BadRequest, match="50014"):
        missing({})
    three_days = exchange.private_get_trade_fills({"limit": 100})["data"]
    assert all(int(f["ts"]) >= _since(3) - 60_000 for f in three_days)
    assert len(three_days) == sum(1 for t in frank_history["trades"] if t["timestamp"] >= _since(3))


def test_bills_archive_pages_the_last_90_days(okx, new_key, frank_history):
    exchange = okx(new_key("frank"), fetchLedger={"method": "privateGetAccountBillsArchive"})
    fetched, calls = _walk(exchange.fetch_ledger, "billId")
    truth = {e["id"]: e for e in frank_history["ledger"]}
    recent = {e["id"] for e in frank_history["ledger"] if e["timestamp"] >= _since(90) + 60_000}
    older = {e["id"] for e in frank_history["ledger"] if e["timestamp"] < _since(90) - 60_000}
    served = {e["id"] for e in fetched}
    assert recent <= served and not served & older and older
    assert calls == math.ceil((len(fetched) + 1) / PAGE)
    for entry in fetched:
        want = truth[entry["id"]]
        assert (
            entry["referenceId"],
            entry["currency"],
            Decimal(entry["amount"]),
            Decimal(entry["fee"]["cost"]),
            Decimal(entry["after"]),
            entry["timestamp"],
            entry["info"]["type"],
        ) == (
            want["refid"],
            want["currency"],
            Decimal(want["amount"]),
            Decimal(want["fee"]),
            Decimal(want["balance"]),
            want["timestamp"],
            want["type"],
        )
    trade = next(t for t in reversed(frank_history["trades"]) if t["timestamp"] >= _since(90))
    legs = [e for e in frank_history["ledger"] if e["refid"] == trade["order_id"]]
    assert set(trade["symbol"].split("/")) <= {e["currency"] for e in legs}


def test_bills_last_7_days_and_filters(okx, new_key, frank_history):
    exchange = okx(new_key("frank"))
    week = exchange.private_get_account_bills({"limit": 100})["data"]
    assert len(week) == min(PAGE, sum(1 for e in frank_history["ledger"] if e["timestamp"] >= _since(7)))
    archive = exchange.private_get_account_bills_archive
    transfers = archive({"type": "1"})["data"]
    assert transfers and {b["type"] for b in transfers} == {"1"}
    assert {b["subType"] for b in transfers} <= {"11", "12"} and all(b["ordId"] == "" for b in transfers)
    usdt = archive({"ccy": "USDT"})["data"]
    assert usdt and {b["ccy"] for b in usdt} == {"USDT"}
    since = _since(30)
    window = archive({"begin": since, "limit": 100})["data"]
    assert all(int(b["ts"]) >= since for b in window)


def test_deposits_and_withdrawals_are_served_in_full(okx, new_key, frank_history):
    exchange = okx(new_key("frank"))
    for kind, fetch in (("deposits", exchange.fetch_deposits), ("withdrawals", exchange.fetch_withdrawals)):
        fetched, after = [], None
        while True:
            page = fetch(params={} if after is None else {"after": after})
            fetched += page
            if len(page) < PAGE:
                break
            after = min(t["timestamp"] for t in page)
        truth = {t["id"]: t for t in frank_history[kind]}
        assert sorted(t["id"] for t in fetched) == sorted(truth), kind
        for t in fetched:
            want = truth[t["id"]]
            assert (
                t["currency"],
                Decimal(t["amount"]),
                Decimal(str(t["fee"]["cost"])),
                t["txid"],
                t["address"],
                t["network"],
                t["status"],
                t["timestamp"],
            ) == (
                want["currency"],
                Decimal(want["amount"]),
                Decimal(want["fee"]),
                want["txid"],
                want["address"],
                want["network"],
                want["status"],
                want["timestamp"],
            ), t["id"]
    deposits = frank_history["deposits"]
    middle = deposits[len(deposits) // 2]["timestamp"]
    later = exchange.fetch_deposits(since=middle)
    assert (
        sorted(d["id"] for d in later) == sorted(d["id"] for d in deposits if d["timestamp"] >= middle)[:PAGE]
    )
    assert {w["network"] for w in frank_history["withdrawals"]} - {None}


def test_statuses_are_what_ccxt_makes_of_them():
    from exchange_sync.simulator.protocols.okx.render import STATES

    exchange = ccxt.okx()
    for kind, table in STATES.items():
        for native, word in table.values():
            raw = {"ccy": "BTC", "amt": "1", "state": native, "ts": "1"}
            raw["wdId" if kind == "withdrawal" else "depId"] = "1"
            assert exchange.parse_transaction(raw)["status"] == word, (kind, native)

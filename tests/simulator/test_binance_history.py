"""Balances, trades, deposits and withdrawals through ccxt equal the simulator's ground truth."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import ccxt
import pytest

from tests.simulator.conftest import ccxt_trade_facts, net_balances, truth_balances, truth_trade_facts

DAY = 86_400_000


@pytest.fixture(scope="module")
def alice_history(simulator):
    return simulator.history("alice")


def test_history_is_internally_consistent(alice_history):
    """Balances are the exact net of the history and never negative at any point in time."""
    assert net_balances(alice_history) == truth_balances(alice_history)
    assert len(alice_history["trades"]) == 3000
    assert len(alice_history["deposits"]) == 80
    assert len(alice_history["withdrawals"]) == 40


def test_every_traded_asset_is_discoverable(alice_history):
    """Every asset in a trade is in the final balances or in a deposit/withdrawal."""
    visible = set(alice_history["balances"])
    visible |= {d["currency"] for d in alice_history["deposits"]}
    visible |= {w["currency"] for w in alice_history["withdrawals"]}
    for trade in alice_history["trades"]:
        base, quote = trade["symbol"].split("/")
        assert {base, quote, trade["fee_currency"]} <= visible
    assert {t["fee_currency"] for t in alice_history["trades"]} >= {"BNB"}, "alice pays some fees in BNB"


def test_amounts_need_exact_decimals(alice_history):
    """Some amounts have 18+ significant digits: a float round trip would corrupt them."""
    amounts = [d["amount"] for d in alice_history["deposits"]]
    amounts += [b["free"] for b in alice_history["balances"].values()]
    corrupted = [a for a in amounts if Decimal(repr(float(a))) != Decimal(a)]
    assert corrupted, "expected amounts that do not survive a float"
    assert all("e" not in a.lower() for a in amounts)
    assert any(len(a.replace(".", "").lstrip("0")) >= 16 for a in amounts)


def test_ids_are_exchange_like(alice_history):
    trades = [t for t in alice_history["trades"] if t["market_id"] == "BTCUSDT"]
    ids = [int(t["id"]) for t in trades]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert any(b - a > 1 for a, b in itertools.pairwise(ids)), "ids are not contiguous"
    orders = {}
    for trade in alice_history["trades"]:
        orders.setdefault((trade["market_id"], trade["order_id"]), []).append(trade)
    multi = [fills for fills in orders.values() if len(fills) > 1]
    assert multi and all(len({f["timestamp"] for f in fills}) == 1 for fills in multi)
    assert all(d["id"].isdigit() and len(d["id"]) == 18 for d in alice_history["deposits"])
    assert all(len(w["id"]) == 32 and int(w["id"], 16) >= 0 for w in alice_history["withdrawals"])


def test_fetch_balance_matches_ground_truth(binance, new_key, alice_history):
    exchange = binance(new_key("alice"))
    balance = exchange.fetch_balance()
    reported = {
        code: Decimal(balance[code]["total"])
        for code in balance["total"]
        if Decimal(balance[code]["total"]) != 0
    }
    assert reported == truth_balances(alice_history)
    for asset, parts in alice_history["balances"].items():
        assert Decimal(balance[asset]["free"]) == Decimal(parts["free"])
        assert Decimal(balance[asset]["used"]) == Decimal(parts["locked"])
    info = balance["info"]
    assert info["accountType"] == "SPOT" and info["permissions"] == ["SPOT"]
    assert len(info["balances"]) > 500, "without omitZeroBalances every asset is listed"
    omitted = exchange.private_get_account({"omitZeroBalances": "true"})
    assert {b["asset"] for b in omitted["balances"]} == set(alice_history["balances"])


def test_fetch_my_trades_pages_with_from_id(binance, new_key, alice_history, simulator):
    exchange = binance(new_key("alice"))
    expected = [t for t in alice_history["trades"] if t["market_id"] == "BTCUSDT"]
    assert len(expected) > 1000, "paging needs more than one page"
    seq = simulator.last_seq()
    fetched, from_id = [], 0
    while True:
        page = exchange.fetch_my_trades("BTC/USDT", limit=1000, params={"fromId": from_id})
        fetched += page
        if len(page) < 1000:
            break
        from_id = int(page[-1]["id"]) + 1
    got = [ccxt_trade_facts(t) for t in fetched]
    want = [truth_trade_facts(t) for t in expected]
    assert got == want
    logged = simulator.requests_since(seq)["requests"]
    assert [r["path"] for r in logged] == ["/binance/api/v3/myTrades"] * math.ceil((len(expected) + 1) / 1000)
    assert {(r["account"], r["weight"], r["status"]) for r in logged} == {("alice", 20, 200)}


def test_my_trades_time_queries(binance, new_key, alice_history):
    exchange = binance(new_key("alice"))
    expected = [t for t in alice_history["trades"] if t["market_id"] == "BTCUSDT"]
    middle = expected[len(expected) // 2]["timestamp"]
    day = [t["id"] for t in expected if middle <= t["timestamp"] <= middle + DAY]
    window = exchange.private_get_mytrades(
        {"symbol": "BTCUSDT", "startTime": middle, "endTime": middle + DAY, "limit": 1000}
    )
    assert [str(t["id"]) for t in window] == day
    # Only startTime: the oldest trades from startTime; only endTime: the newest up to endTime.
    start_only = exchange.private_get_mytrades({"symbol": "BTCUSDT", "startTime": middle, "limit": 5})
    assert [str(t["id"]) for t in start_only] == [t["id"] for t in expected if t["timestamp"] >= middle][:5]
    end_only = exchange.private_get_mytrades({"symbol": "BTCUSDT", "endTime": middle, "limit": 5})
    assert [str(t["id"]) for t in end_only] == [t["id"] for t in expected if t["timestamp"] <= middle][-5:]
    recent = exchange.private_get_mytrades({"symbol": "BTCUSDT"})
    assert [str(t["id"]) for t in recent] == [t["id"] for t in expected][-500:]
    order = next(t for t in expected if sum(1 for u in expected if u["order_id"] == t["order_id"]) > 1)
    by_order = exchange.private_get_mytrades({"symbol": "BTCUSDT", "orderId": order["order_id"]})
    fills = [t["id"] for t in expected if t["order_id"] == order["order_id"]]
    assert [str(t["id"]) for t in by_order] == fills
    assert exchange.private_get_mytrades({"symbol": "LTCBTC"}) == []


def test_my_trades_parameter_errors(signed_get, new_key):
    key = new_key("alice")
    cases = [
        (
            {"symbol": "BTCUSDT", "startTime": 0, "endTime": DAY + 1},
            -1127,
            "More than 24 hours between startTime and endTime.",
        ),
        ({"symbol": "BTCUSDT", "limit": 1001}, -1130, "Data sent for parameter 'limit' is not valid."),
        (
            {"symbol": "BTCUSDT", "fromId": 1, "startTime": 0},
            -1128,
            "Combination of optional parameters invalid.",
        ),
        ({}, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
        ({"symbol": "NOPE"}, -1121, "Invalid symbol."),
        (
            {"symbol": "BTCUSDT", "limit": "ten"},
            -1100,
            "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
        ),
    ]
    for params, code, msg in cases:
        response = signed_get("/api/v3/myTrades", key, params)
        assert (response.status, response.json()) == (400, {"code": code, "msg": msg}), params


def test_my_trades_errors_map_to_ccxt_bad_request(binance, new_key):
    exchange = binance(new_key("alice"))
    with pytest.raises(ccxt.BadRequest, match="-1127"):
        exchange.fetch_my_trades("BTC/USDT", since=0, params={"until": 2 * DAY})
    with pytest.raises(ccxt.BadRequest, match="-1130"):
        exchange.fetch_my_trades("BTC/USDT", limit=1001)


def test_order_id_query_weighs_five(signed_get, new_key, simulator, alice_history):
    key = new_key("alice")
    trade = next(t for t in alice_history["trades"] if t["market_id"] == "ETHUSDT")
    seq = simulator.last_seq()
    response = signed_get("/api/v3/myTrades", key, {"symbol": "ETHUSDT", "orderId": trade["order_id"]})
    assert response.status == 200 and trade["id"] in [str(t["id"]) for t in response.json()]
    assert [r["weight"] for r in simulator.requests_since(seq)["requests"]] == [5]


def _windows(start: int, end: int, size: int = 90 * DAY) -> list[tuple[int, int]]:
    out = []
    while start < end:
        out.append((start, min(start + size, end)))
        start += size + 1
    return out


def test_deposits_and_withdrawals_by_window_and_offset(binance, new_key, alice_history, simulator):
    exchange = binance(new_key("alice"))
    first = min(d["timestamp"] for d in alice_history["deposits"])
    now = exchange.fetch_time()
    got_deposits, got_withdrawals = [], []
    for start, end in _windows(first, now):
        for method, sink in (
            (exchange.sapi_get_capital_deposit_hisrec, got_deposits),
            (exchange.sapi_get_capital_withdraw_history, got_withdrawals),
        ):
            offset = 0
            while True:
                page = method({"startTime": start, "endTime": end, "offset": offset, "limit": 7})
                times = [p.get("insertTime") or p["applyTime"] for p in page]
                assert times == sorted(times, reverse=True), "newest first"
                sink += page
                if len(page) < 7:
                    break
                offset += 7
    assert sorted(d["id"] for d in got_deposits) == sorted(d["id"] for d in alice_history["deposits"])
    assert sorted(w["id"] for w in got_withdrawals) == sorted(w["id"] for w in alice_history["withdrawals"])
    truth = {d["id"]: d for d in alice_history["deposits"]}
    for d in got_deposits:
        t = truth[d["id"]]
        assert (d["coin"], Decimal(d["amount"]), d["network"], d["insertTime"]) == (
            t["currency"],
            Decimal(t["amount"]),
            t["network"],
            t["timestamp"],
        )
    wtruth = {w["id"]: w for w in alice_history["withdrawals"]}
    for w in got_withdrawals:
        t = wtruth[w["id"]]
        assert (w["coin"], Decimal(w["amount"]), Decimal(w["transactionFee"])) == (
            t["currency"],
            Decimal(t["amount"]),
            Decimal(t["fee"]),
        )
        assert ("completeTime" in w) == (w["status"] == 6), "completed withdrawals say when"
        assert set(w) >= {
            "applyTime",
            "network",
            "transferType",
            "info",
            "confirmNo",
            "walletType",
            "txKey",
            "txId",
            "address",
            "status",
        }


def test_fetch_deposits_and_withdrawals_through_ccxt(binance, new_key, alice_history):
    exchange = binance(new_key("alice"))
    since = min(d["timestamp"] for d in alice_history["deposits"])
    deposits, withdrawals = [], []
    while since < exchange.milliseconds():
        deposits += exchange.fetch_deposits(since=since)  # ccxt asks for [since, since + 90 days]
        withdrawals += exchange.fetch_withdrawals(since=since)
        since += 90 * DAY + 1
    by_id = {d["id"]: d for d in alice_history["deposits"]}
    assert sorted(d["id"] for d in deposits) == sorted(by_id)
    for d in deposits:
        truth = by_id[d["id"]]
        assert (d["currency"], Decimal(d["amount"]), d["txid"], d["timestamp"], d["status"]) == (
            truth["currency"],
            Decimal(truth["amount"]),
            truth["txid"],
            truth["timestamp"],
            truth["status"],
        )
    by_wid = {w["id"]: w for w in alice_history["withdrawals"]}
    assert sorted(w["id"] for w in withdrawals) == sorted(by_wid)
    for w in withdrawals:
        truth = by_wid[w["id"]]
        assert (Decimal(w["amount"]), Decimal(w["fee"]["cost"]), w["timestamp"]) == (
            Decimal(truth["amount"]),
            Decimal(truth["fee"]),
            truth["timestamp"],
        )


def test_wallet_window_rules(binance, new_key, signed_get, alice_history):
    key = new_key("alice")
    exchange = binance(key)
    now = exchange.fetch_time()
    recent = [d["id"] for d in alice_history["deposits"] if d["timestamp"] >= now - 90 * DAY]
    assert sorted(d["id"] for d in exchange.sapi_get_capital_deposit_hisrec()) == sorted(recent)
    too_wide = signed_get(
        "/sapi/v1/capital/deposit/hisrec", key, {"startTime": now - 91 * DAY, "endTime": now}
    )
    assert (too_wide.status, too_wide.json()["code"]) == (400, -1127)
    start_only = signed_get("/sapi/v1/capital/withdraw/history", key, {"startTime": now - 200 * DAY})
    assert start_only.status == 400, "endTime defaults to now, making the window too wide"
    big = signed_get("/sapi/v1/capital/deposit/hisrec", key, {"limit": 1001})
    assert big.json() == {"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."}
    coin = alice_history["deposits"][-1]["currency"]
    only = exchange.sapi_get_capital_deposit_hisrec({"coin": coin})
    assert only and {d["coin"] for d in only} == {coin}


def test_statuses_are_what_ccxt_makes_of_them():
    """The ground truth's words come from a table; it must agree with ccxt's own mapping."""
    from exchange_sync.simulator.protocols.binance.wallet import STATUSES

    exchange = ccxt.binance()
    for kind, table in STATUSES.items():
        for native, word in table.values():
            assert exchange.parse_transaction_status_by_type(str(native), kind) == word, (kind, native)

"""Balances, trades, ledger, deposits and withdrawals through ccxt's real kraken class equal the
simulator's ground truth, paging as Kraken pages (50 per call, newest first, `ofs`)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from tests.simulator.conftest import ccxt_trade_facts, ledger_balances, truth_balances, truth_trade_facts

DAY = 86_400_000
PAGE = 50


@pytest.fixture(scope="module")
def dave_history(simulator):
    return simulator.history("dave")


def _all_pages(fetch, total: int) -> list:
    fetched = []
    for offset in range(0, total + PAGE, PAGE):
        page = fetch(params={"ofs": offset})
        fetched += page
        if len(page) < PAGE:
            break
    return fetched


def test_dave_is_a_year_on_kraken(dave_history):
    trades = dave_history["trades"]
    assert 300 <= len(trades) <= 500 and len({t["symbol"] for t in trades}) >= 5
    assert trades[-1]["timestamp"] - trades[0]["timestamp"] > 300 * DAY
    assert {e["type"] for e in dave_history["ledger"]} >= {"trade", "deposit", "withdrawal", "staking"}
    assert ledger_balances(dave_history) == truth_balances(dave_history)
    assert all(t["fee_currency"] == t["symbol"].split("/")[1] for t in trades), "Kraken charges the quote"


def test_fetch_balance_matches_ground_truth(kraken, new_key, dave_history):
    balance = kraken(new_key("dave")).fetch_balance()
    reported = {code: Decimal(balance[code]["total"]) for code in balance["total"]}
    assert {c: v for c, v in reported.items() if v} == truth_balances(dave_history)
    for asset, parts in dave_history["balances"].items():
        assert (Decimal(balance[asset]["free"]), Decimal(balance[asset]["used"])) == (
            Decimal(parts["free"]),
            Decimal(parts["locked"]),
        )
    assert set(balance["info"]["result"]) >= {"XXBT", "ZUSD", "SOL"}, "Kraken's own asset ids on the wire"


def test_fetch_my_trades_pages_with_ofs_to_the_full_ground_truth(kraken, new_key, dave_history, simulator):
    exchange = kraken(new_key("dave"))
    expected = dave_history["trades"]
    seq = simulator.last_seq()
    fetched = _all_pages(exchange.fetch_my_trades, len(expected))
    assert sorted(ccxt_trade_facts(t) for t in fetched) == sorted(truth_trade_facts(t) for t in expected)
    logged = simulator.requests_since(seq)["requests"]
    assert len(logged) == math.ceil((len(expected) + 1) / PAGE)
    assert {(r["path"], r["account"], r["weight"], r["status"]) for r in logged} == {
        ("/kraken/0/private/TradesHistory", "dave", 2, 200)
    }


def test_trades_history_answers_like_kraken(kraken, new_key, dave_history):
    exchange = kraken(new_key("dave"))
    first = exchange.private_post_tradeshistory()["result"]
    assert first["count"] == len(dave_history["trades"]) and len(first["trades"]) == PAGE
    ids = list(first["trades"])
    newest = [t["id"] for t in reversed(dave_history["trades"])][:PAGE]
    assert ids == newest, "most recent first"
    entry = first["trades"][ids[0]]
    assert set(entry) >= {
        "ordertxid",
        "pair",
        "time",
        "type",
        "ordertype",
        "price",
        "cost",
        "fee",
        "vol",
        "margin",
    }
    assert isinstance(entry["time"], float) and len(str(entry["time"]).split(".")[1]) >= 4
    # start/end as unix seconds (start exclusive, end inclusive) or as a trade's txid.
    middle = dave_history["trades"][len(dave_history["trades"]) // 2]
    seconds = middle["timestamp"] // 1000
    after = exchange.private_post_tradeshistory({"start": seconds})["result"]
    # Trade times have sub-millisecond digits, so "after second S" is every trade from S.000 on.
    assert after["count"] == sum(1 for t in dave_history["trades"] if t["timestamp"] >= seconds * 1000)
    assert (
        exchange.private_post_tradeshistory({"end": seconds})["result"]["count"]
        == len(dave_history["trades"]) - after["count"]
    )
    by_txid = exchange.private_post_tradeshistory({"start": middle["id"]})["result"]
    index = [t["id"] for t in dave_history["trades"]].index(middle["id"])
    assert by_txid["count"] == len(dave_history["trades"]) - index - 1
    until = exchange.private_post_tradeshistory({"end": middle["id"], "ofs": 0})["result"]
    assert until["count"] == index + 1 and next(iter(until["trades"])) == middle["id"]
    queried = exchange.private_post_querytrades({"txid": ",".join(ids[:3])})["result"]
    assert list(queried) == ids[:3]


def test_fetch_ledger_pages_to_the_full_ground_truth(kraken, new_key, dave_history):
    exchange = kraken(new_key("dave"))
    expected = dave_history["ledger"]
    fetched = _all_pages(exchange.fetch_ledger, len(expected))
    signed = {"in": 1, "out": -1}
    got = sorted(
        (
            e["id"],
            e["referenceId"],
            e["currency"],
            signed[e["direction"]] * Decimal(e["amount"]),
            Decimal(e["fee"]["cost"]),
            Decimal(e["after"]),
            e["timestamp"],
            e["info"]["type"],
        )
        for e in fetched
    )
    want = sorted(
        (
            e["id"],
            e["refid"],
            e["currency"],
            Decimal(e["amount"]),
            Decimal(e["fee"]),
            Decimal(e["balance"]),
            e["timestamp"],
            e["type"],
        )
        for e in expected
    )
    assert got == want
    trade = dave_history["trades"][0]
    legs = [e for e in expected if e["refid"] == trade["id"]]
    assert {e["currency"] for e in legs} == set(trade["symbol"].split("/")), (
        "one entry per asset, refid = txid"
    )


def test_ledger_filters_and_query_ledgers(kraken, new_key, dave_history):
    exchange = kraken(new_key("dave"))
    expected = dave_history["ledger"]
    deposits = [e for e in expected if e["type"] == "deposit"]
    answer = exchange.private_post_ledgers({"type": "deposit"})["result"]
    assert answer["count"] == len(deposits)
    assert list(answer["ledger"]) == [e["id"] for e in reversed(deposits)][:PAGE]
    btc = [e for e in expected if e["currency"] == "BTC"]
    assert exchange.private_post_ledgers({"asset": "XXBT"})["result"]["count"] == len(btc)
    assert exchange.private_post_ledgers({"asset": "XBT"})["result"]["count"] == len(btc)
    staking = exchange.fetch_ledger(params={"type": "staking"})
    assert staking and {e["type"] for e in staking} == {"staking"}
    wanted = [e["id"] for e in expected[:3]]
    assert [e["id"] for e in exchange.fetch_ledger_entries_by_ids(wanted)] == wanted
    entry = exchange.fetch_ledger_entry(expected[5]["id"])
    assert (entry["id"], entry["referenceId"]) == (expected[5]["id"], expected[5]["refid"])


def test_query_ledgers_answers_only_the_keys_own_account(
    kraken, new_key, new_account, simulator, dave_history
):
    """The same-account proof an importer can run with a new key: ask for an id the old key saw."""
    other = new_account("kraken")
    theirs = simulator.history(other)["ledger"][0]["id"]
    mine = dave_history["ledger"][0]["id"]
    exchange = kraken(new_key("dave"))
    assert [e["id"] for e in exchange.fetch_ledger_entries_by_ids([mine, theirs])] == [mine]
    assert exchange.fetch_ledger_entries_by_ids([theirs]) == []
    stranger = kraken(new_key(other))
    assert stranger.fetch_ledger_entries_by_ids([mine]) == []
    info = exchange.private_post_getapikeyinfo()["result"]
    assert info["iban"] == simulator.account("dave")["uid"] != simulator.account(other)["uid"]


def test_deposits_and_withdrawals_are_only_the_last_90_days(kraken, new_key, dave_history, simulator):
    exchange = kraken(new_key("dave"))
    now = exchange.fetch_time()
    recent = {
        kind: [t for t in dave_history[kind] if t["timestamp"] >= now - 90 * DAY]
        for kind in ("deposits", "withdrawals")
    }
    assert 0 < len(recent["deposits"]) < len(dave_history["deposits"]), "older deposits are out of reach"
    deposits = exchange.fetch_deposits(params={"limit": 1000})
    withdrawals = exchange.fetch_withdrawals()
    for fetched, kind in ((deposits, "deposits"), (withdrawals, "withdrawals")):
        truth = {t["id"]: t for t in recent[kind]}
        assert sorted(t["id"] for t in fetched) == sorted(truth)
        for t in fetched:
            want = truth[t["id"]]
            assert (
                t["currency"],
                Decimal(t["amount"]),
                Decimal(t["fee"]["cost"]),
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
            )
    # Without a cursor, at most `limit` (default 25) newest first; with one, pages and next_cursor.
    plain = exchange.private_post_depositstatus()["result"]
    assert len(plain) == min(25, len(recent["deposits"]))
    times = [d["time"] for d in plain]
    assert times == sorted(times, reverse=True)
    pages, cursor = [], "true"
    while cursor:
        answer = exchange.private_post_depositstatus({"cursor": cursor, "limit": 4})["result"]
        pages += answer["deposit"]
        cursor = answer.get("next_cursor")
    assert [d["refid"] for d in pages] == [
        d["refid"] for d in exchange.private_post_depositstatus({"limit": 1000})["result"]
    ]
    paginated = exchange.fetch_withdrawals(params={"paginate": True}, since=now - 90 * DAY)
    assert sorted(w["id"] for w in paginated) == sorted(t["id"] for t in recent["withdrawals"])


def test_the_ledger_holds_the_full_transfer_history(dave_history):
    """What DepositStatus no longer shows, the ledger does: every credited deposit, every withdrawal."""
    refids = {e["refid"] for e in dave_history["ledger"]}
    assert {d["id"] for d in dave_history["deposits"] if d["status"] == "ok"} <= refids
    assert {w["id"] for w in dave_history["withdrawals"]} <= refids
    assert not {d["id"] for d in dave_history["deposits"] if d["status"] == "pending"} & refids


def test_kraken_fiat_deposits_and_networks(dave_history):
    fiat = [d for d in dave_history["deposits"] if d["currency"] in ("USD", "EUR", "GBP")]
    assert fiat and all(d["network"] is None and d["address"] is None for d in fiat)
    assert all(d["network"] is None for d in dave_history["deposits"]), "DepositStatus names no network"
    assert {w["network"] for w in dave_history["withdrawals"]} & {"ERC20", "BTC", "SOL", "Arbitrum"}


def test_statuses_are_what_ccxt_makes_of_them():
    import ccxt

    from exchange_sync.simulator.protocols.kraken.render import STATUSES

    exchange = ccxt.kraken()
    for kind, table in STATUSES.items():
        for native, prop, word in table.values():
            raw = {"refid": "FTx", "asset": "XXBT", "amount": "1", "status": native, "time": 1, "type": kind}
            if prop is not None:
                raw["status-prop"] = prop
            assert exchange.parse_transaction(raw)["status"] == word, (kind, native, prop)

"""Balances, fills, the v2 transactions (the ledger) and the transfers in them, through ccxt's real
coinbase class, equal the simulator's ground truth field by field, paging as Coinbase pages
(fills: newest first with a cursor; v3 accounts: cursor; v2 lists: starting_after / ending_before)."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt
import pytest

from tests.simulator.conftest import ccxt_trade_facts, ledger_balances, truth_balances, truth_trade_facts

DAY = 86_400_000


@pytest.fixture(scope="module")
def erin_history(simulator):
    return simulator.history("erin")


def all_fills(exchange, **params) -> list:
    fetched, cursor = [], None
    while True:
        page = exchange.fetch_my_trades(
            limit=250, params={**params, **({"cursor": cursor} if cursor else {})}
        )
        fetched += page
        # ccxt puts the cursor on the answer's first fill (which its sort moves to the end)
        cursor = next((t["info"]["cursor"] for t in page if "cursor" in t["info"]), None)
        if not cursor:
            return fetched


def all_transactions(exchange, code: str) -> list:
    """Every ledger entry of one wallet through ccxt's fetch_ledger, paged by starting_after."""
    fetched, after = [], None
    while True:
        page = exchange.fetch_ledger(code, limit=100, params={"starting_after": after} if after else {})
        fetched += page
        after = next(
            (e["info"]["next_starting_after"] for e in page if "next_starting_after" in e["info"]), None
        )
        if not after:
            return fetched


def test_erin_is_a_year_on_coinbase(erin_history):
    trades = erin_history["trades"]
    assert 300 <= len(trades) <= 500 and len({t["symbol"] for t in trades}) >= 5
    assert trades[-1]["timestamp"] - trades[0]["timestamp"] > 300 * DAY
    assert {e["type"] for e in erin_history["ledger"]} >= {
        "advanced_trade_fill",
        "send",
        "fiat_deposit",
        "staking_reward",
    }
    assert ledger_balances(erin_history) == truth_balances(erin_history)
    assert all(t["fee_currency"] == t["symbol"].split("/")[1] for t in trades), "fees in the quote"
    assert all(e["refid"] is None and e["balance"] is None for e in erin_history["ledger"])


def test_fetch_balance_v3_and_v2_match_ground_truth(coinbase, new_key, erin_history):
    exchange = coinbase(new_key("erin"))
    v3 = exchange.fetch_balance({"v3": True})
    for asset, parts in erin_history["balances"].items():
        assert (Decimal(v3[asset]["free"]), Decimal(v3[asset]["used"])) == (
            Decimal(parts["free"]),
            Decimal(parts["locked"]),
        ), asset
    assert any(Decimal(p["locked"]) for p in erin_history["balances"].values()), "a hold shows as used"
    v2 = exchange.fetch_balance()  # ccxt's default: GET /v2/accounts, the total as free
    totals = {code: Decimal(v2[code]["total"]) for code in v2["total"] if v2[code]["total"] is not None}
    assert {c: v for c, v in totals.items() if v} == truth_balances(erin_history)


def test_v3_accounts_page_by_cursor(coinbase, new_key, erin_history):
    exchange = coinbase(new_key("erin"))
    seen, cursor = [], None
    while True:
        page = exchange.v3PrivateGetBrokerageAccounts({"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert page["size"] == len(page["accounts"]) <= 3
        seen += page["accounts"]
        if not page["has_next"]:
            assert page["cursor"] == ""
            break
        cursor = page["cursor"]
    currencies = [a["currency"] for a in seen]
    assert len(currencies) == len(set(currencies)) and set(erin_history["balances"]) <= set(currencies)
    assert len({a["uuid"] for a in seen}) == len(seen)
    one = seen[0]
    assert set(one) >= {"uuid", "name", "currency", "available_balance", "hold", "type", "active"}
    assert exchange.v3PrivateGetBrokerageAccounts({"limit": 999})["size"] == len(seen), "limit cut to 250"
    single = exchange.v3PrivateGetBrokerageAccountsAccountUuid({"account_uuid": one["uuid"]})["account"]
    assert single == one
    v2 = exchange.v2PrivateGetAccountsAccountId({"account_id": one["currency"]})["data"]
    assert (v2["id"], v2["currency"]["code"]) == (one["uuid"], one["currency"])
    with pytest.raises(ccxt.ExchangeError, match="NOT_FOUND"):
        exchange.v3PrivateGetBrokerageAccountsAccountUuid({"account_uuid": "nope"})
    with pytest.raises(ccxt.BadRequest):
        exchange.v3PrivateGetBrokerageAccounts({"cursor": "not-a-cursor"})


def test_fills_page_newest_first_to_the_full_ground_truth(coinbase, new_key, erin_history, simulator):
    exchange = coinbase(new_key("erin"))
    expected = erin_history["trades"]
    seq = simulator.last_seq()
    fetched = all_fills(exchange)
    assert len(simulator.requests_since(seq)["requests"]) == -(-len(expected) // 250)
    raw = exchange.v3PrivateGetBrokerageOrdersHistoricalFills({"limit": 1000})["fills"]
    assert [f["trade_id"] for f in raw] == [t["id"] for t in reversed(expected)], "newest first"
    truth = {t["id"]: t for t in expected}
    for trade in fetched:
        facts = truth[trade["id"]]
        assert ccxt_trade_facts(trade) == truth_trade_facts(facts)
        assert (trade["takerOrMaker"] == "maker") == facts["is_maker"]
        assert trade["info"]["product_id"] == facts["market_id"]
    assert {t["info"]["size_in_quote"] for t in fetched} == {True, False}, "market buys sized in quote"


def test_fills_answer_like_coinbase(coinbase, new_key, erin_history):
    exchange = coinbase(new_key("erin"))
    raw = exchange.v3PrivateGetBrokerageOrdersHistoricalFills()
    assert len(raw["fills"]) == 100 and raw["cursor"], "100 per page by default"
    fill = raw["fills"][0]
    assert set(fill) >= {
        "entry_id", "trade_id", "order_id", "trade_time", "trade_type", "price", "size", "commission",
        "product_id", "sequence_timestamp", "liquidity_indicator", "size_in_quote", "user_id", "side",
    }  # fmt: skip
    assert fill["trade_type"] == "FILL" and fill["side"] in ("BUY", "SELL") and len(fill["entry_id"]) == 64
    assert fill["liquidity_indicator"] in ("MAKER", "TAKER")
    last = exchange.v3PrivateGetBrokerageOrdersHistoricalFills({"limit": 1000})
    assert len(last["fills"]) == len(erin_history["trades"]) and last["cursor"] == ""


def test_fills_filter_by_product_and_time(coinbase, new_key, erin_history):
    exchange = coinbase(new_key("erin"))
    trades = erin_history["trades"]
    btc = [t for t in trades if t["symbol"] == "BTC/USD"]
    fetched = exchange.fetch_my_trades("BTC/USD", limit=1000)
    assert sorted(t["id"] for t in fetched) == sorted(t["id"] for t in btc)
    since, until = trades[100]["timestamp"], trades[200]["timestamp"]
    window = exchange.fetch_my_trades(since=since, limit=1000, params={"until": until})
    expected = [t["id"] for t in trades if since <= t["timestamp"] < until]
    assert sorted(t["id"] for t in window) == sorted(expected) and expected
    with pytest.raises(ccxt.BadRequest):
        exchange.v3PrivateGetBrokerageOrdersHistoricalFills({"start_sequence_timestamp": "yesterday"})
    order = trades[50]["order_id"]
    by_order = exchange.v3PrivateGetBrokerageOrdersHistoricalFills({"order_ids": order})["fills"]
    assert {f["trade_id"] for f in by_order} == {t["id"] for t in trades if t["order_id"] == order}
    by_id = exchange.v3PrivateGetBrokerageOrdersHistoricalFills({"trade_ids": trades[7]["id"]})["fills"]
    assert [f["trade_id"] for f in by_id] == [trades[7]["id"]]


def test_ledger_of_every_wallet_equals_ground_truth(coinbase, new_key, erin_history):
    exchange = coinbase(new_key("erin"))
    truth = erin_history["ledger"]
    for code in sorted({e["currency"] for e in truth}):
        expected = [e for e in truth if e["currency"] == code]
        fetched = {e["id"]: e for e in all_transactions(exchange, code)}  # ccxt sorts by time
        assert len(fetched) == len(expected), code
        for facts in expected:
            entry = fetched[facts["id"]]
            signed = Decimal(entry["amount"]) * (-1 if entry["direction"] == "out" else 1)
            fee = entry["fee"]["cost"] if entry["fee"] else None
            assert (entry["info"]["type"], entry["currency"], signed, entry["timestamp"]) == (
                facts["type"],
                facts["currency"],
                Decimal(facts["amount"]),
                facts["timestamp"],
            )
            assert (None if fee is None else Decimal(fee)) == (
                None if facts["fee"] is None else Decimal(facts["fee"])
            )
            assert (
                (entry["referenceId"], entry["after"]) == (facts["refid"], facts["balance"]) == (None, None)
            )


def test_transfers_parse_to_ground_truth(coinbase, new_key, erin_history):
    exchange = coinbase(new_key("erin"), preload=False)  # network names map through the currencies
    exchange.load_markets()
    infos = {}
    for code in sorted({t["currency"] for t in erin_history["deposits"] + erin_history["withdrawals"]}):
        infos |= {e["id"]: e["info"] for e in all_transactions(exchange, code)}
    checked = 0
    for facts in erin_history["deposits"] + erin_history["withdrawals"]:
        if facts["id"] not in infos:
            assert facts["status"] == "pending" and facts in erin_history["deposits"], "shown once credited"
            continue
        parsed = exchange.parse_transaction(infos[facts["id"]])
        fee = parsed["fee"]["cost"]
        assert {
            "id": parsed["id"],
            "currency": parsed["currency"],
            "amount": Decimal(parsed["amount"]),
            "fee": None if fee is None else Decimal(fee),
            "network": parsed["network"],
            "address": parsed["address"],
            "txid": parsed["txid"],
            "status": parsed["status"],
            "timestamp": parsed["timestamp"],
        } == facts | {
            "amount": Decimal(facts["amount"]),
            "fee": None if facts["fee"] is None else Decimal(facts["fee"]),
        }
        checked += 1
    assert checked >= 100
    statuses = {t["status"] for t in erin_history["withdrawals"]}
    assert statuses >= {"ok", "pending", "failed", "canceled"}
    networks = {t["network"] for t in erin_history["withdrawals"] if t["network"]}
    assert "ERC20" in networks or "BTC" in networks, networks


def test_crypto_withdrawals_through_fetch_withdrawals(coinbase, new_key, erin_history):
    exchange = coinbase(new_key("erin"), preload=False)
    exchange.load_markets()
    crypto = [w for w in erin_history["withdrawals"] if w["network"]]
    size = {
        c: sum(e["currency"] == c for e in erin_history["ledger"]) for c in {w["currency"] for w in crypto}
    }
    code = min(size, key=size.get)  # ccxt reads one page of the wallet's transactions: 100 at most
    assert size[code] <= 100
    expected = {w["id"] for w in crypto if w["currency"] == code}
    fetched = exchange.fetch_withdrawals(code, limit=100, params={"currencyType": "crypto"})
    sends = {w["id"] for w in fetched if w["info"]["type"] == "send"}
    assert sends == expected and all(w["type"] == "withdrawal" for w in fetched)
    # ccxt keeps every negative transaction of the wallet: sells' fills come along (its filter is
    # by the amount's sign).
    assert {w["info"]["type"] for w in fetched} <= {"send", "advanced_trade_fill", "fiat_withdrawal"}


@pytest.mark.parametrize("kind", ["deposits", "withdrawals"])
def test_fiat_transfers_through_fetch_deposits_and_withdrawals(coinbase, new_key, erin_history, kind):
    exchange = coinbase(new_key("erin"))
    fiat = [t for t in erin_history[kind] if t["network"] is None]
    fetch = exchange.fetch_deposits if kind == "deposits" else exchange.fetch_withdrawals
    checked = 0
    for code in sorted({t["currency"] for t in fiat}):
        fetched = fetch(code, limit=100)
        expected = [t for t in fiat if t["currency"] == code]
        assert len(fetched) == min(100, len(expected)), code
        truth = {t["id"]: t for t in expected}
        transactions = {e["id"]: e["info"] for e in all_transactions(exchange, code)}
        for parsed in fetched:
            assert parsed["type"] == kind[:-1] and parsed["id"] not in truth, "the resource's own id"
            link = parsed["info"]["transaction"]
            if link is None:  # a deposit not credited yet: no transaction (and no ledger entry)
                assert kind == "deposits" and parsed["status"] == "pending"
                continue
            facts = truth[link["id"]]
            own = transactions[link["id"]]
            assert own[own["type"]]["id"] == parsed["id"], "the transaction names its fiat resource"
            assert (parsed["currency"], Decimal(parsed["amount"]), parsed["status"]) == (
                facts["currency"],
                Decimal(facts["amount"]),
                facts["status"],
            )
            # The resource is dated when it was made; a deposit's transaction when it was credited.
            if kind == "deposits":
                assert parsed["timestamp"] <= facts["timestamp"]
            else:
                assert parsed["timestamp"] == facts["timestamp"]
            assert Decimal(parsed["fee"]["cost"]) == Decimal(facts["fee"] or 0)
            checked += 1
    assert checked >= 5


def test_v2_paging_directions_and_errors(coinbase, new_key, erin_history):
    exchange = coinbase(new_key("erin"))
    wallet = exchange.find_account_id("BTC")
    newest = exchange.v2PrivateGetAccountsAccountIdTransactions({"account_id": wallet})
    assert newest["pagination"]["limit"] == 25 and len(newest["data"]) == 25, "25 by default"
    assert newest["pagination"]["order"] == "desc" and newest["pagination"]["next_starting_after"]
    ids = [t["id"] for t in newest["data"]]
    oldest = exchange.v2PrivateGetAccountsAccountIdTransactions({"account_id": wallet, "order": "asc"})
    btc = [e["id"] for e in erin_history["ledger"] if e["currency"] == "BTC"]
    assert [t["id"] for t in oldest["data"]] == btc[:25] and ids == btc[::-1][:25]
    before = exchange.v2PrivateGetAccountsAccountIdTransactions(
        {"account_id": wallet, "ending_before": ids[10], "limit": 5}
    )
    assert [t["id"] for t in before["data"]] == ids[5:10]
    by_code = exchange.v2PrivateGetAccountsAccountIdTransactions({"account_id": "BTC", "limit": 100})
    assert len(by_code["data"]) == min(100, len(btc)), "a wallet may be named by its currency"
    with pytest.raises(ccxt.ExchangeError, match="not_found"):
        exchange.v2PrivateGetAccountsAccountIdTransactions(
            {"account_id": "00000000-0000-5000-8000-000000000000"}
        )
    with pytest.raises(ccxt.ExchangeError, match="invalid_request"):
        exchange.v2PrivateGetAccountsAccountIdTransactions({"account_id": wallet, "starting_after": "nope"})


def test_settled_withdrawal_changes_status_on_the_wire(coinbase, new_key, new_account, simulator):
    account = new_account("coinbase", trades=60, deposits=6, withdrawals=2, days=60)
    made = simulator.add_activity(account, pending_withdrawals=1)["withdrawals"][0]
    exchange = coinbase(new_key(account))

    def status() -> str:
        (entry,) = [e for e in all_transactions(exchange, made["currency"]) if e["id"] == made["id"]]
        return entry["info"]["status"]

    assert status() == "pending"
    simulator.settle_transfer(account, made["id"], "canceled")
    assert status() == "canceled"
    refund = max(all_transactions(exchange, made["currency"]), key=lambda e: e["timestamp"])
    assert (refund["info"]["type"], Decimal(refund["amount"]), refund["direction"]) == (
        "tx",
        Decimal(made["amount"]) + Decimal(made["fee"]),
        "in",
    )


def test_big_account_pages_quickly(simulator, coinbase, new_key):
    account_id = f"bigc{int(time.time() * 1000)}"
    started = time.monotonic()
    simulator.create_account(
        account_id, "coinbase", seed=1, trades=100_000, symbols=8, deposits=100, withdrawals=50, days=365
    )
    assert time.monotonic() - started < 20
    exchange = coinbase(new_key(account_id))
    started = time.monotonic()
    cursor, after = None, None
    for _ in range(10):
        fills = exchange.v3PrivateGetBrokerageOrdersHistoricalFills(
            {"limit": 250, **({"cursor": cursor} if cursor else {})}
        )
        assert len(fills["fills"]) == 250 and fills["cursor"]
        cursor = fills["cursor"]
        page = exchange.v2PrivateGetAccountsAccountIdTransactions(
            {"account_id": "USD", "limit": 100, **({"starting_after": after} if after else {})}
        )
        assert len(page["data"]) == 100
        after = page["pagination"]["next_starting_after"]
    assert (time.monotonic() - started) / 20 < 0.5

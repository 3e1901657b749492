"""Public Coinbase endpoints through ccxt: products, currencies, exchange rates, time; what ccxt's
load_markets calls; maintenance, server errors and the rate limits as Coinbase answers them."""

from __future__ import annotations

import time
from decimal import Decimal
from types import SimpleNamespace

import ccxt
import pytest
import requests

from exchange_sync.simulator.protocols.coinbase import codes

LOAD_MARKETS_PATHS = [
    "/coinbase/api/v3/brokerage/market/products",
    "/coinbase/api/v3/brokerage/market/products",  # product_type=FUTURE: none here
    "/coinbase/v2/currencies",
    "/coinbase/v2/currencies/crypto",
    "/coinbase/v2/exchange-rates",
]


def test_load_markets_calls_and_parses_coinbases_products(coinbase, simulator):
    exchange = coinbase(preload=False)
    seq = simulator.last_seq()
    markets = exchange.load_markets()
    assert sorted(r["path"] for r in simulator.requests_since(seq)["requests"]) == sorted(LOAD_MARKETS_PATHS)
    assert 300 <= len(markets) <= 700
    btc = markets["BTC/USD"]
    assert (btc["id"], btc["baseId"], btc["quoteId"], btc["type"], btc["spot"]) == (
        "BTC-USD",
        "BTC",
        "USD",
        "spot",
        True,
    )
    assert Decimal(str(btc["precision"]["price"])) == Decimal(btc["info"]["price_increment"])
    assert {m["quote"] for m in markets.values()} == {"USD", "USDC", "EUR", "GBP", "BTC", "USDT"}
    assert {"USDT/USD", "USDC/EUR", "ETH/BTC", "SOL/USDC"} <= set(markets)
    assert any(not m["active"] for m in markets.values()), "some products have trading disabled"
    assert not any(m["base"] in ("BNB", "FDUSD") for m in markets.values())
    currencies = exchange.currencies
    assert currencies["USD"]["type"] == "fiat" and currencies["BTC"]["type"] == "crypto"
    assert exchange.options["networksById"]["solana"] == "SOL", "crypto names map to their codes"


def test_logged_in_load_markets_reads_the_fee_tier(coinbase, new_key, new_account, simulator):
    exchange = coinbase(new_key(new_account("coinbase")), preload=False)
    seq = simulator.last_seq()
    markets = exchange.load_markets()
    paths = [r["path"] for r in simulator.requests_since(seq)["requests"]]
    assert "/coinbase/api/v3/brokerage/transaction_summary" in paths
    btc = markets["BTC/USD"]
    assert (Decimal(str(btc["taker"])), Decimal(str(btc["maker"]))) == (Decimal("0.006"), Decimal("0.004"))
    assert Decimal(str(markets["USDT/USD"]["taker"])) == Decimal("0.00001"), "ccxt's stable pairs"


def test_time_both_apis(coinbase, simulator):
    exchange = coinbase()
    assert abs(exchange.fetch_time() - time.time() * 1000) < 5000
    assert abs(exchange.fetch_time({"method": "v3PublicGetBrokerageTime"}) - time.time() * 1000) < 5000
    v3 = requests.get(f"{simulator.exchange_url('coinbase')}/api/v3/brokerage/time", timeout=10).json()
    assert set(v3) == {"iso", "epochSeconds", "epochMillis"}


def test_unknown_path_and_anonymous_private_call(simulator):
    missing = requests.get(f"{simulator.exchange_url('coinbase')}/api/v3/brokerage/nothing", timeout=10)
    assert (missing.status_code, missing.json()) == (
        404,
        {"errors": [{"id": "not_found", "message": "Not found"}]},
    )
    anonymous = requests.get(f"{simulator.exchange_url('coinbase')}/v2/accounts", timeout=10)
    assert (anonymous.status_code, anonymous.text.strip()) == (401, "Unauthorized")


def test_maintenance(coinbase, world_settings, new_account, new_key):
    exchange = coinbase(new_key(new_account("coinbase")))
    world_settings.set_maintenance(True)
    with pytest.raises(ccxt.ExchangeNotAvailable, match="maintenance"):
        exchange.fetch_balance({"v3": True})
    assert exchange.fetch_time() > 0, "time answers during maintenance"
    world_settings.set_maintenance(False)
    exchange.fetch_balance({"v3": True})


@pytest.mark.parametrize(
    ("status", "error", "match"),
    [
        (500, ccxt.ExchangeError, "internal_server_error"),
        (503, ccxt.ExchangeNotAvailable, "Service Unavailable"),
        (520, ccxt.ExchangeNotAvailable, "520"),
        (504, ccxt.RequestTimeout, None),
    ],
)
def test_server_errors(coinbase, world_settings, new_account, new_key, status, error, match):
    account = new_account("coinbase")
    exchange = coinbase(new_key(account))
    world_settings.add_fault("http_5xx", count=1, status=status, account=account)
    with pytest.raises(error, match=match):
        exchange.v3PrivateGetBrokerageKeyPermissions()


def test_real_rate_limits(coinbase, coinbase_get, world_settings, new_account, new_key, simulator):
    limits = {b["name"]: b for b in simulator.exchanges()["coinbase"]["rate_limits"]}
    assert (limits["ADVANCED_PRIVATE"]["limit"], limits["ADVANCED_PRIVATE"]["interval_ms"]) == (30, 1000)
    assert (limits["ADVANCED_PUBLIC"]["limit"], limits["ADVANCED_PUBLIC"]["scope"]) == (10, "ip")
    assert (limits["APP_PRIVATE"]["limit"], limits["APP_PRIVATE"]["interval_ms"]) == (10_000, 3_600_000)
    described = simulator.exchanges()["coinbase"]
    assert (described["prefix"], described["retention_days"], described["has_ledger"]) == (
        "/coinbase",
        {},
        True,
    )
    assert described["permissions"] == ["can_view", "can_trade", "can_transfer"]
    assert described["read_permissions"] == ["can_view"]
    assert (
        set(described["stream_permissions"].values()) == {"can_view"}
        and len(described["stream_permissions"]) == 5
    )
    assert described["settles"] == {"deposit": ["ok"], "withdrawal": ["ok", "failed", "canceled"]}
    assert described["costs"]["/v2/accounts/{account_id}/transactions"]["buckets"] == ["APP_PRIVATE"]
    key = new_key(new_account("coinbase"))
    world_settings.set_ratelimit(enabled=True)
    while int(time.time() * 1000) % 1000 > 400:  # a whole window for the burst
        time.sleep(0.05)
    answers = [coinbase_get("/api/v3/brokerage/key_permissions", key) for _ in range(31)]
    assert [a.status for a in answers[:30]] == [200] * 30
    assert answers[30].status == 429 and "rate_limit_exceeded" in answers[30].text
    assert int(answers[30].headers["Retry-After"]) >= 1
    assert coinbase_get("/v2/user", key).status == 200, "v2 has its own hourly budget"


def test_network_names_map_like_ccxt(coinbase):
    """codes.ccxt_network (the ground truth's network) is what ccxt's network_id_to_code makes of
    each network_name once load_markets has read the currencies."""
    exchange = coinbase(preload=False)
    exchange.load_markets()
    crypto = [SimpleNamespace(**c) for c in exchange.currencies.values() if c["type"] == "crypto"]
    for network, name in codes.NETWORK_NAMES.items():
        assert exchange.network_id_to_code(name) == codes.ccxt_network(name, crypto), network
    assert (
        exchange.network_id_to_code("ethereum") == "ERC20" and exchange.network_id_to_code("solana") == "SOL"
    )

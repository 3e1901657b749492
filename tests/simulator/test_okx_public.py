"""Public OKX endpoints through ccxt: instruments, time, status; currencies with a key; and the
chain names ccxt maps."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt
import pytest
import requests

from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.protocols.okx import codes


def test_load_markets_parses_an_okx_sized_spot_list(loaded_markets):
    markets, _ = loaded_markets("okx")
    assert 400 <= len(markets) <= 1000
    assert all(m["spot"] and m["type"] == "spot" for m in markets.values())
    quotes = [m["quote"] for m in markets.values()]
    assert set(quotes) <= {"USDT", "USDC", "BTC", "ETH", "EUR"} and quotes.count("USDT") / len(quotes) > 0.5
    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["baseId"], btc["quoteId"], btc["active"]) == ("BTC-USDT", "BTC", "USDT", True)
    info = btc["info"]
    assert info["instType"] == "SPOT" and info["state"] == "live"
    assert Decimal(str(btc["precision"]["price"])) == Decimal(info["tickSz"])
    assert Decimal(str(btc["precision"]["amount"])) == Decimal(info["lotSz"])
    assert Decimal(info["tickSz"]) * Decimal(info["lotSz"]) >= Decimal("1e-8"), "costs fit 8 decimals"
    assert markets["ETH/BTC"]["id"] == "ETH-BTC" and "USDC/USDT" in markets and "USDT/EUR" in markets
    assert any(not m["active"] and m["info"]["state"] == "suspend" for m in markets.values())
    assert not any(m["base"] in ("BNB", "FDUSD", "USD") for m in markets.values())


def test_instruments_filters_and_errors(simulator):
    base = f"{simulator.exchange_url('okx')}/api/v5/public/instruments"
    one = requests.get(base, params={"instType": "SPOT", "instId": "ETH-USDT"}, timeout=10).json()
    assert one["code"] == "0" and [i["instId"] for i in one["data"]] == ["ETH-USDT"]
    assert requests.get(base, params={"instType": "SWAP"}, timeout=10).json() == {
        "code": "0",
        "data": [],
        "msg": "",
    }
    missing = requests.get(base, timeout=10)
    assert (missing.status_code, missing.json()) == (
        400,
        {"code": "50014", "data": [], "msg": "Parameter instType can not be empty"},
    )
    with pytest.raises(ccxt.BadRequest, match="50014"):
        ccxt_public(simulator).public_get_public_instruments()


def ccxt_public(simulator) -> ccxt.okx:
    from exchange_sync.hooks.ccxt import rebase_urls

    exchange = ccxt.okx()
    exchange.urls["api"] = rebase_urls(exchange.urls["api"], simulator.exchange_url("okx"))
    return exchange


def test_time_and_status(okx, world_settings, new_account, new_key):
    exchange = okx()
    assert abs(exchange.fetch_time() - time.time() * 1000) < 5000
    assert exchange.fetch_status()["status"] == "ok"
    key = new_key(new_account("okx"))
    world_settings.set_maintenance(True)
    status = exchange.fetch_status()
    assert status["status"] == "maintenance" and status["info"]["data"][0]["state"] == "ongoing"
    assert exchange.fetch_time() > 0, "public/time answers during maintenance"
    with pytest.raises(ccxt.OnMaintenance, match="50001"):
        okx(key).fetch_balance()
    with pytest.raises(ccxt.OnMaintenance):
        okx(preload=False).load_markets()
    world_settings.set_maintenance(False)
    assert exchange.fetch_status()["status"] == "ok"


def test_currencies_load_with_a_key(okx, new_key):
    exchange = okx(new_key("frank"), preload=False)
    exchange.load_markets()
    usdt = exchange.currencies["USDT"]
    assert {"TRC20", "ERC20", "BEP20", "SOL"} <= set(usdt["networks"])
    assert usdt["networks"]["TRC20"]["id"] == "USDT-TRC20" and usdt["networks"]["TRC20"]["fee"] is not None
    assert exchange.currencies["ETH"]["networks"]["ARBITRUM"]["id"] == "ETH-Arbitrum One"


def test_chains_match_ccxts_own_table():
    """Every network the catalog knows maps to the network ccxt.okx's parse_transaction names."""
    exchange = ccxt.okx()
    networks = {n for asset in Catalog(7).assets.values() for n in asset.networks}
    for network in networks:
        chain = codes.chain("X", network)
        assert exchange.network_id_to_code(chain.split("-", 1)[1], "X") == codes.ccxt_network(network), (
            network
        )


def test_rate_limits_describe_okx(simulator):
    described = simulator.exchanges()["okx"]
    assert described["costs"]["/api/v5/trade/fills-history"]["buckets"] == ["UID_10_PER_2S"]
    fills = next(b for b in described["rate_limits"] if b["name"] == "UID_10_PER_2S")
    assert (fills["scope"], fills["per_route"], fills["interval_ms"], fills["limit"]) == (
        "account",
        True,
        2000,
        10,
    )


def test_per_endpoint_limit(okx_get, world_settings, new_account, new_key):
    key = new_key(new_account("okx"))
    world_settings.request("POST", "/_sim/ratelimit", {"enabled": True})
    statuses = []
    for _ in range(12):  # bills: 5 per second per user id
        answer = okx_get("account/bills", key)
        statuses.append(answer.status)
        if answer.status == 429:
            assert answer.json() == {"msg": "Too Many Requests", "code": "50011"}
            break
    assert statuses[-1] == 429 and 5 <= statuses.count(200) <= 10
    assert okx_get("account/balance", key).status == 200, "each endpoint has its own budget"

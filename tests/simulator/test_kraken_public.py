"""Public Kraken endpoints through ccxt: assets, pairs, time, status; and the codes ccxt maps."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt
import requests

from exchange_sync.simulator.protocols.kraken import codes


def test_load_markets_parses_a_kraken_sized_list(loaded_markets):
    markets, currencies = loaded_markets("kraken")
    assert 400 <= len(markets) <= 1000, "hundreds of pairs, not Binance's 2,000"
    quotes = [m["quote"] for m in markets.values()]
    assert sum(q in ("USD", "EUR", "USDT", "BTC", "ETH") for q in quotes) / len(quotes) > 0.8
    btc = markets["BTC/USD"]
    assert (btc["id"], btc["baseId"], btc["quoteId"], btc["altname"], btc["wsId"]) == (
        "XXBTZUSD",
        "BTC",
        "USD",
        "XBTUSD",
        "XBT/USD",
    )
    assert btc["info"]["base"] == "XXBT" and btc["info"]["quote"] == "ZUSD"
    assert markets["ETH/BTC"]["id"] == "XETHXXBT" and markets["DOGE/USD"]["id"] == "XDGUSD"
    assert markets["SOL/USD"]["id"] == "SOLUSD" and markets["BTC/USDT"]["id"] == "XBTUSDT"
    assert markets["ETH/USDT"]["id"] == "ETHUSDT" and markets["USDT/USD"]["info"]["altname"] == "USDTUSD"
    assert {"BTC", "ETH", "DOGE", "USD", "EUR", "USDT", "SOL", "DOT"} <= set(currencies)
    assert currencies["BTC"]["id"] == "XXBT" and currencies["DOGE"]["id"] == "XXDG"
    assert currencies["USD"]["id"] == "ZUSD" and currencies["SOL"]["id"] == "SOL"
    assert Decimal(str(currencies["USD"]["precision"])) == Decimal("0.0001")
    assert any(not m["active"] for m in markets.values()), "some pairs are cancel_only"
    assert not any(m["base"] in ("BNB", "FDUSD") for m in markets.values())


def test_asset_and_pair_filters(simulator):
    base = simulator.exchange_url("kraken")
    pairs = requests.get(f"{base}/0/public/AssetPairs", params={"pair": "XBTUSD,ETHUSDT"}, timeout=10).json()
    assert pairs["error"] == [] and list(pairs["result"]) == ["XXBTZUSD", "ETHUSDT"]
    bad = requests.get(f"{base}/0/public/AssetPairs", params={"pair": "NOPE"}, timeout=10)
    assert (bad.status_code, bad.json()) == (200, {"error": ["EQuery:Unknown asset pair"]})
    assets = requests.get(f"{base}/0/public/Assets", params={"asset": "XBT,ZEUR"}, timeout=10).json()
    assert assets["result"] == {
        "XXBT": {
            "aclass": "currency",
            "altname": "XBT",
            "decimals": 10,
            "display_decimals": 5,
            "collateral_value": 1.0,
            "status": "enabled",
        },
        "ZEUR": {
            "aclass": "currency",
            "altname": "EUR",
            "decimals": 4,
            "display_decimals": 2,
            "collateral_value": 1.0,
            "status": "enabled",
        },
    }
    unknown = requests.get(f"{base}/0/public/NoSuchThing", timeout=10)
    assert unknown.json() == {"error": ["EGeneral:Unknown method"]}


def test_time_and_status(kraken, simulator):
    exchange = kraken()
    assert abs(exchange.fetch_time() - time.time() * 1000) < 5000
    assert exchange.fetch_status()["status"] == "ok"
    answer = requests.get(f"{simulator.exchange_url('kraken')}/0/public/Time", timeout=10).json()
    assert set(answer["result"]) == {"unixtime", "rfc1123"}


def test_codes_match_ccxts_own_tables():
    """The ground truth's unified codes and networks are exactly ccxt's (commonCurrencies and
    options["withdrawMethods"] of its kraken class)."""
    exchange = ccxt.kraken()
    for code, (asset_id, altname) in codes.LEGACY_ASSETS.items():
        assert exchange.safe_currency_code(asset_id) == code, asset_id
        assert exchange.safe_currency_code(altname) == code, altname
    for name, network in codes.CCXT_NETWORKS.items():
        assert exchange.options["withdrawMethods"][name] == network, name
    for name in set(codes.NETWORK_NAMES.values()) - set(codes.CCXT_NETWORKS):
        assert name not in exchange.options["withdrawMethods"], name


def test_anonymous_private_call_needs_a_key(kraken):
    try:
        kraken().fetch_balance()
    except ccxt.AuthenticationError:
        return
    raise AssertionError("ccxt should refuse a private call without credentials")

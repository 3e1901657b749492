"""Public Binance endpoints through ccxt: markets, time, status, ping, weights."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt
import pytest
import requests


def test_load_markets_parses_two_thousand_spot_markets(spot_markets):
    assert 1900 <= len(spot_markets) <= 2300
    btc = spot_markets["BTC/USDT"]
    assert (btc["id"], btc["base"], btc["quote"], btc["spot"], btc["active"]) == (
        "BTCUSDT",
        "BTC",
        "USDT",
        True,
        True,
    )
    assert Decimal(str(btc["precision"]["price"])) == Decimal("0.01")
    assert btc["limits"]["cost"]["min"] is not None
    assert spot_markets["ETH/BTC"]["id"] == "ETHBTC"
    assert spot_markets["USDT/TRY"]["quote"] == "TRY"
    bases = {m["base"] for m in spot_markets.values()}
    assert 550 <= len(bases) <= 650
    assert any(not m["active"] for m in spot_markets.values()), "some delisted (BREAK) markets exist"
    assert {"BTC", "ETH", "BNB", "SOL", "XRP", "DOGE", "PEPE"} <= bases


def test_exchange_info_weight_header_and_symbol_filter(simulator):
    base = simulator.exchange_url("binance")
    one = requests.get(f"{base}/api/v3/exchangeInfo", params={"symbol": "ETHBTC"}, timeout=10)
    assert one.status_code == 200
    assert [s["symbol"] for s in one.json()["symbols"]] == ["ETHBTC"]
    assert int(one.headers["X-MBX-USED-WEIGHT-1M"]) >= 20
    bad = requests.get(f"{base}/api/v3/exchangeInfo", params={"symbol": "NOPENOPE"}, timeout=10)
    assert (bad.status_code, bad.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
    rate_limits = one.json()["rateLimits"]
    raw = {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000}
    assert raw in rate_limits


def test_time_status_and_ping(binance, simulator):
    exchange = binance()
    assert abs(exchange.fetch_time() - time.time() * 1000) < 5000
    assert exchange.fetch_status()["status"] == "ok"
    assert exchange.public_get_ping() == {}
    response = requests.get(f"{simulator.exchange_url('binance')}/sapi/v1/system/status", timeout=10)
    assert response.json() == {"status": 0, "msg": "normal"}


def test_unknown_route_is_a_404(simulator):
    response = requests.get(f"{simulator.exchange_url('binance')}/api/v3/nope", timeout=10)
    assert response.status_code == 404


def test_markets_load_with_credentials(binance, new_account, new_key, simulator):
    """With keys, ccxt's load_markets also asks for coins (capital/config/getall) and margin pairs."""
    key = new_key(new_account())
    exchange = binance(key, preload=False)
    seq = simulator.last_seq()
    markets = exchange.load_markets()
    assert len(markets) > 1900
    assert exchange.currencies["BTC"]["networks"]["BTC"]["fee"] is not None
    assert markets["BTC/USDT"]["marginModes"]["cross"] is True
    paths = [r["path"] for r in simulator.requests_since(seq)["requests"]]
    assert sorted(paths) == sorted(
        [
            "/binance/sapi/v1/capital/config/getall",
            "/binance/sapi/v1/margin/allPairs",
            "/binance/api/v3/exchangeInfo",
            "/binance/sapi/v1/margin/allPairs",
            "/binance/sapi/v1/margin/isolated/allPairs",
        ]
    )


def test_anonymous_private_call_needs_a_key(binance):
    with pytest.raises(ccxt.AuthenticationError):
        binance().fetch_balance()

"""Maintenance, injected faults and real rate limiting, as ccxt sees them."""

from __future__ import annotations

import time

import ccxt
import pytest
import requests


def test_maintenance(binance, world_settings, signed_get, new_account, new_key):
    key = new_key(new_account())
    world_settings.set_maintenance(True)
    exchange = binance(key)
    with pytest.raises(ccxt.OnMaintenance):
        exchange.private_get_account()
    with pytest.raises(ccxt.OnMaintenance):
        exchange.fetch_my_trades("BTC/USDT")
    with pytest.raises(ccxt.OnMaintenance):
        exchange.sapi_get_capital_deposit_hisrec()
    response = signed_get("/api/v3/exchangeInfo", None, sign=False)
    assert (response.status, response.json()) == (503, {"code": 1, "msg": "System is under maintenance."})
    assert exchange.fetch_status()["status"] == "maintenance"
    assert exchange.fetch_status()["info"] == {"status": 1, "msg": "system maintenance"}
    assert exchange.public_get_ping() == {}
    assert exchange.fetch_time() > 0
    world_settings.set_maintenance(False)
    assert exchange.fetch_status()["status"] == "ok"
    exchange.private_get_account()


def test_http_5xx_fires_exactly_count_times(binance, world_settings, new_account, new_key, simulator):
    account = new_account()
    exchange = binance(new_key(account))
    fault = world_settings.add_fault(
        "http_5xx", count=2, status=503, path_contains="myTrades", account=account
    )
    exchange.private_get_account()  # other paths are untouched
    seq = simulator.last_seq()
    for _ in range(2):
        with pytest.raises(ccxt.ExchangeNotAvailable):
            exchange.fetch_my_trades("BTC/USDT")
    exchange.fetch_my_trades("BTC/USDT")
    logged = simulator.requests_since(seq)["requests"]
    assert [(r["status"], r["fault"]) for r in logged] == [(503, "http_5xx"), (503, "http_5xx"), (200, None)]
    listed = world_settings.request("GET", "/_sim/faults")["faults"]
    assert [(f["id"], f["fired"], f["remaining"]) for f in listed] == [(fault["id"], 2, 0)]


def test_5xx_bodies(binance, world_settings, new_account, new_key):
    account = new_account()
    exchange = binance(new_key(account))
    world_settings.add_fault("http_5xx", count=1, status=500, account=account)
    with pytest.raises(ccxt.OperationFailed, match="-1001"):
        exchange.private_get_account()
    world_settings.add_fault("http_5xx", count=1, status=504, account=account)
    with pytest.raises(ccxt.RequestTimeout):
        exchange.private_get_account()
    world_settings.add_fault("http_5xx", count=1, status=502, account=account, body="upstream gone")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="upstream gone"):
        exchange.private_get_account()


def test_fault_filters_by_account(binance, world_settings, new_account, new_key):
    mine, other = new_account(), new_account()
    world_settings.add_fault("http_5xx", count=1, account=mine)
    binance(new_key(other)).private_get_account()
    with pytest.raises(ccxt.ExchangeNotAvailable):
        binance(new_key(mine)).private_get_account()


def test_rate_limit_burst(binance, world_settings, new_account, new_key):
    account = new_account()
    exchange = binance(new_key(account))
    world_settings.add_fault("rate_limit", count=1, account=account, retry_after=7)
    with pytest.raises(ccxt.DDoSProtection, match="-1003"):
        exchange.private_get_account()
    assert exchange.last_response_headers["Retry-After"] == "7"
    exchange.private_get_account()


def test_latency(binance, world_settings, new_account, new_key):
    account = new_account()
    exchange = binance(new_key(account))
    world_settings.add_fault("latency", count=1, latency_ms=400, account=account)
    started = time.monotonic()
    exchange.private_get_account()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    exchange.private_get_account()
    assert time.monotonic() - started < 0.4


def test_truncated_body_and_dropped_connection(binance, world_settings, new_account, new_key, simulator):
    account = new_account()
    exchange = binance(new_key(account))
    world_settings.add_fault("truncate", count=1, account=account, path_contains="account")
    with pytest.raises(ccxt.NetworkError):
        exchange.private_get_account()
    world_settings.add_fault("drop", count=1, account=account)
    seq = simulator.last_seq()
    with pytest.raises(ccxt.NetworkError):
        exchange.private_get_account()
    assert [(r["status"], r["fault"]) for r in simulator.requests_since(seq)["requests"]] == [(None, "drop")]
    assert exchange.private_get_account()["accountType"] == "SPOT"


def test_real_rate_limit_then_ban(world_settings, simulator):
    url = f"{simulator.exchange_url('binance')}/api/v3/exchangeInfo"
    params = {"symbol": "BTCUSDT"}
    world_settings.request("POST", "/_sim/ratelimit", {"enabled": True, "weight_per_minute": 100})
    used = [
        int(requests.get(url, params=params, timeout=10).headers["X-MBX-USED-WEIGHT-1M"]) for _ in range(5)
    ]
    if used != [20, 40, 60, 80, 100]:
        pytest.skip("a minute boundary passed mid-test")  # windows are aligned to the clock minute
    limited = requests.get(url, params=params, timeout=10)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.json() == {
        "code": -1003,
        "msg": "Too much request weight used; current limit is 100 "
        "request weight per 1 MINUTE. Please use WebSocket Streams for live updates "
        "to avoid polling the API.",
    }
    assert requests.get(url, params=params, timeout=10).status_code == 429
    banned = requests.get(url, params=params, timeout=10)
    assert banned.status_code == 418 and banned.json()["code"] == -1003
    assert banned.json()["msg"].startswith("Way too much request weight used; IP banned until ")
    assert int(banned.headers["Retry-After"]) > 60
    exchange = ccxt.binance()
    exchange.urls["api"] = {"public": f"{simulator.exchange_url('binance')}/api/v3"}
    with pytest.raises(ccxt.DDoSProtection):
        exchange.public_get_exchangeinfo(params)
    world_settings.request("POST", "/_sim/ratelimit", {"enabled": False})
    assert requests.get(url, params=params, timeout=10).status_code == 200


def test_fault_and_control_validation(world_settings):
    from exchange_sync.sim_client import SimulatorError

    with pytest.raises(SimulatorError) as bad_kind:
        world_settings.add_fault("meteor", count=1)
    assert bad_kind.value.status == 400 and '"field":"kind"' in str(bad_kind.value)
    with pytest.raises(SimulatorError) as bad_count:
        world_settings.add_fault("drop", count="two")
    assert bad_count.value.status == 400 and '"field":"count"' in str(bad_count.value)
    with pytest.raises(SimulatorError) as unknown:
        world_settings.add_fault("drop", count=1, account="nobody-here")
    assert unknown.value.status == 404 and "nobody-here" in str(unknown.value)

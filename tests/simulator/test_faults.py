"""Maintenance, injected faults and real rate limiting, as ccxt sees them, for every exchange."""

from __future__ import annotations

import json
import time

import ccxt
import pytest
import requests

from tests.simulator.conftest import PROBE_PATHS, PROBES


def test_maintenance(binance, world_settings, signed_get, new_account, new_key):
    key = new_key(new_account())
    exchange = binance(key)
    world_settings.set_maintenance(True)
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


def test_kraken_maintenance(kraken, kraken_post, world_settings, new_account, new_key):
    key = new_key(new_account("kraken"))
    exchange = kraken(key)
    world_settings.set_maintenance(True)
    with pytest.raises(ccxt.ExchangeNotAvailable, match="EService:Unavailable"):
        exchange.fetch_balance()
    assert kraken_post("Ledgers", key).json() == {"error": ["EService:Unavailable"]}
    assert exchange.fetch_status()["status"] == "maintenance"
    assert exchange.fetch_time() > 0
    with pytest.raises(ccxt.ExchangeNotAvailable):
        kraken(preload=False).load_markets()
    world_settings.set_maintenance(False)
    assert exchange.fetch_status()["status"] == "ok"
    exchange.fetch_balance()


def test_http_5xx_fires_exactly_count_times(
    client, exchange, world_settings, new_account, new_key, simulator
):
    account = new_account(exchange)
    instance = client(exchange, new_key(account))
    path = PROBE_PATHS[exchange]
    fault = world_settings.add_fault("http_5xx", count=2, status=503, path_contains=path, account=account)
    instance.fetch_time()  # other paths are untouched
    seq = simulator.last_seq()
    for _ in range(2):
        with pytest.raises(ccxt.ExchangeNotAvailable):
            PROBES[exchange](instance)
    PROBES[exchange](instance)
    logged = simulator.requests_since(seq)["requests"]
    assert [(r["status"], r["fault"]) for r in logged] == [(503, "http_5xx"), (503, "http_5xx"), (200, None)]
    listed = world_settings.request("GET", "/_sim/faults")["faults"]
    assert [(f["id"], f["fired"], f["remaining"]) for f in listed] == [(fault["id"], 2, 0)]


# (exchange, HTTP status, fault body, the ccxt class, what its message holds)
SERVER_ERRORS = [
    ("binance", 500, None, ccxt.OperationFailed, "-1001"),
    ("binance", 504, None, ccxt.RequestTimeout, None),
    ("binance", 502, "upstream gone", ccxt.ExchangeNotAvailable, "upstream gone"),
    ("kraken", 520, None, ccxt.ExchangeNotAvailable, "520"),
    ("kraken", 500, None, ccxt.ExchangeNotAvailable, "EGeneral:Internal error"),
    ("kraken", 504, None, ccxt.RequestTimeout, None),
    ("kraken", 503, None, ccxt.ExchangeNotAvailable, "EService:Busy"),
    ("kraken", 502, "upstream gone", ccxt.ExchangeNotAvailable, "upstream gone"),
    ("okx", 500, None, ccxt.ExchangeNotAvailable, "50026"),
    ("okx", 503, None, ccxt.ExchangeNotAvailable, "50013"),
    ("okx", 504, None, ccxt.RequestTimeout, "50004"),
    ("okx", 520, None, ccxt.ExchangeNotAvailable, "520"),
]


@pytest.mark.parametrize(("exchange_name", "status", "body", "error", "match"), SERVER_ERRORS)
def test_5xx_bodies(client, world_settings, new_account, new_key, exchange_name, status, body, error, match):
    account = new_account(exchange_name)
    instance = client(exchange_name, new_key(account))
    world_settings.add_fault("http_5xx", count=1, status=status, account=account, body=body)
    with pytest.raises(error, match=match):
        PROBES[exchange_name](instance)


def test_fault_filters_by_account(client, exchange, world_settings, new_account, new_key):
    mine, other = new_account(exchange), new_account(exchange)
    world_settings.add_fault("http_5xx", count=1, account=mine)
    PROBES[exchange](client(exchange, new_key(other)))
    with pytest.raises(ccxt.ExchangeNotAvailable):
        PROBES[exchange](client(exchange, new_key(mine)))


# (text of the body, HTTP status, the class ccxt raises for it: OKX's 50011 and Coinbase's
# rate_limit_exceeded are RateLimitExceeded, which is not a DDoSProtection in ccxt 4.5)
RATE_LIMIT_BODIES = {
    "binance": ("-1003", 429, ccxt.DDoSProtection),
    "kraken": ("EAPI:Rate limit exceeded", 200, ccxt.DDoSProtection),
    "okx": ("50011", 429, ccxt.RateLimitExceeded),
    "coinbase": ("rate_limit_exceeded", 429, ccxt.RateLimitExceeded),
}


def test_rate_limit_burst(client, exchange, world_settings, new_account, new_key):
    account = new_account(exchange)
    instance = client(exchange, new_key(account))
    world_settings.add_fault("rate_limit", count=1, account=account, retry_after=7)
    text, status, error = RATE_LIMIT_BODIES[exchange]
    with pytest.raises(error, match=text):
        PROBES[exchange](instance)
    assert instance.last_http_response and text in instance.last_http_response
    if status == 429:
        assert instance.last_response_headers["Retry-After"] == "7"
    PROBES[exchange](instance)


def test_latency(client, exchange, world_settings, new_account, new_key):
    account = new_account(exchange)
    instance = client(exchange, new_key(account))
    world_settings.add_fault("latency", count=1, latency_ms=400, account=account)
    started = time.monotonic()
    PROBES[exchange](instance)
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    PROBES[exchange](instance)
    assert time.monotonic() - started < 0.4


def test_truncated_body_and_dropped_connection(
    client, exchange, world_settings, new_account, new_key, simulator
):
    account = new_account(exchange)
    instance = client(exchange, new_key(account))
    world_settings.add_fault("truncate", count=1, account=account, path_contains=PROBE_PATHS[exchange])
    with pytest.raises(ccxt.NetworkError):
        PROBES[exchange](instance)
    world_settings.add_fault("drop", count=1, account=account)
    seq = simulator.last_seq()
    with pytest.raises(ccxt.NetworkError):
        PROBES[exchange](instance)
    assert [(r["status"], r["fault"]) for r in simulator.requests_since(seq)["requests"]] == [(None, "drop")]
    assert PROBES[exchange](instance)


@pytest.mark.parametrize("variant", ["empty", "html", "broken_json", "wrong_shape", "empty_object"])
def test_bad_body_variants(
    exchange, variant, world_settings, new_account, new_key, signed_get, kraken_post, okx_get, coinbase_get
):
    key = new_key(new_account(exchange))
    call = {
        "binance": lambda: signed_get("/api/v3/account", key),
        "kraken": lambda: kraken_post("BalanceEx", key),
        "okx": lambda: okx_get("account/balance", key),
        "coinbase": lambda: coinbase_get("/api/v3/brokerage/accounts", key),
    }[exchange]
    real = call().text
    world_settings.add_fault("bad_body", variant=variant, account=key.account, skip=1)
    assert call().text == real, "skip lets the first matching request through"
    bad = call()
    assert bad.status == 200
    if variant == "empty":
        assert bad.text == ""
    elif variant == "html":
        assert bad.text.startswith("<html>") and "502 Bad Gateway" in bad.text
    elif variant == "broken_json":
        assert real.startswith(bad.text) and 0 < len(bad.text) < len(real)
        with pytest.raises(ValueError):
            json.loads(bad.text)
    elif variant == "wrong_shape":
        assert bad.json() == [json.loads(real)], "an object answer comes back wrapped in a list"
    else:
        assert bad.json() == {}
    assert call().text != bad.text, "the fault fired once"


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


def test_kraken_call_counter_then_lockout(
    kraken, kraken_post, world_settings, simulator, new_account, new_key
):
    account = new_account("kraken")
    key, other = new_key(account), new_key(account)
    world_settings.set_ratelimit(enabled=True)
    described = simulator.exchanges()["kraken"]["rate_limits"][0]
    assert (described["max"], described["decay_per_second"], described["lockout_after_rejections"]) == (
        15,
        "0.33",
        3,
    )
    started = time.monotonic()
    answers = [kraken_post("Ledgers", key).json()["error"] for _ in range(8)]  # 2 each: 16 > 15
    if time.monotonic() - started > 2:
        pytest.skip("too slow to fill the counter before it decays")
    assert answers[:7] == [[]] * 7 and answers[7] == ["EAPI:Rate limit exceeded"]
    assert kraken_post("Balance", other).json()["error"] == [], "each key has its own counter"
    with pytest.raises(ccxt.DDoSProtection, match="EAPI:Rate limit exceeded"):
        kraken(key).fetch_ledger()  # costs 2 again: still over
    # Keep calling while limited: the third rejection in a row locks the key out.
    assert kraken_post("Ledgers", key).json()["error"] == ["EGeneral:Temporary lockout"]
    with pytest.raises(ccxt.DDoSProtection, match="EGeneral:Temporary lockout"):
        kraken(key).fetch_balance()
    assert kraken_post("GetApiKeyInfo", key).json()["error"] == ["EGeneral:Temporary lockout"]
    world_settings.set_ratelimit(enabled=False)
    assert kraken_post("Balance", key).json()["error"] == []


def test_kraken_counter_decays(kraken_post, world_settings, new_account, new_key):
    key = new_key(new_account("kraken"))
    world_settings.set_ratelimit(enabled=True)
    for _ in range(7):
        assert kraken_post("TradesHistory", key).json()["error"] == []
    time.sleep(3.2)  # 0.33/s: the counter is back under 14 after three seconds
    assert kraken_post("TradesHistory", key).json()["error"] == []


def test_binance_withdraw_history_is_limited_per_account(world_settings, signed_get, new_account, new_key):
    """wallet docs: withdraw/history weighs 18,000 of an account's (UID's) 180,000 per minute,
    whichever IP asks; other accounts keep their own budget."""
    key, other = new_key(new_account()), new_key(new_account())
    world_settings.set_ratelimit(enabled=True)
    path = "/sapi/v1/capital/withdraw/history"
    used = [int(signed_get(path, key).headers["X-SAPI-USED-UID-WEIGHT-1M"]) for _ in range(10)]
    if used != [18_000 * (i + 1) for i in range(10)]:
        pytest.skip("a minute boundary passed mid-test")  # windows are aligned to the clock minute
    limited = signed_get(path, key)
    assert (limited.status, limited.json()["code"]) == (429, -1003)
    assert signed_get(path, other).status == 200, "per account, not per IP"
    assert signed_get("/sapi/v1/capital/deposit/hisrec", key).status == 200, "per endpoint"
    assert signed_get(path, key).status == 429, "sapi never escalates to an IP ban (418)"

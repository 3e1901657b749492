"""Every key and account scenario: the HTTP status and body Binance sends, and the ccxt class a
fresh ccxt.binance raises for it (see the table in exchange_sync.simulator.protocols.binance.auth)."""

from __future__ import annotations

import time

import ccxt
import pytest

from tests.simulator.conftest import Key

REJECTED = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
BAD_FORMAT = {"code": -2014, "msg": "API-key format invalid."}
INVALID_KEY_ID = {"code": -2008, "msg": "Invalid Api-Key ID."}
NO_USER = {"code": -4039, "msg": "The user does not exist."}
UNAUTHORIZED = {"code": -1002, "msg": "You are not authorized to execute this request."}
BAD_SIGNATURE = {"code": -1022, "msg": "Signature for this request is not valid."}
AHEAD = {"code": -1021, "msg": "Timestamp for this request was 1000ms ahead of the server's time."}
OUTSIDE = {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}

API = "/api/v3/account"
SAPI = "/sapi/v1/capital/deposit/hisrec"


def expect(signed_get, key, path, status, body, **kwargs):
    response = signed_get(path, key, **kwargs)
    assert (response.status, response.json()) == (status, body), path


def raises(exchange_factory, key, api_class, sapi_class):
    """The class ccxt raises on fresh instances, for an api/v3 and a sapi endpoint."""
    with pytest.raises(api_class) as api_error:
        exchange_factory(key).private_get_account()
    with pytest.raises(sapi_class) as sapi_error:
        exchange_factory(key).sapi_get_capital_deposit_hisrec()
    return api_error.value, sapi_error.value


def test_valid_key_works_everywhere(binance, new_account, new_key, signed_get):
    key = new_key(new_account())
    assert signed_get(API, key).status == 200
    assert signed_get(SAPI, key).status == 200
    exchange = binance(key)
    assert exchange.sapi_get_account_status() == {"data": "Normal"}
    restrictions = exchange.sapi_get_account_apirestrictions()
    assert (restrictions["enableReading"], restrictions["enableWithdrawals"], restrictions["ipRestrict"]) == (
        True,
        False,
        False,
    )
    assert "tradingAuthorityExpirationTime" not in restrictions


def test_missing_and_malformed_key(binance, signed_get, new_account, new_key):
    key = new_key(new_account())
    for path in (API, SAPI):
        expect(signed_get, None, path, 401, BAD_FORMAT, sign=False)
        expect(signed_get, key, path, 401, BAD_FORMAT, api_key="not-a-binance-key")
    raises(binance, Key("short", "x" * 64, "-"), ccxt.AuthenticationError, ccxt.AuthenticationError)


def test_unknown_and_deleted_keys(binance, simulator, signed_get, new_account, new_key):
    unknown = Key("A" * 64, "B" * 64, "-")
    expect(signed_get, unknown, API, 401, REJECTED)
    expect(signed_get, unknown, SAPI, 400, INVALID_KEY_ID)
    deleted = new_key(new_account())
    simulator.key_action(deleted.api_key, "delete")
    assert simulator.key(deleted.api_key)["state"] == "deleted"
    expect(signed_get, deleted, API, 401, REJECTED)
    expect(signed_get, deleted, SAPI, 400, INVALID_KEY_ID)
    # ccxt's spot-only table (where -2008 is AuthenticationError) is used only for api.binance.com URLs.
    raises(binance, deleted, ccxt.AuthenticationError, ccxt.ExchangeError)
    with pytest.raises(ccxt.ExchangeError, match="-2008"):
        binance(deleted, preload=False).fetch_balance()  # load_markets asks sapi first


def test_revoked_key_answers_like_a_deleted_one(binance, simulator, signed_get, new_account, new_key):
    key = new_key(new_account())
    simulator.key_action(key.api_key, "revoke")
    expect(signed_get, key, API, 401, REJECTED)
    expect(signed_get, key, SAPI, 400, INVALID_KEY_ID)
    raises(binance, key, ccxt.AuthenticationError, ccxt.ExchangeError)
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        binance(key, preload=False).private_get_account()


def test_expired_keys(binance, simulator, signed_get, new_account, new_key):
    account = new_account()
    expired = new_key(account)
    simulator.key_action(expired.api_key, "expire")
    assert simulator.key(expired.api_key)["expired"] is True
    expect(signed_get, expired, API, 401, REJECTED)
    expect(signed_get, expired, SAPI, 401, REJECTED)
    raises(binance, expired, ccxt.AuthenticationError, ccxt.AuthenticationError)
    # The key still exists: introspection answers and shows the expiry in the past.
    restrictions = binance(expired).sapi_get_account_apirestrictions()
    assert restrictions["tradingAuthorityExpirationTime"] < time.time() * 1000
    in_past = new_key(account, expires_at="2020-01-01T00:00:00Z")
    expect(signed_get, in_past, API, 401, REJECTED)
    soon = new_key(account, expires_at=int(time.time() * 1000) + 3_600_000)
    restrictions = binance(soon).sapi_get_account_apirestrictions()
    assert restrictions["tradingAuthorityExpirationTime"] == simulator.key(soon.api_key)["expires_at"]
    simulator.update_key(soon.api_key, expires_at=int(time.time() * 1000) - 1)
    expect(signed_get, soon, API, 401, REJECTED)


def test_ip_allow_list(binance, simulator, signed_get, new_account, new_key):
    account = new_account()
    elsewhere = new_key(account, ip_allowlist=["10.1.2.3", "192.168.0.0/16"])
    expect(signed_get, elsewhere, API, 401, REJECTED)
    expect(signed_get, elsewhere, SAPI, 401, REJECTED)
    raises(binance, elsewhere, ccxt.AuthenticationError, ccxt.AuthenticationError)
    local = new_key(account, ip_allowlist=["127.0.0.0/8", "::1"])
    assert signed_get(API, local).status == 200
    assert binance(local).sapi_get_account_apirestrictions()["ipRestrict"] is True
    simulator.update_key(local.api_key, ip_allowlist=["10.9.9.9"])
    expect(signed_get, local, API, 401, REJECTED)


def test_missing_reading_permission(binance, signed_get, new_account, new_key):
    key = new_key(new_account(), permissions=["spot_trading"])
    expect(signed_get, key, API, 401, REJECTED)
    expect(signed_get, key, SAPI, 401, REJECTED)
    expect(signed_get, key, "/api/v3/myTrades", 401, REJECTED, params={"symbol": "BTCUSDT"})
    raises(binance, key, ccxt.AuthenticationError, ccxt.AuthenticationError)
    # The introspection endpoint still answers, so a diagnosis can see what is missing.
    restrictions = binance(key).sapi_get_account_apirestrictions()
    assert (restrictions["enableReading"], restrictions["enableSpotAndMarginTrading"]) == (False, True)


def test_wrong_secret(binance, signed_get, new_account, new_key):
    key = new_key(new_account())
    expect(signed_get, key, API, 400, BAD_SIGNATURE, secret="w" * 64)
    expect(signed_get, key, SAPI, 400, BAD_SIGNATURE, secret="w" * 64)
    wrong = Key(key.api_key, "w" * 64, key.account)
    raises(binance, wrong, ccxt.AuthenticationError, ccxt.AuthenticationError)


def test_timestamp_and_recv_window(binance, world_settings, signed_get, new_account, new_key):
    key = new_key(new_account())
    now = int(time.time() * 1000)
    expect(signed_get, key, API, 400, AHEAD, timestamp=now + 5000)
    expect(signed_get, key, API, 400, OUTSIDE, timestamp=now - 6000)  # default recvWindow 5000
    assert signed_get(API, key, {"recvWindow": 10000}, timestamp=now - 6000).status == 200
    assert signed_get(API, key, timestamp=now * 1000).status == 200, "microseconds are accepted too"
    response = signed_get(API, key, {"recvWindow": 60001})
    assert (response.status, response.json()) == (
        400,
        {"code": -1131, "msg": "recvWindow must be less than 60000."},
    )
    response = signed_get(API, key, params={"signature": "x"}, sign=False)
    assert response.json()["code"] == -1102
    # Skewed server clocks: ccxt signs with the local clock and recvWindow 10000.
    world_settings.request("POST", "/_sim/clock", {"offset_ms": -5000})
    assert abs(binance().fetch_time() - (now - 5000)) < 3000
    with pytest.raises(ccxt.InvalidNonce, match="ahead of the server"):
        binance(key).private_get_account()
    world_settings.request("POST", "/_sim/clock", {"offset_ms": 15000})
    with pytest.raises(ccxt.InvalidNonce, match="outside of the recvWindow"):
        binance(key).sapi_get_capital_deposit_hisrec()


def test_suspended_account(binance, simulator, signed_get, new_account, new_key):
    account = new_account()
    key = new_key(account)
    simulator.set_account_status(account, "suspended")
    expect(signed_get, key, API, 401, UNAUTHORIZED)
    expect(signed_get, key, SAPI, 401, UNAUTHORIZED)
    raises(binance, key, ccxt.AuthenticationError, ccxt.AuthenticationError)
    exchange = binance(key)
    assert exchange.sapi_get_account_status() == {"data": "Suspended"}
    assert exchange.sapi_get_account_apirestrictions()["enableReading"] is True
    simulator.set_account_status(account, "active")
    assert signed_get(API, key).status == 200


def test_closed_account(binance, simulator, signed_get, new_account, new_key):
    account = new_account()
    key = new_key(account)
    simulator.set_account_status(account, "closed")
    expect(signed_get, key, API, 401, REJECTED)
    expect(signed_get, key, SAPI, 400, NO_USER)
    expect(signed_get, key, "/sapi/v1/account/status", 400, NO_USER)
    raises(binance, key, ccxt.AuthenticationError, ccxt.ExchangeError)
    assert [a["status"] for a in simulator.accounts() if a["id"] == account] == ["closed"]


def test_minus_2015_turns_into_ddos_protection_on_a_used_instance(binance, simulator, new_account, new_key):
    """ccxt quirk the simulator must reproduce: after one successful api/v3 call, -2015 is
    reported as DDoSProtection (a NetworkError), so diagnosis needs a fresh instance."""
    key = new_key(new_account())
    exchange = binance(key)
    exchange.private_get_account()
    simulator.key_action(key.api_key, "revoke")
    with pytest.raises(ccxt.DDoSProtection):
        exchange.private_get_account()
    with pytest.raises(ccxt.AuthenticationError):
        binance(key).private_get_account()


def test_request_log_never_holds_secrets(simulator, signed_get, new_account, new_key):
    key = new_key(new_account())
    seq = simulator.last_seq()
    signed_get("/api/v3/myTrades", key, {"symbol": "BTCUSDT"})
    signed_get("/api/v3/myTrades", key, {"symbol": "BTCUSDT"}, secret="w" * 64)
    entries = simulator.requests_since(seq)["requests"]
    assert [(e["path"], e["status"], e["account"], e["api_key_prefix"]) for e in entries] == [
        ("/binance/api/v3/myTrades", 200, key.account, key.api_key[:8]),
        ("/binance/api/v3/myTrades", 400, key.account, key.api_key[:8]),
    ]
    text = str(entries)
    assert key.secret not in text and key.api_key not in text and "signature" not in text
    assert "secret" not in simulator.key(key.api_key)

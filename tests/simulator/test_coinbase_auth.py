"""Every key and account scenario on Coinbase: the status and body Coinbase sends and the class a
fresh ccxt.coinbase raises for it (the table in exchange_sync.simulator.protocols.coinbase.auth),
with raw ES256 JWTs for the cases ccxt never produces (bad claims, wrong uri, no token)."""

from __future__ import annotations

import re
import time

import ccxt
import pytest

from exchange_sync.simulator.protocols.coinbase.auth import mint_key
from tests.simulator.conftest import Key, Raw, coinbase_token

PATH = "/api/v3/brokerage/key_permissions"
V2_PATH = "/v2/user"
MISSING_SCOPES = {
    "error": "PERMISSION_DENIED",
    "error_details": "Missing required scopes",
    "message": "Missing required scopes",
}


def unauthorized(raw: Raw) -> None:
    assert (raw.status, raw.text.strip()) == (401, "Unauthorized"), raw.text


def test_key_format_and_valid_request(coinbase, coinbase_get, new_account, new_key, simulator):
    key = new_key(new_account("coinbase"))
    assert re.fullmatch(r"organizations/[0-9a-f-]{36}/apiKeys/[0-9a-f-]{36}", key.api_key)
    lines = key.secret.strip().splitlines()
    assert lines[0] == "-----BEGIN EC PRIVATE KEY-----" and lines[-1] == "-----END EC PRIVATE KEY-----"
    assert len(lines) > 3
    raw = coinbase_get(PATH, key)
    assert raw.status == 200 and raw.json()["can_view"] is True
    scopes = coinbase(key).v3PrivateGetBrokerageKeyPermissions()
    assert (scopes["can_view"], scopes["can_trade"], scopes["can_transfer"]) == (True, False, False)
    assert scopes["portfolio_type"] == "DEFAULT"


def presenting(coinbase, key: Key, authorization: str):
    """A ccxt.coinbase that sends this Authorization header instead of signing (its sign() uses
    headers["Authorization"] when set)."""
    exchange = coinbase(key)
    exchange.headers = {**exchange.headers, "Authorization": authorization}
    return exchange


def test_row1_no_or_malformed_token(coinbase, coinbase_get, simulator, new_account, new_key):
    key = new_key(new_account("coinbase"))
    unauthorized(coinbase_get(PATH, None))
    unauthorized(coinbase_get(PATH, None, authorization="Bearer not.a.jwt"))
    unauthorized(coinbase_get(PATH, None, authorization="Basic abc"))
    unauthorized(coinbase_get(PATH, key, sub="organizations/x/apiKeys/y"))  # kid != sub
    url = f"{simulator.exchange_url('coinbase')}{PATH}"
    hs256 = ccxt.Exchange.jwt({"sub": key.api_key}, b"secret", "sha256", False, {"kid": key.api_key})
    unauthorized(coinbase_get(PATH, None, authorization="Bearer " + hs256))
    for header in ("Bearer not.a.jwt", "Bearer " + hs256, "Bearer " + coinbase_token(key, url, sub="x")):
        with pytest.raises(ccxt.AuthenticationError):
            presenting(coinbase, key, header).v3PrivateGetBrokerageKeyPermissions()


def test_row2_unknown_revoked_deleted_keys(coinbase, coinbase_get, simulator, new_account, new_key):
    name, pem = mint_key()
    unknown = Key(name, pem, "-")
    unauthorized(coinbase_get(PATH, unknown))
    with pytest.raises(ccxt.AuthenticationError):
        coinbase(unknown).v3PrivateGetBrokerageKeyPermissions()
    account = new_account("coinbase")
    for action in ("revoke", "delete"):
        key = new_key(account)
        simulator.key_action(key.api_key, action)
        unauthorized(coinbase_get(PATH, key))
        with pytest.raises(ccxt.AuthenticationError):
            coinbase(key).fetch_balance()


def test_row3_wrong_private_key(coinbase, coinbase_get, new_account, new_key):
    key = new_key(new_account("coinbase"))
    forged = Key(key.api_key, mint_key()[1], key.account)
    unauthorized(coinbase_get(PATH, forged))
    with pytest.raises(ccxt.AuthenticationError):
        coinbase(forged).v3PrivateGetBrokerageKeyPermissions()


def test_row4_claims_and_the_world_clock(coinbase, coinbase_get, world_settings, new_account, new_key):
    key = new_key(new_account("coinbase"))
    now = int(time.time())
    unauthorized(coinbase_get(PATH, key, iss="someone"))
    unauthorized(coinbase_get(PATH, key, nbf=now - 10, exp=now - 1))
    unauthorized(coinbase_get(PATH, key, nbf=now + 60, exp=now + 120))
    unauthorized(coinbase_get(PATH, key, exp=now + 600))  # lives longer than 120 s
    assert coinbase_get(PATH, key, iss="cdp").status == 200
    world_settings.set_clock(200_000)  # the exchange's clock is past the JWT's exp
    with pytest.raises(ccxt.AuthenticationError):
        coinbase(key).v3PrivateGetBrokerageKeyPermissions()
    world_settings.set_clock(-60_000)  # and now before its nbf
    with pytest.raises(ccxt.AuthenticationError):
        coinbase(key).v3PrivateGetBrokerageKeyPermissions()
    world_settings.set_clock(0)
    coinbase(key).v3PrivateGetBrokerageKeyPermissions()


def test_row5_uri_must_name_this_request(coinbase, coinbase_get, simulator, new_account, new_key):
    key = new_key(new_account("coinbase"))
    base = simulator.exchange_url("coinbase")
    host = base.removeprefix("http://").split("/")[0]
    unauthorized(coinbase_get(PATH, key, uri=f"GET {host}/coinbase/api/v3/brokerage/accounts"))
    unauthorized(coinbase_get(PATH, key, uri=f"POST {host}/coinbase{PATH}"))
    unauthorized(coinbase_get(PATH, key, uri=f"GET api.coinbase.com/coinbase{PATH}"))
    assert coinbase_get(PATH, key, uri=f"GET {host}/coinbase{PATH}").status == 200, "without the scheme"
    elsewhere = coinbase_token(key, f"{base}/api/v3/brokerage/accounts")
    with pytest.raises(ccxt.AuthenticationError):
        presenting(coinbase, key, "Bearer " + elsewhere).v3PrivateGetBrokerageKeyPermissions()


def test_row6_closed_account_and_expired_key(coinbase, coinbase_get, simulator, new_account, new_key):
    account = new_account("coinbase")
    expiring = new_key(account)
    simulator.key_action(expiring.api_key, "expire")
    unauthorized(coinbase_get(PATH, expiring))
    with pytest.raises(ccxt.AuthenticationError):
        coinbase(expiring).v3PrivateGetBrokerageKeyPermissions()
    key = new_key(account)
    simulator.set_account_status(account, "closed")
    unauthorized(coinbase_get(PATH, key))
    with pytest.raises(ccxt.AuthenticationError):
        coinbase(key).fetch_balance()


def test_row7_ip_allowlist(coinbase, coinbase_get, new_account, new_key):
    account = new_account("coinbase")
    elsewhere = new_key(account, ip_allowlist=["203.0.113.7"])
    unauthorized(coinbase_get(PATH, elsewhere))
    with pytest.raises(ccxt.AuthenticationError):
        coinbase(elsewhere).v3PrivateGetBrokerageKeyPermissions()
    assert coinbase_get(PATH, new_key(account, ip_allowlist=["127.0.0.0/8"])).status == 200


def test_row8_suspended_account(coinbase, coinbase_get, simulator, new_account, new_key):
    account = new_account("coinbase")
    key = new_key(account)
    simulator.set_account_status(account, "suspended")
    v3 = coinbase_get(PATH, key)
    assert v3.status == 403 and v3.json() == {
        "error": "PERMISSION_DENIED",
        "error_details": "account is locked",
        "message": "account is locked",
    }
    v2 = coinbase_get(V2_PATH, key)
    assert v2.status == 403
    assert v2.json() == {"errors": [{"id": "unauthorized", "message": "account is locked"}]}
    with pytest.raises(ccxt.PermissionDenied):
        coinbase(key).v3PrivateGetBrokerageKeyPermissions()
    with pytest.raises(ccxt.AuthenticationError):
        coinbase(key).v2PrivateGetUser()


def test_row9_missing_scope(coinbase, coinbase_get, new_account, new_key):
    key = new_key(new_account("coinbase"), permissions=["can_trade"])
    v3 = coinbase_get(PATH, key)
    assert v3.status == 403 and v3.json() == MISSING_SCOPES
    v2 = coinbase_get(V2_PATH, key)
    assert v2.status == 403 and v2.json() == {"errors": [{"id": "invalid_scope", "message": "Invalid scope"}]}
    with pytest.raises(ccxt.PermissionDenied, match="Missing required scopes"):
        coinbase(key).v3PrivateGetBrokerageAccounts()
    with pytest.raises(ccxt.AuthenticationError, match="invalid_scope"):
        coinbase(key).fetch_balance()  # ccxt's default balance call is v2 GET /v2/accounts


def test_pem_pasted_with_literal_backslash_n_is_not_a_key(
    coinbase, coinbase_get, simulator, new_account, new_key
):
    key = new_key(new_account("coinbase"))
    pasted = Key(key.api_key, key.secret.strip().replace("\n", "\\n"), key.account)
    seq = simulator.last_seq()
    # ccxt lets cryptography's refusal through: "Unable to load PEM file"
    with pytest.raises(ValueError, match="Unable to load PEM"):
        coinbase(pasted).v3PrivateGetBrokerageKeyPermissions()
    assert simulator.requests_since(seq)["requests"] == [], "nothing could be signed, nothing was sent"
    unauthorized(coinbase_get(PATH, None, authorization="Bearer " + pasted.secret))  # no repair server-side


def test_identity_is_the_users_uuid(coinbase, new_account, new_key, simulator):
    first, second = new_account("coinbase"), new_account("coinbase")
    user = coinbase(new_key(first)).v2PrivateGetUser()["data"]
    again = coinbase(new_key(first)).v2PrivateGetUser()["data"]
    other = coinbase(new_key(second)).v2PrivateGetUser()["data"]
    assert user["id"] == again["id"] != other["id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", user["id"])
    fills = coinbase(new_key(first)).fetch_my_trades(limit=3)
    assert {f["info"]["user_id"] for f in fills} == {user["id"]}

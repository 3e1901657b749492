"""Every key and account scenario on Kraken: the error string Kraken sends (HTTP 200) and the class
a fresh ccxt.kraken raises for it (see the table in exchange_sync.simulator.protocols.kraken.auth),
consistent with what the project's diagnosis knowledge (diagnosis/exchanges/kraken.yaml) expects."""

from __future__ import annotations

import time

import ccxt
import pytest

from tests.simulator.conftest import Key


def errors(response) -> list[str]:
    assert response.status == 200, response.text
    return response.json()["error"]


def test_valid_key_and_its_introspection(kraken, kraken_post, new_account, new_key, simulator):
    account = new_account("kraken")
    key = new_key(account)
    assert errors(kraken_post("BalanceEx", key)) == []
    info = kraken(key).private_post_getapikeyinfo()["result"]
    assert info["permissions"] == ["query-funds", "query-open-trades", "query-closed-trades", "query-ledger"]
    assert (info["validUntil"], info["queryFrom"], info["queryTo"], info["ipAllowlist"]) == (
        "0",
        "0",
        "0",
        [],
    )
    assert info["apiKey"] == key.api_key and info["iban"] == simulator.account(account)["uid"]
    assert set(info) >= {"apiKeyName", "nonce", "nonceWindow", "createdTime", "modifiedTime", "lastUsed"}


def test_unknown_deleted_and_revoked_keys(kraken, kraken_post, simulator, new_account, new_key):
    assert errors(kraken_post("Balance", Key("A" * 56, "c2VjcmV0", "-"))) == ["EAPI:Invalid key"]
    assert errors(kraken_post("Balance", None)) == ["EAPI:Invalid key"], "no API-Key header"
    account = new_account("kraken")
    for action in ("delete", "revoke"):
        key = new_key(account)
        simulator.key_action(key.api_key, action)
        assert errors(kraken_post("Balance", key)) == ["EAPI:Invalid key"]
        assert errors(kraken_post("GetApiKeyInfo", key)) == ["EAPI:Invalid key"]
        with pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid key"):
            kraken(key).fetch_balance()


def test_bad_signature(kraken, kraken_post, new_account, new_key):
    key = new_key(new_account("kraken"))
    wrong = "d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldCB3cm9uZyBzZWNyZXQ="
    assert errors(kraken_post("Balance", key, secret=wrong)) == ["EAPI:Invalid signature"]
    # ccxt has no entry for EAPI:Invalid signature: a bare ExchangeError, not an AuthenticationError.
    with pytest.raises(ccxt.ExchangeError, match="EAPI:Invalid signature") as raised:
        kraken(Key(key.api_key, wrong, key.account)).fetch_balance()
    assert not isinstance(raised.value, ccxt.AuthenticationError)


def test_nonce_must_increase(kraken, kraken_post, new_account, new_key):
    key = new_key(new_account("kraken"))
    nonce = time.time_ns() // 1000  # microseconds: above any millisecond nonce for a long time
    assert errors(kraken_post("Balance", key, nonce=nonce)) == []
    assert errors(kraken_post("Balance", key, nonce=nonce)) == ["EAPI:Invalid nonce"], "reused"
    assert errors(kraken_post("Balance", key, nonce=nonce - 5)) == ["EAPI:Invalid nonce"], "lower"
    assert errors(kraken_post("Balance", key, params={"nonce": ""})) == ["EAPI:Invalid nonce"]
    # ccxt signs with milliseconds: a key that already saw microsecond nonces refuses it.
    with pytest.raises(ccxt.InvalidNonce):
        kraken(key).fetch_balance()
    fresh = new_key(key.account)
    first, second = kraken(fresh), kraken(fresh)
    first.fetch_balance()
    second.options["lastNonce"] = 0
    second.nonce = lambda: first.options["lastNonce"]  # another process with the same key and clock
    with pytest.raises(ccxt.InvalidNonce, match="EAPI:Invalid nonce"):
        second.fetch_balance()


def test_permission_denied(kraken, kraken_post, new_account, new_key):
    account = new_account("kraken")
    funds_only = new_key(account, permissions=["query-funds"])
    assert errors(kraken_post("BalanceEx", funds_only)) == []
    for method in ("TradesHistory", "Ledgers", "QueryLedgers", "WithdrawStatus"):
        assert errors(kraken_post(method, funds_only, {"id": "LXXXXX-XXXXX-XXXXXX"})) == [
            "EGeneral:Permission denied"
        ], method
    with pytest.raises(ccxt.PermissionDenied):
        kraken(funds_only).fetch_my_trades()
    nothing = new_key(account, permissions=[])
    with pytest.raises(ccxt.PermissionDenied):
        kraken(nothing).fetch_balance()
    # GetApiKeyInfo needs no permission: a diagnosis can see what is missing.
    assert kraken(nothing).private_post_getapikeyinfo()["result"]["permissions"] == []
    withdraw = new_key(account, permissions=["withdraw-funds"])
    assert errors(kraken_post("WithdrawStatus", withdraw)) == [], "Withdraw or Query ledger entries"


def test_ip_allow_list(kraken, kraken_post, simulator, new_account, new_key):
    account = new_account("kraken")
    elsewhere = new_key(account, ip_allowlist=["10.1.2.3", "192.168.0.0/16"])
    assert errors(kraken_post("Balance", elsewhere)) == ["EGeneral:Permission denied"]
    assert errors(kraken_post("GetApiKeyInfo", elsewhere)) == ["EGeneral:Permission denied"]
    with pytest.raises(ccxt.PermissionDenied):
        kraken(elsewhere).fetch_balance()
    local = new_key(account, ip_allowlist=["127.0.0.0/8", "::1"])
    assert errors(kraken_post("Balance", local)) == []
    assert kraken(local).private_post_getapikeyinfo()["result"]["ipAllowlist"] == ["127.0.0.0/8", "::1"]
    simulator.update_key(local.api_key, ip_allowlist=["10.9.9.9"])
    assert errors(kraken_post("Balance", local)) == ["EGeneral:Permission denied"]


def test_expired_key(kraken, kraken_post, simulator, new_account, new_key):
    account = new_account("kraken")
    key = new_key(account)
    simulator.key_action(key.api_key, "expire")
    assert errors(kraken_post("Balance", key)) == ["EAPI:Invalid key"]
    with pytest.raises(ccxt.AuthenticationError):
        kraken(key).fetch_my_trades()
    # The key still exists: GetApiKeyInfo answers and shows validUntil in the past.
    info = kraken(key).private_post_getapikeyinfo()["result"]
    assert 0 < int(info["validUntil"]) < time.time()
    soon = new_key(account, expires_at=int(time.time() * 1000) + 3_600_000)
    info = kraken(soon).private_post_getapikeyinfo()["result"]
    assert int(info["validUntil"]) == simulator.key(soon.api_key)["expires_at"] // 1000


def test_suspended_and_closed_accounts(kraken, kraken_post, simulator, new_account, new_key):
    account = new_account("kraken")
    key = new_key(account)
    simulator.set_account_status(account, "suspended")
    assert errors(kraken_post("Balance", key)) == ["ETrade:User Locked"]
    with pytest.raises(ccxt.AccountSuspended):
        kraken(key).fetch_balance()
    assert errors(kraken_post("GetApiKeyInfo", key)) == ["EGeneral:Permission denied"]
    simulator.set_account_status(account, "closed")
    assert errors(kraken_post("Balance", key)) == ["EAPI:Invalid key"]
    assert errors(kraken_post("GetApiKeyInfo", key)) == ["EAPI:Invalid key"]
    with pytest.raises(ccxt.AuthenticationError):
        kraken(key).fetch_balance()
    simulator.set_account_status(account, "active")
    assert errors(kraken_post("Balance", key)) == []


def test_bad_arguments(kraken_post, new_key):
    key = new_key("dave")
    assert errors(kraken_post("TradesHistory", key, {"ofs": "x"})) == ["EGeneral:Invalid arguments"]
    assert errors(kraken_post("Ledgers", key, {"asset": "NOPE"})) == ["EGeneral:Invalid arguments"]
    assert errors(kraken_post("QueryLedgers", key, {"id": ",".join(["L"] * 21)})) == [
        "EGeneral:Invalid arguments"
    ]
    assert errors(kraken_post("NoSuchMethod", key)) == ["EGeneral:Unknown method"]


def test_request_log_never_holds_secrets(simulator, kraken_post, new_key, new_account):
    key = new_key(new_account("kraken"))
    seq = simulator.last_seq()
    kraken_post("Balance", key)
    kraken_post("Balance", key, secret="d3Jvbmc=")
    entries = simulator.requests_since(seq)["requests"]
    assert [(e["path"], e["status"], e["account"], e["api_key_prefix"]) for e in entries] == [
        ("/kraken/0/private/Balance", 200, key.account, key.api_key[:8]),
        ("/kraken/0/private/Balance", 200, key.account, key.api_key[:8]),
    ]
    assert key.secret not in str(entries) and key.api_key not in str(entries)

"""Every key and account scenario on OKX: the code, message and HTTP status OKX sends, and the
class a fresh ccxt.okx raises for it (the table in exchange_sync.simulator.protocols.okx.auth)."""

from __future__ import annotations

import time
import uuid

import ccxt
import pytest

from tests.simulator.conftest import Key, okx_timestamp


def refusal(response) -> tuple[int, str, str]:
    body = response.json()
    assert body["data"] == [], body
    return response.status, body["code"], body["msg"]


def ccxt_class(okx, response) -> type[Exception]:
    """What ccxt.okx's handle_errors raises for this exact answer."""
    exchange = okx(preload=False)
    with pytest.raises(ccxt.BaseError) as raised:
        exchange.handle_errors(response.status, "", "u", "GET", {}, response.text, response.json(), {}, None)
    return type(raised.value)


def test_valid_key_and_its_config(okx, okx_get, new_account, new_key, simulator):
    account = new_account("okx")
    key = new_key(account)
    assert len(key.passphrase) >= 8 and key.passphrase != key.secret
    assert okx_get("account/balance", key).json()["code"] == "0"
    (config,) = okx(key).private_get_account_config()["data"]
    assert config["perm"] == "read_only" and config["ip"] == ""
    assert config["uid"] == config["mainUid"] == simulator.account(account)["uid"]
    assert config["uid"].isdigit() and config["acctLv"] == "1"
    other = new_account("okx")
    assert okx(new_key(other)).private_get_account_config()["data"][0]["uid"] != config["uid"]


@pytest.mark.parametrize(
    ("header", "code", "name"),
    [
        ("KEY", "50103", "OK-ACCESS-KEY"),
        ("SIGN", "50106", "OK-ACCESS-SIGN"),
        ("TIMESTAMP", "50107", "OK-ACCESS-TIMESTAMP"),
        ("PASSPHRASE", "50104", "OK-ACCESS-PASSPHRASE"),
    ],
)
def test_missing_headers(okx, okx_get, new_account, new_key, header, code, name):
    key = new_key(new_account("okx"))
    answer = okx_get("account/balance", key, **{header: None})
    assert refusal(answer) == (401, code, f'Request header "{name}" can not be empty')
    assert ccxt_class(okx, answer) is ccxt.AuthenticationError


def test_timestamps(okx, okx_get, world_settings, new_account, new_key):
    key = new_key(new_account("okx"))
    for bad in ("1700000000000", "2026-12-01 10:00:00", "2026-12-01T10:00:00Z"):
        answer = okx_get("account/balance", key, timestamp=bad)
        assert refusal(answer) == (401, "50112", "Invalid OK-ACCESS-TIMESTAMP"), bad
        assert ccxt_class(okx, answer) is ccxt.AuthenticationError
    stale = okx_get("account/balance", key, timestamp=okx_timestamp(int(time.time() * 1000) - 31_000))
    assert refusal(stale) == (401, "50102", "Timestamp request expired")
    recent = okx_get("account/balance", key, timestamp=okx_timestamp(int(time.time() * 1000) - 20_000))
    assert recent.json()["code"] == "0", "within 30 s"
    world_settings.request("POST", "/_sim/clock", {"offset_ms": 45_000})
    with pytest.raises(ccxt.InvalidNonce, match="50102"):
        okx(key).fetch_balance()


def test_unknown_key_and_wrong_secrets(okx, okx_get, new_account, new_key):
    key = new_key(new_account("okx"))
    stranger = Key(str(uuid.uuid4()), key.secret, "-", key.passphrase)
    assert refusal(okx_get("account/balance", stranger)) == (401, "50111", "Invalid OK-ACCESS-KEY")
    with pytest.raises(ccxt.AuthenticationError, match="50111"):
        okx(stranger).fetch_balance()
    wrong_pass = Key(key.api_key, key.secret, key.account, key.passphrase + "x")
    assert refusal(okx_get("account/balance", wrong_pass)) == (
        401,
        "50105",
        'Request header "OK-ACCESS-PASSPHRASE" incorrect',
    )
    with pytest.raises(ccxt.AuthenticationError, match="50105"):
        okx(wrong_pass).fetch_balance()
    wrong_secret = Key(key.api_key, "0" * 32, key.account, key.passphrase)
    assert refusal(okx_get("account/balance", wrong_secret)) == (401, "50113", "Invalid Sign")
    with pytest.raises(ccxt.AuthenticationError, match="50113"):
        okx(wrong_secret).fetch_balance()
    # The signature covers the query string (signed with it, a query is accepted).
    assert okx_get("account/balance", key, {"ccy": "BTC"}).json()["code"] == "0"


@pytest.mark.parametrize("action", ["delete", "revoke", "expire"])
def test_keys_that_no_longer_exist(okx, okx_get, simulator, new_account, new_key, action):
    key = new_key(new_account("okx"))
    simulator.key_action(key.api_key, action)
    answer = okx_get("account/balance", key)
    assert refusal(answer) == (401, "50119", "API key doesn't exist")
    with pytest.raises(ccxt.ExchangeError, match="50119") as raised:
        okx(key).fetch_balance()
    assert not isinstance(raised.value, ccxt.AuthenticationError), "ccxt has no entry for 50119"


def test_ip_allow_list(okx, okx_get, simulator, new_account, new_key):
    account = new_account("okx")
    elsewhere = new_key(account, ip_allowlist=["10.1.2.3", "192.168.0.0/16"])
    status, code, msg = refusal(okx_get("account/balance", elsewhere))
    assert (status, code) == (401, "50110") and "127.0.0.1" in msg and "IP whitelist" in msg
    with pytest.raises(ccxt.PermissionDenied, match="50110"):
        okx(elsewhere).fetch_balance()
    local = new_key(account, ip_allowlist=["127.0.0.0/8", "::1"])
    assert okx(local).private_get_account_config()["data"][0]["ip"] == "127.0.0.0/8,::1"
    simulator.update_key(local.api_key, ip_allowlist=["10.9.9.9"])
    assert refusal(okx_get("account/config", local))[1] == "50110"


def test_suspended_and_closed_accounts(okx, okx_get, simulator, new_account, new_key):
    account = new_account("okx")
    key = new_key(account)
    simulator.set_account_status(account, "suspended")
    answer = okx_get("account/balance", key)
    assert refusal(answer) == (400, "50100", "API frozen, please contact customer service.")
    with pytest.raises(ccxt.ExchangeError, match="50100") as raised:
        okx(key).fetch_balance()
    assert not isinstance(raised.value, ccxt.AccountSuspended | ccxt.AuthenticationError)
    simulator.set_account_status(account, "closed")
    assert refusal(okx_get("account/balance", key)) == (401, "50119", "API key doesn't exist")
    with pytest.raises(ccxt.ExchangeError, match="50119"):
        okx(key).fetch_balance()
    simulator.set_account_status(account, "active")
    assert okx_get("account/balance", key).json()["code"] == "0"


def test_permission_denied(okx, okx_get, new_account, new_key):
    account = new_account("okx")
    trade_only = new_key(account, permissions=["trade"])
    for path in ("account/balance", "trade/fills-history", "account/bills", "asset/deposit-history"):
        answer = okx_get(path, trade_only, {"instType": "SPOT"})
        assert refusal(answer) == (401, "50120", "API key doesn't have permission"), path
    with pytest.raises(ccxt.ExchangeError, match="50120"):
        okx(trade_only).fetch_my_trades()
    # account/config needs no permission: a diagnosis can read what the key may do.
    assert okx(trade_only).private_get_account_config()["data"][0]["perm"] == "trade"


def test_unknown_path_and_request_log(okx_get, simulator, new_account, new_key):
    key = new_key(new_account("okx"))
    assert refusal_404(okx_get("account/nothing-here", key))
    seq = simulator.last_seq()
    okx_get("account/balance", key)
    okx_get("account/balance", key, secret="F" * 32)
    entries = simulator.requests_since(seq)["requests"]
    assert [(e["path"], e["status"], e["account"], e["refused"]) for e in entries] == [
        ("/okx/api/v5/account/balance", 200, key.account, False),
        ("/okx/api/v5/account/balance", 401, key.account, True),
    ]
    text = str(entries)
    assert key.secret not in text and key.api_key not in text and key.passphrase not in text


def refusal_404(response) -> bool:
    return response.status == 404 and response.json()["code"] == "404"

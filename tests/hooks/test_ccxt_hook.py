from __future__ import annotations

import json

import ccxt
import pytest

from exchange_sync.hooks import ccxt as ccxt_hook
from exchange_sync.hooks.ccxt import (
    CcxtHook,
    Credentials,
    build_client,
    credentials_from_connection,
    rebase_urls,
)


def test_rebase_urls_keeps_paths_and_nested_shapes():
    urls = {
        "public": "https://api.binance.com/api/v3",
        "sapi": "https://api.binance.com/sapi/v1",
        "nested": {"fapi": "https://fapi.binance.com/fapi/v1"},
        "doc": None,
    }
    rebased = rebase_urls(urls, "http://127.0.0.1:9/binance/")
    assert rebased == {
        "public": "http://127.0.0.1:9/binance/api/v3",
        "sapi": "http://127.0.0.1:9/binance/sapi/v1",
        "nested": {"fapi": "http://127.0.0.1:9/binance/fapi/v1"},
        "doc": None,
    }


def _env_conn(monkeypatch, conn_id: str, extra: dict, login="KEY123456", password="s3cret-value") -> None:
    value = {"conn_type": "ccxt", "login": login, "password": password, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))


@pytest.mark.parametrize(
    "extra",
    [
        {"exchange": "binance", "passphrase": "pp-secret", "base_url": "http://sim/binance"},
        {
            "extra__ccxt__exchange": "binance",
            "extra__ccxt__passphrase": "pp-secret",
            "extra__ccxt__base_url": "http://sim/binance",
        },
    ],
)
def test_credentials_come_from_the_connection(monkeypatch, extra):
    _env_conn(monkeypatch, "ex_conn", extra)
    creds = CcxtHook("ex_conn").get_credentials()
    assert (creds.exchange, creds.api_key, creds.secret, creds.passphrase, creds.base_url) == (
        "binance",
        "KEY123456",
        "s3cret-value",
        "pp-secret",
        "http://sim/binance",
    )
    # Secrets never show in reprs (which end up in logs and tracebacks).
    assert "s3cret" not in repr(creds) and "pp-secret" not in repr(creds)


def test_fingerprint_identifies_key_versions_without_the_secret():
    a = Credentials("binance", api_key="AKEY0001", secret="secret-one")
    b = Credentials("binance", api_key="AKEY0001", secret="secret-two")
    assert a.fingerprint != b.fingerprint
    assert "secret" not in a.fingerprint and "AKEY0001" not in a.fingerprint
    assert a.fingerprint == Credentials("binance", api_key="AKEY0001", secret="secret-one").fingerprint


def test_client_is_configured_for_exact_amounts_and_the_override(monkeypatch):
    _env_conn(monkeypatch, "ex_conn", {"exchange": "binance", "base_url": "http://127.0.0.1:1/binance"})
    client = CcxtHook("ex_conn").get_client({"fetchCurrencies": False})
    assert client.number is str
    assert client.urls["api"]["public"] == "http://127.0.0.1:1/binance/api/v3"
    assert client.options["fetchCurrencies"] is False
    assert client.apiKey == "KEY123456"
    assert client.request_log.count == 0


def test_request_log_keeps_recent_records_and_counts_every_request(monkeypatch, simulator, make_sim_account):
    """One client imports a whole history, however long: its log keeps the records of its most
    recent requests only (it kept one per request), while the counts cover every request."""
    monkeypatch.setattr(ccxt_hook, "RECENT_REQUESTS", 3, raising=False)
    account = make_sim_account(trades=10, deposits=2, withdrawals=0)
    key = simulator.create_key(account.id)
    client = build_client(
        Credentials("binance", key["api_key"], key["secret"], base_url=simulator.exchange_url("binance"))
    )
    client.enableRateLimit = False
    client.load_markets()  # one request
    for _ in range(5):
        client.fetch_time()
    client.secret = "not-the-secret"  # the exchange refuses the signature
    for _ in range(2):
        with pytest.raises(ccxt.AuthenticationError):
            client.fetch_balance()

    log = client.request_log
    assert (log.count, log.failures) == (8, 2)
    assert [e.path.rsplit("/", 1)[-1] for e in log.entries] == ["time", "account", "account"]
    assert log.last_status is not None and log.last_status >= 400


def test_connection_type_is_registered_with_airflow():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert manager.hooks["ccxt"].hook_class_name == "exchange_sync.hooks.ccxt.CcxtHook"
    behaviour = manager.field_behaviours["ccxt"]
    assert behaviour["relabeling"] == {"login": "API key", "password": "Secret"}
    fields = set(manager.connection_form_widgets)
    assert {f"extra__ccxt__{name}" for name in ("exchange", "passphrase", "uid", "base_url")} <= fields


def test_credentials_from_a_plain_connection_object():
    from airflow.sdk import Connection

    conn = Connection(conn_id="c", conn_type="ccxt", login="k", password="s", extra='{"exchange": "kraken"}')
    assert credentials_from_connection(conn).exchange == "kraken"

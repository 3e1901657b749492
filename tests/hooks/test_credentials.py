"""A connection that cannot work is named field by field before any request is made."""

from __future__ import annotations

import json

import pytest

from exchange_sync.hooks.ccxt import CcxtHook, ConnectionProblem

GOOD_EXTRA = {"exchange": "binance", "base_url": "http://127.0.0.1:1/binance"}


def _set(monkeypatch, conn_id: str, **value) -> None:
    conn = {"conn_type": "ccxt", "login": "KEY123456", "password": "s3cret-value", "extra": GOOD_EXTRA}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, **value}))


@pytest.mark.parametrize(
    ("defect", "field", "words"),
    [
        ({"extra": '{"exchange": "binance",'}, "Extra", "is not valid JSON"),
        ({"extra": '["binance"]'}, "Extra", "must be a JSON object"),
        ({"extra": {}}, "Exchange id", "is empty"),
        ({"extra": {"exchange": "binanse"}}, "Exchange id", "did you mean 'binance'"),
        (
            {"extra": {"exchange": "binance", "base_url": "127.0.0.1:8765/binance"}},
            "Base URL override",
            "http",
        ),
        ({"extra": {"exchange": "binance", "base_url": "http:///binance"}}, "Base URL override", "host"),
        ({"login": ""}, "API key", "is empty"),
        ({"password": ""}, "Secret", "is empty"),
        ({"extra": {"exchange": "okx"}}, "Passphrase", "okx keys need it"),
    ],
    ids=[
        "extra-broken-json",
        "extra-not-object",
        "no-exchange",
        "misspelt-exchange",
        "base-url-no-scheme",
        "base-url-no-host",
        "empty-key",
        "empty-secret",
        "passphrase-required",
    ],
)
def test_unusable_connection_names_the_connection_and_the_field(monkeypatch, defect, field, words):
    _set(monkeypatch, "bad_conn", **defect)
    with pytest.raises(ConnectionProblem) as raised:
        CcxtHook("bad_conn").get_credentials()
    message = str(raised.value)
    assert message.startswith(f"Airflow connection 'bad_conn': field '{field}' ")
    assert words in message
    assert "s3cret-value" not in message and "KEY123456" not in message


def test_missing_connection_is_a_connection_problem():
    with pytest.raises(ConnectionProblem, match="'nope_conn': does not exist; create it"):
        CcxtHook("nope_conn").get_credentials()


def test_connection_for_another_exchange_than_the_registry_says(monkeypatch):
    _set(monkeypatch, "kr_conn", extra={"exchange": "kraken"})
    with pytest.raises(
        ConnectionProblem, match=r"'Exchange id' is 'kraken', but the account registry .* 'binance'"
    ):
        CcxtHook("kr_conn").get_credentials("binance")
    assert CcxtHook("kr_conn").get_credentials("kraken").exchange == "kraken"


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    ("where", "mangle"),
    [
        ("password", lambda pem: pem),
        ("password", lambda pem: pem.replace("\n", "")),  # a single-line password field
        ("password", lambda pem: pem.replace("\n", "\\n")),  # copied out of JSON
        ("private_key", lambda pem: pem),  # the multi-line field of the form
    ],
    ids=["multi-line", "line-breaks-dropped", "escaped-newlines", "private-key-field"],
)
def test_a_pem_private_key_survives_the_connection(monkeypatch, where, mangle):
    """Coinbase CDP keys: the secret is an EC private key in PEM, whatever the form did to it."""
    pem = _pem()
    extra = {"exchange": "coinbase", **({"private_key": mangle(pem)} if where == "private_key" else {})}
    password = mangle(pem) if where == "password" else ""
    _set(monkeypatch, "cb_conn", login="organizations/o1/apiKeys/k1", password=password, extra=extra)
    assert CcxtHook("cb_conn").get_credentials("coinbase").secret == pem


def test_a_pem_survives_the_metastore(airflow_db):
    """Written as the UI or REST API writes a connection, read back as a task reads it."""
    from exchange_sync.airflow_connections import find_connection, put_connection
    from exchange_sync.hooks.credentials import credentials_from_connection

    pem = _pem()
    put_connection(
        "cb_meta",
        conn_type="ccxt",
        login="organizations/o1/apiKeys/k2",
        password=pem,
        extra={"exchange": "coinbase"},
    )
    assert credentials_from_connection(find_connection("cb_meta")).secret == pem

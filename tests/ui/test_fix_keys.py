"""Fix it's form: the fields each exchange's keys have, as ccxt declares them."""

from __future__ import annotations

from exchange_sync.ui.fix_keys import form_fields


def names_and_kinds(exchange: str) -> list[tuple[str, str]]:
    return [(f["name"], f["kind"]) for f in form_fields(exchange)]


def test_key_and_secret_for_binance_and_kraken():
    for exchange in ("binance", "kraken"):
        assert names_and_kinds(exchange) == [("api_key", "text"), ("secret", "password")]


def test_okx_keys_have_a_passphrase():
    assert ("passphrase", "password") in names_and_kinds("okx")


def test_coinbase_secrets_are_a_multi_line_private_key():
    fields = {f["name"]: f for f in form_fields("coinbase")}
    assert fields["secret"]["kind"] == "pem" and "PEM" in fields["secret"]["label"]


def test_a_base_url_only_for_a_connection_that_does_not_exist():
    assert "base_url" not in [name for name, _kind in names_and_kinds("binance")]
    fields = form_fields("okx", connection_exists=False)
    assert [f["name"] for f in fields] == ["api_key", "secret", "passphrase", "base_url"]
    assert "leave empty for the real exchange" in fields[-1]["label"]

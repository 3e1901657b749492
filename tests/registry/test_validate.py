from __future__ import annotations

import re
from datetime import UTC, datetime
from textwrap import dedent

import pytest

from exchange_sync.registry import RegistryFileError, load_registry
from exchange_sync.registry.errors import InvalidRegistryEntries


def write(tmp_path, text: str):
    path = tmp_path / "accounts.yaml"
    path.write_text(dedent(text))
    return path


def test_valid_registry_with_defaults(tmp_path):
    path = write(
        tmp_path,
        """
        defaults: {history_start: 2024-06-01}
        exchanges: {binance: {schedule: "*/30 * * * *", pool_slots: 3}}
        accounts:
          - {id: alice, exchange: binance}
          - {id: bob-2, exchange: binance, conn_id: my_conn, streams: [trades, balances], symbols: [ETH/BTC]}
        """,
    )
    registry = load_registry(path)
    assert registry.errors == ()
    alice, bob = registry.accounts
    assert alice.conn_id == "exchange_sync_binance_alice"
    assert alice.streams == ("balances", "trades", "deposits", "withdrawals", "conversions")
    assert alice.history_start == datetime(2024, 6, 1, tzinfo=UTC)
    # Streams keep the import order whatever order the file lists them in.
    assert bob.streams == ("balances", "trades")
    assert bob.conn_id == "my_conn" and bob.symbols == ("ETH/BTC",)
    binance = registry.exchange_config("binance")
    assert (binance.schedule, binance.pool_slots, binance.pool) == ("*/30 * * * *", 3, "ccxt_binance")
    assert alice.trade_sweep_hours == 24


def test_trade_sweep_hours_by_default_and_per_account(tmp_path):
    path = write(
        tmp_path,
        """
        defaults: {trade_sweep_hours: 6}
        accounts:
          - {id: alice, exchange: binance}
          - {id: bob, exchange: binance, trade_sweep_hours: 0.5}
        """,
    )
    alice, bob = load_registry(path).accounts
    assert (alice.trade_sweep_hours, bob.trade_sweep_hours) == (6, 0.5)
    assert type(alice).from_task_arg(bob.to_task_arg()) == bob


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ("{id: bob, exchange: binanse}", "exchange", "unknown exchange 'binanse' (did you mean 'binance'?)"),
        ("{id: bob, exchange: bybit}", "exchange", "no profile for it yet"),
        ("{id: bob, exchange: binance, streams: [ledgr]}", "streams", "unknown stream 'ledgr'"),
        ("{id: bob, exchange: binance, streams: [ledger]}", "streams", "binance has no 'ledger' stream"),
        ("{id: bob, exchange: binance, history_start: yesterday}", "history_start", "not a date"),
        ("{id: bob, exchange: binance, symbols: [btcusdt]}", "symbols", "not a unified symbol"),
        ("{id: bob, exchange: binance, colour: red}", "colour", "unknown field"),
        ("{id: Bob!, exchange: binance}", "id", "not a valid account id"),
        ("{id: bob}", "exchange", "is required"),
        (
            "{id: bob, exchange: binance, trade_sweep_hours: 0}",
            "trade_sweep_hours",
            "must be a positive number",
        ),
    ],
)
def test_bad_entry_is_named_and_others_still_load(tmp_path, entry, field, message):
    path = write(
        tmp_path,
        f"""
        accounts:
          - {{id: alice, exchange: binance}}
          - {entry}
        """,
    )
    registry = load_registry(path)
    assert [a.id for a in registry.accounts] == ["alice"]
    (error,) = registry.errors
    text = str(error)
    assert text.startswith(f"{path}: accounts[1]")
    assert f"field '{field}'" in text
    assert message in text
    with pytest.raises(InvalidRegistryEntries, match=r"accounts\[1\]"):
        registry.raise_for_errors()


def test_duplicate_account_id_names_both_entries(tmp_path):
    path = write(tmp_path, "accounts: [{id: a, exchange: binance}, {id: a, exchange: binance}]")
    (error,) = load_registry(path).errors
    assert "accounts[1] (id 'a'), field 'id': duplicates accounts[0] (id 'a')" in str(error)


def test_bad_exchange_settings_are_named(tmp_path):
    path = write(
        tmp_path,
        """
        exchanges: {binance: {schedule: "every hour", pool_slots: 0}}
        accounts: [{id: a, exchange: binance}]
        """,
    )
    registry = load_registry(path)
    messages = sorted(str(e) for e in registry.errors)
    assert "exchanges.binance, field 'pool_slots'" in messages[0]
    assert "exchanges.binance, field 'schedule': 'every hour' is not a valid cron expression" in messages[1]
    # The account still loads, with the default exchange settings.
    assert [a.id for a in registry.accounts] == ["a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accounts: [", "not valid YAML"),
        ("- just a list", "top level must be a mapping"),
        ("acounts: []", "unknown top-level key 'acounts' (did you mean 'accounts'?)"),
        ("accounts: {alice: binance}", "'accounts' must be a list"),
    ],
)
def test_unusable_file_is_one_clear_error(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(RegistryFileError, match=re.escape(message)) as info:
        load_registry(path)
    assert str(path) in str(info.value)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(RegistryFileError, match="cannot read the account registry"):
        load_registry(tmp_path / "nope.yaml")


def test_shipped_demo_registry_is_valid():
    from tests.conftest import REPO

    registry = load_registry(REPO / "dags" / "accounts.yaml")
    assert registry.errors == ()
    assert [(a.id, a.exchange) for a in registry.accounts] == [
        ("alice", "binance"),
        ("bob", "binance"),
        ("carol", "binance"),
        ("dave", "kraken"),
        ("erin", "coinbase"),
        ("frank", "okx"),
    ]
    assert registry.account("erin").streams == ("balances", "trades", "ledger")
    assert registry.account("dave").streams == ("balances", "trades", "deposits", "withdrawals", "ledger")

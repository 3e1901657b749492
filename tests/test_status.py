"""`exchange-sync status`: the per-account view operators and scripts rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from textwrap import dedent

import pytest

from exchange_sync.importer.run import run_account_import

CLI = str(Path(sys.executable).with_name("exchange-sync"))


@pytest.fixture
def accounts(make_sim_account, connect, tmp_path, monkeypatch):
    healthy, failing, fresh = (make_sim_account(trades=50, symbols=2) for _ in range(3))
    registry = tmp_path / "accounts.yaml"
    registry.write_text(
        dedent(
            f"""
            defaults: {{history_start: 2024-01-01}}
            accounts:
              - {{id: {healthy.id}, exchange: binance, conn_id: st_{healthy.id}}}
              - {{id: {failing.id}, exchange: binance, conn_id: st_{failing.id}}}
              - {{id: {fresh.id}, exchange: binance, conn_id: st_{fresh.id}, streams: [balances, trades]}}
            """
        )
    )
    monkeypatch.setenv("EXCHANGE_SYNC_REGISTRY", str(registry))
    connect(f"st_{healthy.id}", healthy.id)
    connect(f"st_{failing.id}", failing.id, permissions=[])  # no "reading": the exchange says -2015
    return healthy, failing, fresh


def status(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "status", *args], capture_output=True, text=True, env=os.environ.copy())


def test_status_json(accounts, warehouse):
    from exchange_sync.registry import load_registry

    healthy, failing, fresh = accounts
    registry = load_registry(os.environ["EXCHANGE_SYNC_REGISTRY"])
    run_account_import(registry.account(healthy.id), warehouse)
    with pytest.raises(Exception):  # noqa: B017 -- ccxt's AuthenticationError
        run_account_import(registry.account(failing.id), warehouse)

    result = status("--json")
    assert result.returncode == 0, result.stderr
    by_id = {a["account"]: a for a in json.loads(result.stdout)["accounts"]}
    assert list(by_id) == [healthy.id, failing.id, fresh.id]

    ok = by_id[healthy.id]
    assert (ok["exchange"], ok["conn_id"], ok["state"], ok["incident"]) == (
        "binance",
        f"st_{healthy.id}",
        "healthy",
        None,
    )
    history = healthy.history()
    assert ok["streams"]["trades"]["rows"] == len(history["trades"])
    assert ok["streams"]["deposits"]["rows"] == len(history["deposits"])
    assert ok["streams"]["balances"]["rows"] == len(history["balances"])
    for stream in ("balances", "trades", "deposits", "withdrawals"):
        datetime.fromisoformat(ok["streams"][stream]["synced_until"])

    bad = by_id[failing.id]
    assert bad["state"] == "failing"
    assert "AuthenticationError" in bad["last_error"]
    assert bad["streams"]["trades"] == {"rows": 0, "synced_until": None}

    never = by_id[fresh.id]
    assert never["state"] == "never_synced"
    assert list(never["streams"]) == ["balances", "trades"]


def test_status_table(accounts, warehouse):
    _healthy, _failing, fresh = accounts
    result = status()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "ACCOUNT",
        "EXCHANGE",
        "STATE",
        "INCIDENT",
        "STREAM",
        "ROWS",
        "SYNCED",
        "UNTIL",
    ]
    assert any(line.startswith(fresh.id) and "never_synced" in line for line in lines)
    # Nothing is synced yet: every stream of every account (5 + 5 + 2) says so.
    assert [line.split()[-1] for line in lines[1:]] == ["never"] * 12

"""Operator errors at the `exchange-sync` command line: one clear line and a non-zero exit, the
traceback only with --debug."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

CLI = str(Path(sys.executable).with_name("exchange-sync"))


@pytest.fixture
def registry(tmp_path, monkeypatch, sqlite_url) -> Path:
    path = tmp_path / "accounts.yaml"
    path.write_text(
        dedent(
            """
            defaults: {history_start: 2024-01-01}
            accounts:
              - {id: alice, exchange: binance}
              - {id: bob, exchange: binanse}
            """
        )
    )
    monkeypatch.setenv("EXCHANGE_SYNC_REGISTRY", str(path))
    monkeypatch.setenv("EXCHANGE_SYNC_WAREHOUSE_URL", sqlite_url)
    return path


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=os.environ.copy(), timeout=120)


def _only_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_unknown_account_is_one_line_with_a_suggestion(registry):
    line = _only_line(cli("import", "alcie"))
    assert line.startswith("exchange-sync import: ") and str(registry) in line
    assert "no account with id 'alcie'" in line and "did you mean 'alice'" in line


def test_invalid_account_says_why_it_cannot_be_used(registry):
    line = _only_line(cli("freeze", "bob"))
    assert "'bob' is not usable" in line and "field 'exchange'" in line and "binanse" in line


def test_missing_connection_is_one_line_naming_it(registry):
    line = _only_line(cli("import", "alice"))
    assert "Airflow connection 'exchange_sync_binance_alice': does not exist" in line


def test_debug_shows_the_traceback(registry):
    for argv in (("--debug", "import", "alcie"), ("import", "alcie", "--debug")):
        done = cli(*argv)
        assert done.returncode != 0 and "Traceback" in done.stderr and "UnknownAccount" in done.stderr


def test_missing_registry_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("EXCHANGE_SYNC_REGISTRY", str(tmp_path / "nope.yaml"))
    line = _only_line(cli("status"))
    assert "nope.yaml: cannot read the account registry" in line


def test_status_lists_invalid_entries_instead_of_hiding_them(registry):
    table = cli("status")
    assert table.returncode == 0, table.stderr
    assert "Invalid registry entries" in table.stdout
    assert "accounts[1] (id 'bob'), field 'exchange'" in table.stdout
    data = json.loads(cli("status", "--json").stdout)
    assert [a["account"] for a in data["accounts"]] == ["alice"]
    (invalid,) = data["invalid_entries"]
    assert (invalid["entry"], invalid["field"]) == ("accounts[1] (id 'bob')", "exchange")

"""`exchange-sync import-csv` and `csv-rejects` as an operator runs them, and the schema step that
gives rows stored before CSV imports existed their source."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from exchange_sync.cli import main
from exchange_sync.warehouse import Warehouse
from exchange_sync.warehouse.migrations import LATEST_VERSION
from exchange_sync.warehouse.schema import transfers
from tests.csv_import.conftest import HEADER

REGISTRY = """
exchanges:
  binance: {}
accounts:
  - id: acc
    exchange: binance
    conn_id: conn_acc
    history_start: "2024-01-01"
"""


def test_import_csv_then_list_its_rejects(warehouse, write, capsys):
    registry = write("accounts.yaml", REGISTRY)
    path = write(
        "mine.csv",
        f"{HEADER}\ndeposit,2024-03-01 10:00:00,,,,,1.5,,BTC,,,0xabc,\ndeposit,2024-03-01,,,,,x,,BTC,,,,\n",
    )
    assert main(["import-csv", "acc", str(path), "--registry", str(registry)]) == 0
    summary = capsys.readouterr().out
    assert "mine.csv (generic): 2 lines read; stored 1 transfers" in summary
    assert "line 3: bad_time: column 'time': '2024-03-01'" in summary
    assert len(warehouse.rows(transfers, "acc")) == 1

    assert main(["csv-rejects", "acc", "--registry", str(registry), "--json"]) == 0
    [reject] = json.loads(capsys.readouterr().out)
    assert (reject["line"], reject["reason"], reject["raw"][6]) == (3, "bad_time", "x")


def test_an_unreadable_file_is_one_line_naming_it(warehouse, write, capsys):
    registry = write("accounts.yaml", REGISTRY)
    path = write("statement.pdf", b"%PDF-1.7\x00\x00binary")
    assert main(["import-csv", "acc", str(path), "--registry", str(registry)]) == 1
    assert capsys.readouterr().err.strip() == (
        "exchange-sync import-csv: statement.pdf: is not a text file (it holds binary data); export it as CSV"
    )


def test_a_format_of_another_exchange_is_refused(warehouse, write, capsys):
    registry = write("accounts.yaml", REGISTRY)
    path = write("x.csv", HEADER + "\n")
    assert main(["import-csv", "acc", str(path), "--format", "nonesuch", "--registry", str(registry)]) == 1
    assert "--format 'nonesuch' is not a format for binance accounts; choose from:" in capsys.readouterr().err


def test_rows_stored_before_version_6_are_the_apis(sqlite_url):
    """A warehouse of version 5 (no sources, no CSV tables) migrates; its rows say "api"."""
    Warehouse.open(sqlite_url).close()
    fresh = Warehouse.open(sqlite_url)
    with fresh.engine.begin() as conn:
        for table in ("trades", "transfers", "ledger"):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN source"))
        conn.execute(text("DROP TABLE csv_imports"))
        conn.execute(text("DROP TABLE csv_rejects"))
        conn.execute(text("DELETE FROM exchange_sync_schema"))
        conn.execute(text("INSERT INTO exchange_sync_schema VALUES (5, :now)"), {"now": datetime.now(UTC)})
        conn.execute(
            text(
                "INSERT INTO transfers (account_id, kind, transfer_id, exchange, currency, amount, "
                "occurred_at, imported_at) VALUES ('acc', 'deposit', 'd1', 'binance', 'BTC', '1', "
                "'2024-03-01 00:00:00.000000', '2024-03-01 00:00:00.000000')"
            )
        )
    fresh.close()
    migrated = Warehouse.open(sqlite_url)
    with migrated.engine.connect() as conn:
        assert conn.execute(text("SELECT max(version) FROM exchange_sync_schema")).scalar() == LATEST_VERSION
        assert conn.execute(text("SELECT count(*) FROM csv_rejects")).scalar() == 0
    [row] = migrated.rows(transfers, "acc")
    assert row["source"] == "api"
    migrated.close()

"""The exchanges' own export files, as the simulator writes them, complete an account's history:
one suite for every exchange with exports (simulator `export_names`), against ccxt's real classes
over HTTP for the API side. Whatever the order (export before, after, or overlapping the API
import), the warehouse ends equal to the simulator's whole history, nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange_sync.csv_import.formats import FORMATS
from exchange_sync.csv_import.run import CsvImportReport, import_csv
from exchange_sync.importer.run import run_account_import
from exchange_sync.warehouse.schema import ledger, trades, transfers
from tests.fixtures.ground_truth import assert_whole_history_matches
from tests.fixtures.simulator import every_exchange
from tests.importer.conftest import SMALL, account_config

PRECISION = {f.name: f.time_precision_ms for f in FORMATS}


@pytest.fixture
def exports_account(make_sim_account, connect, simulator, exchange):
    """A small account on an exchange that has exports (the others are not supported yet)."""
    names = simulator.exchanges()[exchange]["exports"]
    if not names:
        pytest.skip(f"the simulator writes no {exchange} export files yet")
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    return account


def import_exports(account, warehouse, tmp_path: Path) -> list[CsvImportReport]:
    """Download every export file of the account and import each (a fresh download each time:
    the export holds the history as it is now)."""
    reports = []
    config = account_config(account.id, account.exchange)
    for name in account.simulator.exchanges()[account.exchange]["exports"]:
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}-{name}"
        path.write_bytes(account.simulator.export(account.id, name))
        reports.append(import_csv(warehouse, config, path))
    return reports


def precision(reports: list[CsvImportReport]) -> int:
    return max(PRECISION[r.format] for r in reports)


def everything(warehouse, account_id: str) -> dict[str, list]:
    return {
        t.name: sorted(
            (tuple(sorted(r.items(), key=lambda kv: kv[0])) for r in warehouse.rows(t, account_id)), key=str
        )
        for t in (trades, transfers, ledger)
    }


def assert_no_rejects_but_duplicates(reports: list[CsvImportReport]) -> None:
    """A clean export has no bad line: every rejection is a row the API already holds, or a part
    of an entry another export holds whole (Binance's Transaction History repeats its trades)."""
    for report in reports:
        assert set(report.rejected) <= {"duplicate_of_api", "covered_by_export"}, report.summary()


@every_exchange
def test_exports_alone_complete_a_closed_account(exports_account, warehouse, simulator, tmp_path):
    """A closed account, never imported by API: its final exports are its whole history."""
    simulator.set_account_status(exports_account.id, "closed")
    reports = import_exports(exports_account, warehouse, tmp_path)
    assert_no_rejects_but_duplicates(reports)
    assert_whole_history_matches(warehouse, exports_account.id, exports_account.history(), precision(reports))


@every_exchange
def test_exports_after_the_api_add_only_what_it_did_not_deliver(exports_account, warehouse, tmp_path):
    config = account_config(exports_account.id, exports_account.exchange)
    run_account_import(config, warehouse)
    before = everything(warehouse, exports_account.id)
    reports = import_exports(exports_account, warehouse, tmp_path)
    assert_no_rejects_but_duplicates(reports)
    history = exports_account.history()
    assert_whole_history_matches(warehouse, exports_account.id, history, precision(reports))
    # What the API delivered is kept as it delivered it; the export only adds.
    after = everything(warehouse, exports_account.id)
    for table, rows in before.items():
        assert set(rows) <= set(after[table]), table


@every_exchange
def test_the_api_after_exports_takes_over_their_rows(exports_account, warehouse, tmp_path):
    reports = import_exports(exports_account, warehouse, tmp_path)
    run_account_import(account_config(exports_account.id, exports_account.exchange), warehouse)
    history = exports_account.history()
    assert_whole_history_matches(warehouse, exports_account.id, history, precision(reports))
    # Every trade the API serves is now the API's row (its own id, source "api").
    api_trades = {(t["symbol"], t["id"]) for t in history["trades"]}
    stored = {(r["symbol"], r["trade_id"]): r["source"] for r in warehouse.rows(trades, exports_account.id)}
    served = [key for key in api_trades if key in stored]
    assert served and all(stored[key] == "api" for key in served)


@every_exchange
def test_overlapping_export_then_api_again(exports_account, warehouse, simulator, tmp_path):
    """API import; new activity; an export covering both; the API again: each entry once."""
    config = account_config(exports_account.id, exports_account.exchange)
    run_account_import(config, warehouse)
    simulator.add_activity(exports_account.id, trades=9, deposits=2, withdrawals=1)
    reports = import_exports(exports_account, warehouse, tmp_path)
    history = exports_account.history()
    assert_whole_history_matches(warehouse, exports_account.id, history, precision(reports))
    run_account_import(config, warehouse)
    assert_whole_history_matches(warehouse, exports_account.id, exports_account.history(), precision(reports))


@every_exchange
def test_importing_the_same_exports_again_changes_nothing(exports_account, warehouse, tmp_path):
    first = import_exports(exports_account, warehouse, tmp_path)
    stored = everything(warehouse, exports_account.id)
    again = import_exports(exports_account, warehouse, tmp_path)
    assert everything(warehouse, exports_account.id) == stored
    assert all(sum(r.stored.values()) == 0 for r in again)
    assert [r.unchanged for r in again] == [sum(r.stored.values()) for r in first]


@every_exchange
def test_closing_an_account_final_sync_then_its_final_export(
    exports_account, warehouse, simulator, tmp_path, monkeypatch
):
    """The seed's advice for closing an account, end to end: freeze with a final sync, move the
    rest out, close the account, delete the key; the final export completes the history with no
    API key at all."""
    from exchange_sync.recovery.freeze import freeze

    config = account_config(exports_account.id, exports_account.exchange)
    run_account_import(config, warehouse)
    simulator.add_activity(exports_account.id, trades=5, deposits=1)
    assert freeze(config, warehouse, reason="closing the account", final_sync=True)["frozen"]
    simulator.add_activity(exports_account.id, trades=3, withdrawals=2)  # after the final sync
    simulator.set_account_status(exports_account.id, "closed")
    monkeypatch.delenv(f"AIRFLOW_CONN_{config.conn_id.upper()}")
    reports = import_exports(exports_account, warehouse, tmp_path)
    assert_no_rejects_but_duplicates(reports)
    assert_whole_history_matches(warehouse, exports_account.id, exports_account.history(), precision(reports))
    assert warehouse.accounts.get(exports_account.id).frozen

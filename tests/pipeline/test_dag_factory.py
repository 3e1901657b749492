from __future__ import annotations

import subprocess
import sys
from textwrap import dedent

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import CronDataIntervalTimetable

from tests.conftest import REPO

DAGS = REPO / "dags"


@pytest.fixture
def registry_file(tmp_path, monkeypatch):
    def write(text: str):
        path = tmp_path / "accounts.yaml"
        path.write_text(dedent(text))
        monkeypatch.setenv("EXCHANGE_SYNC_REGISTRY", str(path))
        return path

    return write


def test_shipped_dags_load_without_import_errors():
    bag = DagBag(str(DAGS))
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == [
        "exchange_sync_binance",
        "exchange_sync_binance_recovery",
        "exchange_sync_coinbase",
        "exchange_sync_coinbase_recovery",
        "exchange_sync_freeze",
        "exchange_sync_kraken",
        "exchange_sync_kraken_recovery",
        "exchange_sync_okx",
        "exchange_sync_okx_recovery",
    ]


def test_exchange_dag_shape(registry_file):
    registry_file(
        """
        exchanges: {binance: {schedule: "15 * * * *", pool_slots: 3}}
        accounts: [{id: a1, exchange: binance}, {id: a2, exchange: binance}]
        """
    )
    dag = DagBag(str(DAGS)).dags["exchange_sync_binance"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)  # a real data interval per run
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert [t.task_id for t in dag.tasks] == [
        "account.import_account",
        "account.diagnose",
        "account.notify",
        "account.start_recovery",
        "check_accounts",
    ]
    task = dag.get_task("account.import_account")
    assert task.pool == "ccxt_binance"
    assert dag.get_task("account.diagnose").trigger_rule == "one_failed"
    assert dag.get_task("check_accounts").trigger_rule == "all_done"
    # The grid shows the account id instead of a bare map index.
    assert task.map_index_template == "{{ account_label }}"
    accounts = dag.task_group_dict["account"]._expand_input.value["config"]
    assert [a["id"] for a in accounts] == ["a1", "a2"]
    assert all("secret" not in str(a).lower() for a in accounts)


def test_manual_only_schedule(registry_file):
    registry_file("exchanges: {binance: {schedule: null}}\naccounts: [{id: a1, exchange: binance}]")
    assert DagBag(str(DAGS)).dags["exchange_sync_binance"].schedule is None


def test_broken_entry_is_an_import_error_and_valid_dags_still_load(registry_file):
    path = registry_file(
        """
        accounts:
          - {id: good, exchange: binance}
          - {id: broken, exchange: binance, streams: [trades, ledgr]}
        """
    )
    bag = DagBag(str(DAGS))
    assert "exchange_sync_binance" in bag.dag_ids
    dag = bag.dags["exchange_sync_binance"]
    assert [a["id"] for a in dag.task_group_dict["account"]._expand_input.value["config"]] == ["good"]
    (error_file,) = bag.import_errors
    assert error_file.endswith("exchange_sync_registry_check.py")
    message = bag.import_errors[error_file]
    assert str(path) in message
    assert "accounts[1] (id 'broken'), field 'streams': unknown stream 'ledgr'" in message


def test_parsing_does_no_heavy_work():
    """No ccxt, no warehouse engine, no network at parse time (Airflow re-parses every 30 s)."""
    code = dedent(
        f"""
        import runpy, sys
        runpy.run_path({str(DAGS / "exchange_sync_dags.py")!r})
        heavy = [m for m in ("ccxt", "exchange_sync.warehouse.engine", "exchange_sync.hooks.ccxt", "aiohttp")
                 if m in sys.modules]
        print(heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"

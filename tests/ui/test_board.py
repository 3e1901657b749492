"""The board's row after a real outage: links to the account's own task instances and recovery
runs in Airflow, and the gap the recovery filled with the rows it brought back."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from exchange_sync.registry import load_registry
from exchange_sync.settings import registry_path
from exchange_sync.status import format_table, registry_status
from exchange_sync.ui.board import board
from tests.recovery.conftest import make_world


@pytest.fixture
def world(airflow_db, make_sim_account, simulator, receiver, tmp_path, monkeypatch, sqlite_url):
    world = make_world(make_sim_account, simulator, receiver, tmp_path, monkeypatch, sqlite_url)
    yield world
    world.warehouse.close()


def task_instance(dag_id: str, run_id: str, task_id: str, map_index: int):
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)
            .one()
        )
        return ti.rendered_map_index, str(ti.state)


def test_row_links_the_accounts_runs_and_counts_the_gap_it_filled(world):
    account = world.account_id
    first = world.run_exchange_dag()
    world.simulator.key_action(world.key["api_key"], "revoke")
    world.simulator.add_activity(account, trades=5, deposits=2)
    broken = world.run_exchange_dag()
    assert (first.state, broken.state) == ("success", "failed")
    (incident,) = world.warehouse.incidents.history(account)
    (row,) = board(load_registry(registry_path()), world.warehouse)["rows"]
    assert row["last_gap"] is None  # nothing filled yet: the rows missing are not known

    recovery = world.run_recovery(incident.id, while_waiting=lambda: world.save_key(world.new_key()))
    assert recovery.state == "success"
    (row,) = board(load_registry(registry_path()), world.warehouse)["rows"]

    imports = row["runs"]["imports"]
    expected = [(broken.run_id, "failed"), (first.run_id, "success")]
    assert [(r["run_id"], r["state"]) for r in imports] == expected
    for run in imports:
        link = re.fullmatch(r"/dags/([^/]+)/runs/([^/]+)/tasks/([^/]+)/mapped/(\d+)", run["link"])
        assert link, run["link"]
        dag_id, run_id, task_id, map_index = link.groups()
        assert (dag_id, unquote(run_id)) == ("exchange_sync_binance", run["run_id"])
        # The link lands on this account's own task instance of that run.
        assert task_instance(dag_id, run["run_id"], task_id, int(map_index)) == (account, run["state"])
    # Newest first: the run this test made, then the one the failure path triggered (which no
    # scheduler picks up here).
    recovered, triggered = row["runs"]["recoveries"]
    assert (recovered["run_id"], recovered["state"]) == (recovery.run_id, "success")
    assert triggered["run_id"] == f"incident-{incident.id}-{account}"
    assert unquote(recovered["link"]) == f"/dags/exchange_sync_binance_recovery/runs/{recovery.run_id}"

    closed = world.warehouse.incidents.get(incident.id)
    assert closed.backfilled_rows >= 7  # the 5 trades and 2 deposits made during the outage, at least
    gap = row["last_gap"]
    assert (gap["incident_id"], gap["cause"]) == (incident.id, "key_revoked")
    assert gap["rows"] == closed.backfilled_rows
    assert f"{closed.backfilled_rows} rows backfilled" in gap["words"]
    assert row["state"] == "healthy" and row["gap"] is None
    # `exchange-sync status` says the same, from the same code.
    table = format_table(registry_status(load_registry(registry_path()), world.warehouse))
    assert f"{account}: #{incident.id} key_revoked, " in table
    assert f"{closed.backfilled_rows} rows backfilled" in table.split("Last gaps filled by a recovery:")[1]

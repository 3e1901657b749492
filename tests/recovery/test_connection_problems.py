"""A connection that cannot work (missing, broken extra, no or a misspelt exchange, a base URL
without a scheme, an empty secret) is an incident like any other: named by connection and field,
one notification, no request to the exchange, and fixing the connection recovers the account."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest

from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.recovery.conftest import World
from tests.recovery.test_broken_connections import import_states, task_state


def _edit(conn_id: str, **changes) -> None:
    """Save the connection as the UI or REST API would, without any check of ours."""
    from airflow.models import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        query = session.query(Connection).filter(Connection.conn_id == conn_id)  # noqa: AIR311 -- the metastore
        conn = query.one()
        for name, value in changes.items():
            if name == "delete":
                session.delete(conn)
            elif name == "password":
                conn._password = value or None  # set_password("") keeps the old secret
            elif name == "extra":
                conn.set_extra(value)
            else:
                setattr(conn, name, value)


def _extra(world: World, **fields) -> str:
    return json.dumps({"exchange": "binance", "base_url": world.simulator.exchange_url("binance"), **fields})


def _env_conn_with_broken_extra(world: World) -> None:
    """The metastore refuses extra that is not JSON; an environment variable or a secrets backend
    serves it as it is (and wins over the metastore)."""
    value = {"conn_type": "ccxt", "login": "K", "password": "S", "extra": '{"exchange": "binance"'}
    os.environ[f"AIRFLOW_CONN_{world.conn_id.upper()}"] = json.dumps(value)


def _fix(world: World) -> None:
    os.environ.pop(f"AIRFLOW_CONN_{world.conn_id.upper()}", None)
    world.save_key(world.key)


DEFECTS: dict[str, tuple[Callable[[World], None], str]] = {
    "connection missing": (lambda w: _edit(w.conn_id, delete=True), "does not exist"),
    "extra not JSON": (_env_conn_with_broken_extra, "field 'Extra'"),
    "no exchange": (lambda w: _edit(w.conn_id, extra=_extra(w, exchange="")), "field 'Exchange id'"),
    "misspelt exchange": (
        lambda w: _edit(w.conn_id, extra=_extra(w, exchange="binanse")),
        "did you mean 'binance'",
    ),
    "base URL without scheme": (
        lambda w: _edit(w.conn_id, extra=_extra(w, base_url="127.0.0.1:8765/binance")),
        "field 'Base URL override'",
    ),
    "empty secret": (lambda w: _edit(w.conn_id, password=""), "field 'Secret' is empty"),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_unusable_connection_is_an_incident_that_names_it_and_recovers(
    world: World, defect: str, monkeypatch
):
    break_it, words = DEFECTS[defect]
    monkeypatch.delenv(f"AIRFLOW_CONN_{world.conn_id.upper()}", raising=False)  # restored afterwards
    break_it(world)
    seq = world.simulator.last_seq()
    run = world.run_exchange_dag()

    assert import_states(run) == ["failed"] and run.state == "failed"
    assert [task_state(run, t) for t in ("account.diagnose", "account.notify", "account.start_recovery")] == [
        "success"
    ] * 3
    assert task_state(run, "check_accounts") == "failed"  # the account is listed as not importing
    (incident,) = world.warehouse.incidents.history(world.account_id)
    assert incident.cause == "credentials_missing"
    assert incident.title.startswith(f"Airflow connection '{world.conn_id}'") and words in incident.title
    # Nothing blames the exchange: no request was made.
    assert world.simulator.requests_since(seq)["requests"] == []
    last_error = world.warehouse.account_sync(world.account_id)["last_error"]
    assert "returned an error" not in last_error and words in last_error
    (alert,) = world.messages()
    assert world.conn_id in alert["title"] and words in alert["title"]

    # Fixing the connection is enough: the waiting recovery notices it and imports everything.
    recovery = world.run_recovery(incident.id, while_waiting=lambda: _fix(world))
    assert recovery.state == "success"
    closed = world.warehouse.incidents.get(incident.id)
    assert (closed.state, closed.resolution) == ("closed", "recovered")
    assert_warehouse_matches(world.warehouse, world.account_id, world.history())
    assert "Recovered" in world.messages()[-1]["title"]


def test_diagnose_never_crashes_when_the_import_left_no_failure(world: World):
    """An import killed before it could record why still ends in an incident, named as ours."""
    from exchange_sync.recovery.failure_path import diagnose_step
    from exchange_sync.registry import load_registry
    from exchange_sync.settings import registry_path

    account = load_registry(registry_path()).account(world.account_id)
    for failure in (None, {"unexpected": "shape"}):
        result = diagnose_step(account, failure, world.warehouse)
        incident = world.warehouse.incidents.get(result["incident_id"])
        assert incident.cause == "unknown" and "inside exchange-sync" in incident.title

"""A world for broken-connection scenarios: one simulator account with history, its key in an
Airflow connection in the metastore (where the UI and REST API edit it), a local notification
receiver, a warehouse, and helpers to run the exchange DAG and a recovery run with `dag.test()`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from textwrap import dedent

import pytest
from airflow.dag_processing.dagbag import DagBag

from exchange_sync.airflow_connections import put_connection
from exchange_sync.sim_client import SimulatorClient
from exchange_sync.warehouse import Warehouse
from tests.conftest import REPO
from tests.fixtures.receiver import Receiver


@dataclass
class World:
    account_id: str
    conn_id: str
    simulator: SimulatorClient
    warehouse: Warehouse
    receiver: Receiver
    exchange: str = "binance"
    key: dict = field(default_factory=dict)
    minted: list[dict] = field(default_factory=list)  # every key created for this test

    # -- the exchange side ---------------------------------------------------------------------

    def history(self) -> dict:
        return self.simulator.history(self.account_id)

    def new_key(self, account_id: str | None = None, **spec) -> dict:
        key = self.simulator.create_key(account_id or self.account_id, **spec)
        self.minted.append(key)
        return key

    def failed_auth_requests(self, since: int) -> int:
        requests = self.simulator.requests_since(since)["requests"]
        return sum(1 for r in requests if r["account"] == self.account_id and r["refused"])

    # -- the Airflow side ----------------------------------------------------------------------

    def save_key(self, key: dict) -> None:
        """Write a key into the account's connection, as an edit in the UI or REST API does."""
        put_connection(
            self.conn_id,
            conn_type="ccxt",
            login=key["api_key"],
            password=key["secret"],
            extra={
                "exchange": self.exchange,
                "base_url": self.simulator.exchange_url(self.exchange),
                **{name: key[name] for name in ("passphrase", "uid") if key.get(name)},
            },
        )
        self.key = key

    def dags(self):
        bag = DagBag(str(REPO / "dags"))
        assert bag.import_errors == {}
        return bag.dags

    def run_exchange_dag(self):
        return self.dags()[f"exchange_sync_{self.exchange}"].test()

    def exchange_facts(self) -> dict:
        """What the simulator says of this exchange: permission names, rate limits."""
        return self.simulator.exchanges()[self.exchange]

    def run_recovery(self, incident_id: int, while_waiting: Callable[[], None] | None = None):
        """Run the recovery DAG; `while_waiting` is done once its sensor is waiting for keys."""
        dag_id = f"exchange_sync_{self.exchange}_recovery"
        dag = self.dags()[dag_id]
        helper = None
        failed: list[BaseException] = []

        def act() -> None:
            try:
                while_waiting()
            except BaseException as exc:
                failed.append(exc)
                # The sensor would wait an hour for keys that never come: hand it working ones, so
                # the run ends now and the test fails with the action's own error.
                self.save_key(self.new_key())

        if while_waiting is not None:
            helper = threading.Thread(target=_when_waiting, args=(act, dag_id), daemon=True)
            helper.start()
        run = dag.test(run_conf={"account": self.account_id, "incident_id": incident_id})
        if helper is not None:
            helper.join(timeout=30)
        if failed:
            raise failed[0]
        return run

    def messages(self) -> list[dict]:
        return self.receiver.messages


def _when_waiting(action: Callable[[], None], dag_id: str) -> None:
    """Wait until the recovery run's sensor has started (and deferred), then act."""
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with create_session() as session:
            started = (
                session.query(TaskInstance)
                .filter(
                    TaskInstance.dag_id == dag_id,
                    TaskInstance.task_id == "wait_for_new_keys",
                    TaskInstance.state.isnot(None),
                )
                .count()
            )
        if started:
            break
        time.sleep(0.3)
    time.sleep(2)  # a couple of the trigger's 1-second polls see the old, dead key
    action()


def make_world(
    make_sim_account, simulator, receiver, tmp_path, monkeypatch, warehouse_url, exchange="binance"
) -> World:
    account = make_sim_account(trades=150, symbols=2, deposits=12, withdrawals=6)
    conn_id = f"rc_{account.id}"
    registry = tmp_path / "accounts.yaml"
    registry.write_text(
        dedent(
            f"""
            defaults: {{history_start: 2024-01-01}}
            exchanges:
              {exchange}:
                retry_delay_seconds: 1
                key_poll_seconds: 1
                key_recheck_seconds: 1
                wait_for_keys_hours: 1
            accounts:
              - {{id: {account.id}, exchange: {exchange}, conn_id: {conn_id}, notify: [es_alerts]}}
            """
        )
    )
    monkeypatch.setenv("EXCHANGE_SYNC_REGISTRY", str(registry))
    monkeypatch.setenv("AIRFLOW_CONN_ES_ALERTS", receiver.apprise_connection())
    monkeypatch.setenv("EXCHANGE_SYNC_WAREHOUSE_URL", warehouse_url)
    world = World(account.id, conn_id, simulator, Warehouse.open(warehouse_url), receiver, exchange)
    world.save_key(world.new_key())
    return world


@pytest.fixture
def world(airflow_db, make_sim_account, simulator, receiver, tmp_path, monkeypatch, sqlite_url, exchange):
    """The scenarios run on SQLite (on the test's exchange); PostgreSQL gets its own end-to-end
    case (test_postgres.py)."""
    world = make_world(make_sim_account, simulator, receiver, tmp_path, monkeypatch, sqlite_url, exchange)
    yield world
    world.warehouse.close()


@pytest.fixture
def pg_world(
    airflow_db, make_sim_account, simulator, receiver, tmp_path, monkeypatch, postgres_url, exchange
):
    world = make_world(make_sim_account, simulator, receiver, tmp_path, monkeypatch, postgres_url, exchange)
    yield world
    world.warehouse.close()

"""What the end-to-end tests do with a running deployment (`make run`'s standalone, or the
docker-compose topology as local processes): wait for runs, and break and rotate a key through
Airflow's REST API."""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Callable

from exchange_sync.airflow_api import AirflowAPI
from exchange_sync.sim_client import SimulatorClient
from exchange_sync.warehouse import Warehouse
from tests.fixtures.ground_truth import assert_warehouse_matches

FIRST_RUN_DEADLINE = 120  # seconds from "DAG unpaused" to a successful first run


def wait_for_successful_run(api: AirflowAPI, dag_id: str, seconds: float = FIRST_RUN_DEADLINE) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"]
        except urllib.error.HTTPError as exc:  # SQLite-backed Airflow answers 500 now and then
            if exc.code < 500:
                raise
            time.sleep(2)
            continue
        if any(r["state"] == "failed" for r in runs):
            raise AssertionError(f"a run failed: {runs}")
        done = [r for r in runs if r["state"] == "success"]
        if done:
            return done[0]
        time.sleep(2)
    raise AssertionError(f"no successful run of {dag_id} within {seconds} s")


def wait_until(what: str, check, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except urllib.error.HTTPError as exc:  # SQLite-backed Airflow answers 500 now and then
            if exc.code < 500:
                raise
            result = None
        if result:
            return result
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def revoke_then_rotate_through_the_rest_api(
    api: AirflowAPI,
    simulator: SimulatorClient,
    open_warehouse: Callable[[], Warehouse],
    account: str = "alice",
    save_key: Callable[[dict], None] | None = None,
    while_deferred: Callable[[dict], None] | None = None,
) -> float:
    """The real triggerer: the account's key is revoked, the recovery run's sensor defers, a new
    key is PATCHed into the connection through Airflow's REST API (or `save_key(key)` saves it,
    e.g. on the Connections page), and the gap is backfilled. `while_deferred(ti)` sees the
    deferred sensor's task instance. Returns the seconds from the saved key until the waiting
    sensor had it."""
    conn_path = f"/api/v2/connections/exchange_sync_binance_{account}"
    connection = api.get(conn_path)
    simulator.key_action(connection["login"], "revoke")
    simulator.add_activity(account, trades=6, deposits=1)
    inbox_before = len(simulator.notifications())
    api.post("/api/v2/dags/exchange_sync_binance/dagRuns", {"logical_date": None})

    def recovery_deferred():
        runs = api.get("/api/v2/dags/exchange_sync_binance_recovery/dagRuns")["dag_runs"]
        for run in runs:
            tis = api.get(
                f"/api/v2/dags/exchange_sync_binance_recovery/dagRuns/{run['dag_run_id']}/taskInstances"
            )
            for t in tis["task_instances"]:
                if t["task_id"] == "wait_for_new_keys" and t["state"] == "deferred":
                    return run, t
        return None

    run, sensor = wait_until("the recovery run's sensor to defer", recovery_deferred)
    if while_deferred is not None:
        while_deferred(sensor)
    inbox = simulator.notifications()[inbox_before:]
    assert len(inbox) == 1 and "deleted or revoked" in inbox[0]["title"]

    key = simulator.create_key(account)
    saved = time.monotonic()
    if save_key is not None:
        save_key(key)
    else:
        api.patch(
            conn_path,
            {
                **{k: connection[k] for k in ("connection_id", "conn_type", "extra")},
                "login": key["api_key"],
                "password": key["secret"],
            },
        )
    run_path = f"/api/v2/dags/exchange_sync_binance_recovery/dagRuns/{run['dag_run_id']}"

    def sensor_done() -> bool:
        tis = api.get(f"{run_path}/taskInstances")["task_instances"]
        return any(t["task_id"] == "wait_for_new_keys" and t["state"] == "success" for t in tis)

    wait_until("the sensor to see the new key", sensor_done, timeout=120)
    took = time.monotonic() - saved
    done = wait_until(
        "the recovery run to finish",
        lambda: api.get(run_path)["state"] in ("success", "failed") and api.get(run_path),
    )
    assert done["state"] == "success"
    assert "Recovered" in simulator.notifications()[-1]["title"]
    warehouse = open_warehouse()
    try:
        assert_warehouse_matches(warehouse, account, simulator.history(account))
        assert warehouse.incidents.open_for(account) is None
    finally:
        warehouse.close()
    return took

"""The docker-compose deployment for real: CeleryExecutor, PostgreSQL and Redis, with the scheduler,
DAG processor, triggerer, API server, the simulator and two Celery workers, started from the
compose file's own commands and settings as local processes (tests/e2e/topology.py says what is
translated and why).

One run, in order (slow, a few minutes: the heartbeat timeout the compose file sets is waited out):
1. every service passes its compose healthcheck;
2. the demo accounts of every exchange import (Binance's first); alice's import is slowed at the
   simulator and, mid-import, the worker running it is SIGKILLed with its whole process tree; the
   scheduler fails the try once its heartbeat stops and Airflow retries it on the other worker,
   which resumes from the cursors: every account equals the simulator's ground truth, nothing lost or doubled;
3. bob's key is revoked: diagnose and notify run on the workers, the recovery's sensor defers to
   the triggerer, a new key PATCHed through the REST API is found, the gap backfilled.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.e2e.runs import revoke_then_rotate_through_the_rest_api, wait_for_successful_run, wait_until
from tests.e2e.test_make_run import DEMO
from tests.e2e.topology import WORKERS, Topology, logs_tail
from tests.fixtures.ground_truth import assert_warehouse_matches

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SERVICES = (
    "simulator",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
DAG_IDS = tuple(f"exchange_sync_{exchange}" for exchange in DEMO)
# Slow enough that alice's import is still running when her worker dies, fast enough for CI.
SLOW_MS = 600


@pytest.fixture
def topology(tmp_path):
    postgres = os.environ.get("EXCHANGE_SYNC_TEST_PG_URL")
    if not postgres:
        pytest.skip("EXCHANGE_SYNC_TEST_PG_URL is not set (.ci/run sets it)")
    topology = Topology(tmp_path, postgres)
    with topology.running():
        yield topology


def test_compose_topology_survives_a_killed_worker_and_recovers_a_revoked_key(topology: Topology):
    try:
        scenario(topology)
    except BaseException:
        print(logs_tail(topology.root))  # the services' output: pytest shows it with the failure
        raise


def mapped(api, dag_id: str, run_id: str, task_id: str = "account.import_account") -> dict[str, dict]:
    """Account -> its task instance. By map index in registry order: the grid's label
    (rendered_map_index) is only rendered once a try ends."""
    accounts = DEMO[dag_id.removeprefix("exchange_sync_")]
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/listMapped"
    return {accounts[ti["map_index"]]: ti for ti in api.get(path)["task_instances"]}


def alice_mid_import(topology: Topology):
    """Alice's running import once it has stored pages (its cursors moved), else None."""
    api = topology.api()
    runs = api.get("/api/v2/dags/exchange_sync_binance/dagRuns")["dag_runs"]
    if not runs:
        return None
    run = runs[0]
    ti = mapped(api, "exchange_sync_binance", run["dag_run_id"]).get("alice")
    if not ti or ti["state"] != "running" or ti["hostname"] not in WORKERS:
        return None
    warehouse = topology.warehouse()
    try:
        stored = sum(n for stream, n in warehouse.row_counts("alice").items() if stream != "balances")
    finally:
        warehouse.close()
    return (run, ti) if stored else None


def scenario(topology: Topology) -> None:
    for service in SERVICES:
        healthy = lambda s=service: topology.run_healthcheck(s).returncode == 0  # noqa: E731
        topology.wait(f"{service}'s healthcheck", healthy, 180)
    for worker in WORKERS:
        result = topology.run_healthcheck("airflow-worker", hostname=worker)
        assert result.returncode == 0, result.stdout + result.stderr
    api, simulator = topology.api(), topology.simulator

    # 2. Import everything; kill alice's worker mid-import.
    simulator.add_fault("latency", latency_ms=SLOW_MS, count=100_000, account="alice")
    topology.wait("the exchange DAGs to be parsed", lambda: all(_dag(api, d) for d in DAG_IDS), 180)
    # Compose creates them paused; the user unpauses them in the UI. Binance's first: the worker
    # killed below must be running only tasks that retry (another exchange's check_accounts on it
    # has no retry, and its run would fail for the kill, not for anything the test proves).
    api.patch(f"/api/v2/dags/{DAG_IDS[0]}", {"is_paused": False})
    run, first = wait_until("alice's import to store pages", lambda: alice_mid_import(topology), 240)
    victim = first["hostname"]
    (survivor,) = set(WORKERS) - {victim}
    killed_at = time.monotonic()
    topology.kill(victim)
    simulator.clear_faults()

    def retried():
        ti = mapped(api, "exchange_sync_binance", run["dag_run_id"])["alice"]
        again = ti["try_number"] > first["try_number"] and ti["state"] in ("running", "success")
        return ti if again else None

    retry = wait_until("alice's import to be retried", retried, timeout=420)
    retried_after = time.monotonic() - killed_at
    assert retry["hostname"] == survivor
    topology.start_worker(victim)  # compose's `restart: always`
    wait_for_successful_run(api, "exchange_sync_binance", seconds=300)
    tries = api.get(
        f"/api/v2/dags/exchange_sync_binance/dagRuns/{run['dag_run_id']}/taskInstances/"
        f"account.import_account/{first['map_index']}/tries"
    )["task_instances"]
    assert [(t["hostname"], t["state"]) for t in tries] == [(victim, "failed"), (survivor, "success")], tries
    print(f"alice's import was retried on {survivor} {retried_after:.0f} s after {victim} was killed")

    for dag_id in DAG_IDS[1:]:
        api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
    for dag_id in DAG_IDS[1:]:
        wait_for_successful_run(api, dag_id, seconds=360)
    warehouse = topology.warehouse()
    try:
        for accounts in DEMO.values():
            for account in accounts:
                assert_warehouse_matches(warehouse, account, simulator.history(account))
    finally:
        warehouse.close()

    # 3. A revoked key: diagnosis and notification on the workers, the wait in the triggerer.
    def sensor_in_the_triggerer(sensor: dict) -> None:
        assert sensor["trigger"] is not None, sensor
        wait_until("the triggerer to take the trigger", lambda: _trigger_taken(api, sensor), 60)

    revoke_then_rotate_through_the_rest_api(
        api, simulator, topology.warehouse, "bob", while_deferred=sensor_in_the_triggerer
    )
    failed = api.get("/api/v2/dags/exchange_sync_binance/dagRuns?order_by=-run_after&limit=1")["dag_runs"][0]
    assert failed["state"] == "failed", failed
    for task_id in ("account.diagnose", "account.notify"):
        ran = mapped(api, "exchange_sync_binance", failed["dag_run_id"], task_id)
        assert ran["bob"]["state"] == "success" and ran["bob"]["hostname"] in WORKERS, ran["bob"]


def _dag(api, dag_id: str) -> bool:
    try:
        return bool(api.get(f"/api/v2/dags/{dag_id}"))
    except Exception:
        return False


def _trigger_taken(api, sensor: dict) -> bool:
    path = f"/api/v2/dags/{sensor['dag_id']}/dagRuns/{sensor['dag_run_id']}/taskInstances/{sensor['task_id']}"
    ti = api.get(path if sensor["map_index"] < 0 else f"{path}/{sensor['map_index']}")
    return ti["state"] == "deferred" and (ti.get("trigger") or {}).get("triggerer_id") is not None

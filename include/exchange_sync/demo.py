"""`make run`: the simulator, Airflow standalone and the demo accounts, on one machine.

Everything lives in AIRFLOW_HOME (default .airflow/): Airflow's database and airflow.cfg (with the
Fernet key Airflow generates on first use), the warehouse, the simulator's state and the logs.
Running it again reuses all of it. SIGINT/SIGTERM stop every process it started.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exchange_sync import settings
from exchange_sync.airflow_api import AirflowAPI
from exchange_sync.sim_client import SimulatorClient

READY_TIMEOUT = 300
DEMO_SEED = 42


def demo_environment(repo: Path = settings.REPO_ROOT) -> dict[str, str]:
    """Airflow settings for the demo; anything already set in the environment wins."""
    home = Path(os.environ.get("AIRFLOW_HOME") or repo / ".airflow").resolve()
    airflow_port = os.environ.get("AIRFLOW_PORT", "8080")
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_PORT": airflow_port,
        "SIM_PORT": os.environ.get("SIM_PORT", "8765"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": airflow_port,
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{airflow_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{airflow_port}/execution/",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # The connection form's Test button: for ccxt connections the Connections page's Fix it check.
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    }
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


class Processes:
    """Children in their own process groups, so stopping one stops everything it spawned."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], log_path: Path) -> subprocess.Popen:
        log = log_path.open("ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append((name, proc))
        return proc

    def exited(self) -> str | None:
        return next((name for name, proc in self.running if proc.poll() is not None), None)

    def stop_all(self, grace: float = 30) -> None:
        for _name, proc in reversed(self.running):
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _name, proc in reversed(self.running):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc, signal.SIGKILL)  # stragglers in the group, even if the leader exited


def run_demo() -> int:
    env = demo_environment()
    bin_dir = Path(sys.executable).parent
    # `airflow standalone` starts its parts as `airflow ...` from PATH: make it this virtualenv's.
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.update(env)
    home = Path(env["AIRFLOW_HOME"])
    (home / "logs").mkdir(parents=True, exist_ok=True)
    _write_env_file(home, env)
    simulator = SimulatorClient(f"http://127.0.0.1:{env['SIM_PORT']}")
    airflow_url = f"http://127.0.0.1:{env['AIRFLOW_PORT']}"
    processes = Processes()
    stop = _install_signal_handlers()
    try:
        processes.start(
            "simulator",
            [
                sys.executable,
                "-m",
                "exchange_sync.simulator",
                "--host",
                "127.0.0.1",
                "--port",
                env["SIM_PORT"],
                "--seed",
                str(DEMO_SEED),
                "--state-file",
                str(home / "simulator-state.json"),
            ],
            home / "logs" / "simulator.log",
        )
        _wait("the simulator", simulator.health, processes, stop, timeout=60)
        _step("migrating the Airflow database", [str(bin_dir / "airflow"), "db", "migrate"], home)
        _step(
            "setting up the warehouse, pools and demo connections",
            [str(bin_dir / "exchange-sync"), "setup", "--simulator", simulator.base_url],
            home,
        )
        processes.start("airflow", [str(bin_dir / "airflow"), "standalone"], home / "logs" / "standalone.log")
        api = AirflowAPI(airflow_url, "admin", _admin_password(home, processes, stop))
        _wait("Airflow", lambda: _all_healthy(api.health()), processes, stop, timeout=READY_TIMEOUT)
        unpaused = _unpause_exchange_dags(api, processes, stop)
        _banner(airflow_url, _admin_password(home, processes, stop), simulator.base_url, home, unpaused)
        while not stop() and processes.exited() is None:
            time.sleep(1)
        crashed = processes.exited()
        if crashed and not stop():
            print(f"{crashed} exited; see {home / 'logs'}", file=sys.stderr)
            return 1
        return 0
    except DemoError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    finally:
        print("stopping the simulator and Airflow ...", flush=True)
        processes.stop_all()


class DemoError(RuntimeError):
    pass


def _step(what: str, argv: list[str], home: Path) -> None:
    print(f"{what} ...", flush=True)
    with (home / "logs" / "setup.log").open("ab") as log:
        if subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
            raise DemoError(f"{what} failed; see {home / 'logs' / 'setup.log'}")


def _wait(
    what: str, ready: Callable[[], Any], processes: Processes, stop: Callable[[], bool], timeout: float
) -> Any:
    print(f"waiting for {what} ...", flush=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop():
            raise DemoError("interrupted")
        if processes.exited():
            raise DemoError(f"{processes.exited()} exited while waiting for {what}")
        result = ready()
        if result:
            return result
        time.sleep(1)
    raise DemoError(f"{what} was not ready after {timeout:.0f} s")


def _admin_password(home: Path, processes: Processes, stop: Callable[[], bool]) -> str:
    """Airflow standalone generates the admin password once and keeps it in this file."""
    path = home / "simple_auth_manager_passwords.json.generated"
    _wait("the admin password", path.exists, processes, stop, timeout=READY_TIMEOUT)
    return json.loads(path.read_text())["admin"]


def _all_healthy(health: dict[str, Any] | None) -> bool:
    if not health:
        return False
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all((health.get(part) or {}).get("status") == "healthy" for part in parts)


def _unpause_exchange_dags(api: AirflowAPI, processes: Processes, stop: Callable[[], bool]) -> list[str]:
    from exchange_sync.registry import load_registry

    dag_ids = [e.dag_id for e in load_registry(settings.registry_path()).exchanges_in_use()]
    for dag_id in dag_ids:
        _wait(
            f"DAG {dag_id} to be parsed and unpaused",
            lambda d=dag_id: _unpaused(api, d),
            processes,
            stop,
            180,
        )
    return dag_ids


def _unpaused(api: AirflowAPI, dag_id: str) -> bool:
    """True once the DAG exists and is unpaused; unpauses it (new DAGs start unpaused here, but a
    user may have paused it in an earlier run). Any API error means "not yet": SQLite-backed
    Airflow answers 500 now and then while its processes start up."""
    try:
        if api.get(f"/api/v2/dags/{dag_id}")["is_paused"]:
            api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
            return False
    except Exception:
        return False
    return True


def _banner(airflow_url: str, password: str, simulator_url: str, home: Path, dag_ids: list[str]) -> None:
    print(
        "\n"
        f"  Airflow      {airflow_url}   (login: admin / {password})\n"
        f"  Simulator    {simulator_url}   (control API under /_sim/)\n"
        f"  DAGs         {', '.join(dag_ids)} (unpaused; the first run starts now)\n"
        f"  Warehouse    {settings.default_warehouse_url()}\n"
        f"  Logs         {home / 'logs'}\n"
        f"  CLI          source {home / 'env.sh'}; exchange-sync status\n"
        "\n  Ctrl-C stops everything.\n",
        flush=True,
    )


def _write_env_file(home: Path, env: dict[str, str]) -> None:
    """So `airflow ...` and `exchange-sync ...` in another shell talk to this instance."""
    lines = [f"export {key}={shlex.quote(value)}" for key, value in sorted(env.items())]
    (home / "env.sh").write_text("\n".join(lines) + "\n")


def _install_signal_handlers() -> Callable[[], bool]:
    stopping = {"flag": False}

    def handler(signum: int, _frame: Any) -> None:
        stopping["flag"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return lambda: stopping["flag"]


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass

"""docker-compose.yaml's services run as local processes: no Docker engine exists here.

Everything comes from the compose file as `docker compose` reads it (tests/fixtures/compose.py):
each service's command (through the image's entrypoint), its environment (x-airflow-common plus the
service's own), its healthcheck, and airflow-init's steps. Only what a container would have had
to itself is translated, in `Topology.localize`:

* service hostnames in URLs (postgres, redis, simulator, airflow-apiserver) -> this machine's
  PostgreSQL (databases of this run's own), Redis (a database number of its own) and free ports;
* container paths (/opt/airflow/...) -> the host directories the compose volumes mount there;
* ports every container listens on alone (the API server's 8080, the simulator's 8765, the log
  servers, the scheduler's health check) -> free ports, so two workers fit on one machine;
* each process's HOSTNAME is its service name (`worker-1`, `worker-2` for the two workers), as a
  container's would be, and Airflow takes its hostname from it (tests/e2e/container.py).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from exchange_sync.airflow_api import AirflowAPI
from exchange_sync.sim_client import SimulatorClient
from exchange_sync.warehouse import Warehouse
from tests.fixtures.compose import (
    BIN,
    REPO,
    Command,
    compose,
    environment,
    filled_env,
    heredoc,
    init_script,
    service_commands,
)
from tests.fixtures.ports import free_port

_DATABASE_URL = re.compile(r"(?P<scheme>[\w+]+)://airflow:airflow@postgres/(?P<database>\w+)")
REDIS_DB = 11  # compose's broker uses database 0 of its own Redis; this machine's Redis is shared
CONTAINER_HOME = "/opt/airflow"  # AIRFLOW_HOME in the official image
WORKERS = ("worker-1", "worker-2")
# Started in the order compose's depends_on allows; `airflow-worker` twice.
COMPONENTS = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


class Topology:
    def __init__(self, root: Path, postgres: str):
        self.root = root
        self.name = f"es_compose_{uuid.uuid4().hex[:8]}"
        self.postgres = make_url(postgres)
        self.ports = {
            "airflow-apiserver": free_port(),
            "simulator": free_port(),
            "scheduler-health": free_port(),
            "trigger-logs": free_port(),
            **{f"{worker}-logs": free_port() for worker in WORKERS},
        }
        self.databases = {"airflow": f"{self.name}_airflow", "exchange_sync": f"{self.name}_warehouse"}
        self.processes: dict[str, subprocess.Popen] = {}
        self.password = filled_env()["_AIRFLOW_WWW_USER_PASSWORD"]
        self.username = filled_env().get("_AIRFLOW_WWW_USER_USERNAME") or "airflow"

    # --- translating the compose file -----------------------------------------------------------

    def mounts(self) -> dict[str, Path]:
        """Container path -> host path, from x-airflow-common's volumes (AIRFLOW_PROJ_DIR = root)."""
        found = {}
        for volume in compose()["x-airflow-common"]["volumes"]:
            host, container = volume.split(":")[:2]
            found[container] = self.root / Path(host).name
        found[f"{CONTAINER_HOME}/simulator"] = self.root / "simulator"  # the simulator-state volume
        return found

    def localize(self, value: str) -> str:
        value = _DATABASE_URL.sub(
            lambda m: f"{m['scheme']}://{self.server}/{self.databases[m['database']]}", value
        )
        replacements = {
            "redis://:@redis:6379/0": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "http://airflow-apiserver:8080": f"http://127.0.0.1:{self.ports['airflow-apiserver']}",
            "http://simulator:8765": f"http://127.0.0.1:{self.ports['simulator']}",
            "http://localhost:8080": f"http://127.0.0.1:{self.ports['airflow-apiserver']}",
            "http://localhost:8765": f"http://127.0.0.1:{self.ports['simulator']}",
            "http://localhost:8974": f"http://127.0.0.1:{self.ports['scheduler-health']}",
        }
        for container, local in replacements.items():
            value = value.replace(container, local)
        for container, host in sorted(self.mounts().items(), key=lambda item: -len(item[0])):
            value = value.replace(container, str(host))
        return value.replace(CONTAINER_HOME, str(self.root))

    @property
    def server(self) -> str:
        """user[:password]@host:port of this machine's PostgreSQL."""
        url = self.postgres
        login = url.username + (f":{url.password}" if url.password else "")
        return f"{login}@{url.host}:{url.port or 5432}"

    def database_url(self, database: str) -> str:
        return f"postgresql+psycopg2://{self.server}/{database}"

    def env(self, service: str, hostname: str | None = None) -> dict[str, str]:
        """The service's compose environment, localized, on a clean copy of this one."""
        spec = compose()["services"][service]
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "EXCHANGE_SYNC", "_AIRFLOW", "PYTEST"))
        }
        env.update({k: self.localize(v) for k, v in environment(spec).items()})
        hostname = hostname or service
        env.update(
            AIRFLOW_HOME=str(self.root),
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            PYTHONPATH=str(REPO),
            HOSTNAME=hostname,
            AIRFLOW__CORE__HOSTNAME_CALLABLE="tests.e2e.container.hostname",
            AIRFLOW__API__PORT=str(self.ports["airflow-apiserver"]),
            AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{self.ports['airflow-apiserver']}",
            AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT=str(self.ports["scheduler-health"]),
            AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(self.ports["trigger-logs"]),
        )
        if f"{hostname}-logs" in self.ports:
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(self.ports[f"{hostname}-logs"])
        return env

    def command(self, service: str) -> list[str]:
        """The service's own command (the first one service_commands finds; healthchecks follow)."""
        (first, *_healthchecks) = service_commands(service)
        argv = [self.localize(arg) for arg in first.argv]
        if service == "simulator":
            argv = [{"0.0.0.0": "127.0.0.1", "8765": str(self.ports["simulator"])}.get(a, a) for a in argv]
        return [str(BIN / argv[0]), *argv[1:]]

    def healthchecks(self, service: str) -> list[Command]:
        return service_commands(service)[1:]

    # --- running it ------------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[Topology]:
        try:
            self.create_databases()
            self.start("simulator", self.command("simulator"), self.env("simulator"))
            self.wait("the simulator", self.simulator.health, 60)
            self.init()
            for service in COMPONENTS:
                self.start(service, self.command(service), self.env(service))
            for worker in WORKERS:
                self.start_worker(worker)
            self.wait("the API server", lambda: self.api().health() is not None, 240)
            yield self
        finally:
            self.stop()
            self.drop_databases()

    def create_databases(self) -> None:
        for name in ("logs", "config", "simulator"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        for name in ("dags", "plugins"):
            (self.root / name).symlink_to(REPO / name)
        self._flush_redis()
        # The postgres container creates POSTGRES_DB (Airflow's database); airflow-init the warehouse's.
        self._admin_sql(f'CREATE DATABASE "{self.databases["airflow"]}"')

    def init(self) -> None:
        """airflow-init's steps, in its order, each as its script runs it."""
        env = self.env("airflow-init")
        assert env.pop("_AIRFLOW_DB_MIGRATE") == "true"  # the image's entrypoint: `airflow db migrate`
        script = init_script()
        self.step("airflow db migrate", [str(BIN / "airflow"), "db", "migrate"], env)
        self.step("airflow config list", [str(BIN / "airflow"), "config", "list"], env)
        for name in ("CREATE_WAREHOUSE_DATABASE", "WRITE_AIRFLOW_LOGIN"):
            self.step(name, [sys.executable, "-c", heredoc(script, name)], env)
        (setup,) = [c for c in service_commands("airflow-init") if c.argv[0] == "exchange-sync"]
        self.step("exchange-sync setup", self.localized(setup), env)

    def localized(self, command: Command) -> list[str]:
        return [str(BIN / command.argv[0]), *(self.localize(a) for a in command.argv[1:])]

    def step(self, what: str, argv: list[str], env: dict[str, str]) -> None:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, cwd=self.root)
        output = result.stdout[-3000:] + result.stderr[-3000:]
        assert result.returncode == 0, f"airflow-init: {what} failed:\n{output}"

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.root / "logs" / f"{name}.out").open("ab")
        self.processes[name] = subprocess.Popen(
            argv, env=env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_worker(self, worker: str) -> None:
        # Celery names a worker after its machine; containers have one each, these share one.
        argv = [*self.command("airflow-worker"), "--celery-hostname", f"celery@{worker}"]
        self.start(worker, argv, self.env("airflow-worker", hostname=worker))

    def kill(self, name: str) -> list[int]:
        """SIGKILL a service's whole process tree at once (a container dying): no cleanup runs."""
        leader = psutil.Process(self.processes[name].pid)
        tree = [leader, *leader.children(recursive=True)]
        for proc in tree:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(tree, timeout=30)
        self.processes[name].wait(timeout=30)
        return [p.pid for p in tree]

    def stop(self) -> None:
        trees = {}
        for name, proc in self.processes.items():
            try:
                trees[name] = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            _signal_group(proc, signal.SIGTERM)
        _gone, alive = psutil.wait_procs([p for tree in trees.values() for p in tree], timeout=30)
        for proc in alive:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        for proc in self.processes.values():
            _signal_group(proc, signal.SIGKILL)
        self._flush_redis()

    def drop_databases(self) -> None:
        for database in self.databases.values():
            self._admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def wait(self, what: str, check, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            crashed = [n for n, p in self.processes.items() if p.poll() is not None]
            assert not crashed, f"{crashed} exited; see {self.root / 'logs'}"
            try:
                if check():
                    return
            except Exception:  # not up yet
                pass
            time.sleep(2)
        raise AssertionError(f"{what} not ready after {timeout} s; see {self.root / 'logs'}")

    def run_healthcheck(self, service: str, hostname: str | None = None) -> subprocess.CompletedProcess:
        """The service's compose healthcheck, as the container would run it."""
        (check,) = self.healthchecks(service)
        argv = [self.localize(a) for a in check.argv]
        if argv[0] in ("airflow", "celery"):
            argv[0] = str(BIN / argv[0])
        env = self.env(service, hostname)
        argv = [a.replace("${HOSTNAME}", env["HOSTNAME"]) for a in argv]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=self.root)

    # --- talking to it ---------------------------------------------------------------------------

    @property
    def simulator(self) -> SimulatorClient:
        return SimulatorClient(f"http://127.0.0.1:{self.ports['simulator']}")

    def api(self) -> AirflowAPI:
        return AirflowAPI(f"http://127.0.0.1:{self.ports['airflow-apiserver']}", self.username, self.password)

    def warehouse(self) -> Warehouse:
        return Warehouse.open(self.database_url(self.databases["exchange_sync"]))

    def _admin_sql(self, statement: str) -> None:
        admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(statement))
        finally:
            admin.dispose()

    def _flush_redis(self) -> None:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def logs_tail(root: Path, lines: int = 40) -> str:
    out = []
    for path in sorted((root / "logs").glob("*.out")):
        out.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
    return "\n".join(out)

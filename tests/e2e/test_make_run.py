"""`make run` on a fresh AIRFLOW_HOME: the real simulator and `airflow standalone`, the demo DAG's
first run, the warehouse against ground truth, then Ctrl-C (SIGTERM to the process group).

Slow (a few minutes): it is the one test that proves the two-command quickstart works.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exchange_sync.airflow_api import AirflowAPI
from exchange_sync.sim_client import SimulatorClient
from exchange_sync.warehouse import Warehouse
from tests.conftest import REPO
from tests.e2e.runs import revoke_then_rotate_through_the_rest_api, wait_for_successful_run
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.e2e
# The demo registry's accounts, by exchange (dags/accounts.yaml).
DEMO = {"binance": ("alice", "bob", "carol"), "kraken": ("dave",), "coinbase": ("erin",), "okx": ("frank",)}
DEMO_ACCOUNTS = tuple(a for accounts in DEMO.values() for a in accounts)


class MakeRun:
    def __init__(self, home: Path):
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EXCHANGE_SYNC"))}
        self.env.update(
            AIRFLOW_HOME=str(home),
            AIRFLOW_PORT=str(free_port()),
            SIM_PORT=str(free_port()),
            # The scheduler's and triggerer's log servers, so a demo already running here is no clash.
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        )
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []

    def start(self) -> dict[str, str]:
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
        banner: dict[str, str] = {}
        deadline = time.monotonic() + 400
        for line in self.proc.stdout:
            self.output.append(line)
            if m := re.search(r"Airflow\s+(http://\S+)\s+\(login: admin / (\S+)\)", line):
                banner.update(url=m.group(1), password=m.group(2))
            if m := re.search(r"Simulator\s+(http://\S+)", line):
                banner["simulator"] = m.group(1)
            if "Ctrl-C stops everything" in line or time.monotonic() > deadline:
                break
        assert {"url", "password", "simulator"} <= set(banner), "".join(self.output)
        return banner

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=90)


def assert_task_logs_say_what_was_fetched(api: AirflowAPI, run: dict) -> None:
    base = f"/api/v2/dags/{run['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances"
    mapped = api.get(f"{base}/account.import_account/listMapped")["task_instances"]
    # The grid labels each mapped import with its account.
    assert sorted(ti["rendered_map_index"] for ti in mapped) == sorted(DEMO["binance"])
    alice = next(ti for ti in mapped if ti["rendered_map_index"] == "alice")
    logs = api.get(f"{base}/account.import_account/logs/{alice['try_number']}?map_index={alice['map_index']}")
    text = json.dumps(logs)
    assert re.search(r"binance/alice: imported \d+ rows with \d+ requests", text), text[:2000]
    assert "binance/alice trades:" in text and "candidate symbols" in text


def listening(port: str) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", int(port))) == 0


def sqlite_warehouse(home: Path) -> Warehouse:
    return Warehouse.open(f"sqlite:///{home / 'exchange_sync.db'}")


def row_counts(home: Path, account: str) -> dict[str, int]:
    warehouse = sqlite_warehouse(home)
    try:
        return warehouse.row_counts(account)
    finally:
        warehouse.close()


def fix_it_on_the_page(base_url: str, password: str, account: str, key: dict) -> None:
    """As a person would: Airflow's login, the notification's link, Fix it, Save and change."""
    from playwright.sync_api import expect

    from tests.ui.browser import browser_page, log_in

    with browser_page(base_url) as page:
        log_in(page, "admin", password, then=f"/exchange-sync/?account={account}")
        page.goto(f"/exchange-sync/?account={account}#fix")
        page.locator("#fix-api_key").fill(key["api_key"])
        page.locator("#fix-secret").fill(key["secret"])
        page.get_by_role("button", name="Save and change").click()
        expect(page.locator("#fix-result")).to_contain_text("Saved", timeout=30_000)


def the_board_shows_every_demo_account_healthy(base_url: str, password: str) -> None:
    from tests.ui.browser import browser_page, log_in, wait_for_state

    with browser_page(base_url) as page:
        log_in(page, "admin", password)
        for account in DEMO_ACCOUNTS:
            wait_for_state(page, account, "healthy")


def processes_of(home: Path) -> list[str]:
    """Command lines of live processes whose environment has this AIRFLOW_HOME."""
    marker = f"AIRFLOW_HOME={home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue  # exited meanwhile, or not ours to read
    return found


def test_make_run_from_scratch_then_again(tmp_path):
    home = tmp_path / "airflow-home"
    demo = MakeRun(home)
    banner = demo.start()
    try:
        api = AirflowAPI(banner["url"], "admin", banner["password"])
        simulator = SimulatorClient(banner["simulator"])
        run = wait_for_successful_run(api, "exchange_sync_binance")
        assert_task_logs_say_what_was_fetched(api, run)
        # The Kraken demo account imports in its own DAG, paced by Kraken's call counter (a
        # year of ledger and trades is ~30 history calls at +2 each, the counter decays 0.33/s).
        wait_for_successful_run(api, "exchange_sync_kraken", seconds=360)

        warehouse = Warehouse.open(f"sqlite:///{home / 'exchange_sync.db'}")
        for account in DEMO_ACCOUNTS:
            assert_warehouse_matches(warehouse, account, simulator.history(account))
        rows_after_first = {a: warehouse.row_counts(a) for a in DEMO_ACCOUNTS}
        warehouse.close()

        status = json.loads(
            subprocess.run(
                [str(Path(sys.executable).with_name("exchange-sync")), "status", "--json"],
                env={**demo.env, "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags")},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        assert {a["account"]: a["state"] for a in status["accounts"]} == dict.fromkeys(
            DEMO_ACCOUNTS, "healthy"
        )

        # Keys live Fernet-encrypted in Airflow's database, with the key Airflow generated once.
        assert re.search(r"^fernet_key = \S+", (home / "airflow.cfg").read_text(), re.M)
        with sqlite3.connect(home / "airflow.db") as db:
            encrypted = db.execute(
                "SELECT conn_id, is_encrypted FROM connection WHERE conn_id LIKE 'exchange_sync_%'"
            ).fetchall()
        demo_connections = [(f"exchange_sync_{e}_{a}", 1) for e, accounts in DEMO.items() for a in accounts]
        assert sorted(c for c in encrypted if c[0] != "exchange_sync_apprise") == sorted(demo_connections)

        the_board_shows_every_demo_account_healthy(banner["url"], banner["password"])
        revoke_then_rotate_through_the_rest_api(api, simulator, lambda: sqlite_warehouse(home))
        rows_after_first["alice"] = row_counts(home, "alice")
        # The same through the Connections page: the waiting recovery notices the saved key at
        # once (the demo's key_poll_seconds is 60), backfills and closes the incident.
        took = revoke_then_rotate_through_the_rest_api(
            api,
            simulator,
            lambda: sqlite_warehouse(home),
            "bob",
            lambda key: fix_it_on_the_page(banner["url"], banner["password"], "bob", key),
        )
        assert took < 45, f"the sensor had the key only {took:.0f} s after it was saved"
        rows_after_first["bob"] = row_counts(home, "bob")
    finally:
        demo.stop()
    assert not listening(demo.env["AIRFLOW_PORT"]) and not listening(demo.env["SIM_PORT"])
    assert processes_of(home) == [], "processes left running after SIGTERM"

    # Again: same data, same keys, no duplicated setup.
    again = MakeRun(home)
    again.env.update(AIRFLOW_PORT=demo.env["AIRFLOW_PORT"], SIM_PORT=demo.env["SIM_PORT"])
    again.start()
    try:
        setup_log = (home / "logs" / "setup.log").read_text()
        assert setup_log.count("connection for alice: created") == 1
        assert setup_log.count("connection for alice: kept") == 1
        warehouse = Warehouse.open(f"sqlite:///{home / 'exchange_sync.db'}")
        for account in DEMO_ACCOUNTS:
            counts = warehouse.row_counts(account)
            assert {k: v for k, v in counts.items() if k != "balances"} == {
                k: v for k, v in rows_after_first[account].items() if k != "balances"
            }
        warehouse.close()
    finally:
        again.stop()

"""No API secret anywhere: task logs, XComs and everything else in Airflow's database, the
warehouse, notifications. Searched byte for byte after a full incident and recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.simulator import every_exchange
from tests.recovery.conftest import World

# Reads files and says which of the given byte strings (hex, on stdin) each one holds.
_SCAN = """
import json, sys
paths, needles = json.load(sys.stdin)
needles = [bytes.fromhex(n) for n in needles]
found = {}
for path in paths:
    data = open(path, "rb").read()
    found[path] = [i for i, n in enumerate(needles) if n in data]
json.dump(found, sys.stdout)
"""


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def search_files(paths: list[Path], needles: list[bytes]) -> dict[str, list[int]]:
    """path -> indexes of the needles it holds, read in a child process.

    Not in this one: opening and closing a SQLite file here (airflow.db-shm, say) drops every
    POSIX lock this process's open connections hold on it, so the next process to close the
    database believes it was the last, checkpoints and deletes the WAL and shared-memory files
    under our feet, and Airflow's next query here fails with "disk I/O error"."""
    result = subprocess.run(
        [sys.executable, "-c", _SCAN],
        input=json.dumps([[str(p) for p in paths], [n.hex() for n in needles]]),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@every_exchange
def test_no_secret_leaves_the_connection(world: World, capfd, make_sim_account):
    assert world.run_exchange_dag().state == "success"
    world.simulator.key_action(world.key["api_key"], "revoke")
    assert world.run_exchange_dag().state == "failed"
    (incident,) = world.warehouse.incidents.history(world.account_id)
    stranger = make_sim_account(trades=5, symbols=1)
    world.run_recovery(
        incident.id,
        while_waiting=lambda: (world.save_key(world.new_key(stranger.id)), world.save_key(world.new_key())),
    )

    secrets = [key["secret"] for key in world.minted]
    assert len(secrets) >= 3
    captured = capfd.readouterr()
    home = Path(os.environ["AIRFLOW_HOME"])
    warehouse_file = Path(world.warehouse.engine.url.database or "")
    haystacks = {
        "task logs (stdout/stderr)": (captured.out + captured.err).encode(),
        "notifications": repr(world.messages()).encode(),
    }
    for where, data in haystacks.items():
        for secret in secrets:
            assert secret.encode() not in data, f"an API secret appears in {where}"
    files = [*files_under(home), *(files_under(warehouse_file.parent) if warehouse_file.name else [])]
    assert home / "airflow.db" in files
    found = search_files(files, [s.encode() for s in secrets])
    assert found.keys() == {str(p) for p in files}
    assert not {where: hits for where, hits in found.items() if hits}, "an API secret appears in these files"


def test_scanning_airflows_files_leaves_its_database_usable(airflow_db):
    """Regression: the scan above once read airflow.db's files in this process; a later `airflow`
    command then deleted the WAL under the suite's open connections (disk I/O error in CI)."""
    from airflow.utils.session import create_session
    from sqlalchemy import text

    with create_session() as session:  # leaves a pooled connection open, as the suite does
        session.execute(text("SELECT count(*) FROM connection"))
    shm = airflow_db / "airflow.db-shm"
    assert shm.exists()
    search_files(files_under(airflow_db), [b"anything"])
    other_process = (
        "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
        "db.execute('SELECT count(*) FROM connection'); db.close()"
    )
    subprocess.run([sys.executable, "-c", other_process, str(airflow_db / "airflow.db")], check=True)
    assert shm.exists(), "another process took itself for the database's last user"
    with create_session() as session:
        assert session.execute(text("SELECT count(*) FROM connection")).scalar() >= 0

"""No API secret anywhere: task logs, XComs and everything else in Airflow's database, the
warehouse, notifications. Searched byte for byte after a full incident and recovery."""

from __future__ import annotations

import os
from pathlib import Path

from tests.fixtures.simulator import every_exchange
from tests.recovery.conftest import World


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


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
    for path in [*files_under(home), *(files_under(warehouse_file.parent) if warehouse_file.name else [])]:
        haystacks[str(path)] = path.read_bytes()
    assert len(haystacks) > 3
    for where, data in haystacks.items():
        for secret in secrets:
            assert secret.encode() not in data, f"an API secret appears in {where}"

"""One full broken-connection cycle with the warehouse on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.fixtures.simulator import every_exchange
from tests.recovery.conftest import World


@pytest.mark.postgres
@every_exchange
def test_revoked_key_cycle_on_postgres(pg_world: World):
    world = pg_world
    assert world.run_exchange_dag().state == "success"
    world.simulator.key_action(world.key["api_key"], "revoke")
    world.simulator.add_activity(world.account_id, trades=4, deposits=1)
    assert world.run_exchange_dag().state == "failed"
    (incident,) = world.warehouse.incidents.history(world.account_id)
    assert incident.cause == "key_revoked" and len(world.messages()) == 1
    recovery = world.run_recovery(incident.id, while_waiting=lambda: world.save_key(world.new_key()))
    assert recovery.state == "success"
    assert world.warehouse.incidents.get(incident.id).resolution == "recovered"
    assert_warehouse_matches(world.warehouse, world.account_id, world.history())
    assert "Recovered" in world.messages()[-1]["title"]

"""Warnings about a healthy key (it expires soon, it can trade or withdraw) from the exchange's own
answer, read by the exchange DAG a few times a day, before anything breaks."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from exchange_sync.diagnosis.knowledge import knowledge_for
from exchange_sync.key_audit import AUDIT_EVERY, audit_keys
from exchange_sync.registry import load_registry
from exchange_sync.settings import registry_path
from exchange_sync.status import account_status
from tests.fixtures.simulator import every_exchange
from tests.recovery.conftest import World, make_world


@pytest.fixture
def world(airflow_db, make_sim_account, simulator, receiver, tmp_path, monkeypatch, sqlite_url, exchange):
    world = make_world(make_sim_account, simulator, receiver, tmp_path, monkeypatch, sqlite_url, exchange)
    yield world
    world.warehouse.close()


def warnings(world: World) -> list[str]:
    account = load_registry(registry_path()).account(world.account_id)
    return account_status(account, world.warehouse)["warnings"]


@every_exchange
def test_a_healthy_key_with_too_many_rights_is_flagged_until_they_are_removed(world: World, exchange):
    facts = knowledge_for(exchange).introspection.facts
    in_3_days = int(time.time() * 1000) + 3 * 86_400_000 + 60_000
    expiry = {"expires_at": in_3_days} if "expires_at" in facts else {}
    every_right = world.new_key(permissions=world.exchange_facts()["permissions"], **expiry)
    world.save_key(every_right)
    world.key = every_right
    assert world.run_exchange_dag().state == "success"

    found = warnings(world)
    assert any("can withdraw funds" in w for w in found) == ("can_withdraw" in facts), found
    assert any("can trade" in w for w in found) == ("can_trade" in facts), found
    assert any("expires in 3 days" in w for w in found) == bool(expiry), found
    assert all("(checked " in w for w in found)
    read_at = world.warehouse.keys.current(world.account_id)["facts_read_at"]

    # Read a few times a day, not on every run.
    assert world.run_exchange_dag().state == "success"
    assert world.warehouse.keys.current(world.account_id)["facts_read_at"] == read_at

    # The user takes the rights away on the exchange: the next read finds a key that only reads.
    world.simulator.update_key(every_right["api_key"], permissions=world.exchange_facts()["read_permissions"])
    account = load_registry(registry_path()).account(world.account_id)
    assert audit_keys([account], world.warehouse, now=datetime.now(UTC) + AUDIT_EVERY) == 1
    assert [w for w in warnings(world) if "expires" not in w] == []


def test_a_key_that_only_reads_gets_no_warning_and_a_broken_one_is_left_to_the_diagnosis(world: World):
    world.save_key(world.new_key(permissions=world.exchange_facts()["read_permissions"]))
    assert world.run_exchange_dag().state == "success"
    assert warnings(world) == []
    assert world.warehouse.keys.current(world.account_id)["facts"]["can_trade"] is False

    world.simulator.key_action(world.key["api_key"], "revoke")
    assert world.run_exchange_dag().state == "failed"
    account = load_registry(registry_path()).account(world.account_id)
    assert audit_keys([account], world.warehouse, now=datetime.now(UTC) + AUDIT_EVERY) == 0

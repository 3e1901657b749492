"""KeyRotationTrigger on its own: driven like the triggerer drives it, against the simulator."""

from __future__ import annotations

import asyncio

import pytest

from exchange_sync.hooks.ccxt import credentials_from_connection
from exchange_sync.triggers.key_rotation import KeyRotationTrigger
from tests.fixtures.simulator import connection_env


def first_event(trigger: KeyRotationTrigger, timeout: float = 20) -> dict:
    async def first():
        return await asyncio.wait_for(trigger.run().__anext__(), timeout=timeout)

    return asyncio.run(first()).payload


@pytest.fixture
def conn(simulator, monkeypatch):
    """Put a key into the env connection `kr_conn`; returns its fingerprint."""

    def put(key: dict) -> str:
        name, value = connection_env("kr_conn", simulator, key)
        monkeypatch.setenv(name, value)
        from airflow.sdk import Connection

        return credentials_from_connection(Connection.from_json(value, conn_id="kr_conn")).fingerprint

    return put


def trigger(failing: str, **kwargs) -> KeyRotationTrigger:
    return KeyRotationTrigger(conn_id="kr_conn", failing_fingerprint=failing, poll_interval=0.2, **kwargs)


def test_serializes_to_what_rebuilds_it():
    original = trigger("AAAA…1", expected_uid="42", recheck_existing=True, rejected=["BBBB…2"])
    classpath, kwargs = original.serialize()
    assert classpath == "exchange_sync.triggers.key_rotation.KeyRotationTrigger"
    assert KeyRotationTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_new_working_keys_of_the_same_account_fire_rotated(simulator, make_sim_account, conn):
    account = make_sim_account(trades=5, symbols=1)
    dead = simulator.create_key(account.id)
    simulator.key_action(dead["api_key"], "revoke")
    failing = conn(dead)
    uid = str(next(a["uid"] for a in simulator.accounts() if a["id"] == account.id))
    seq = simulator.last_seq()
    new_key = simulator.create_key(account.id)
    new = conn(new_key)
    event = first_event(trigger(failing, expected_uid=uid))
    assert (event["status"], event["fingerprint"], event["exchange_uid"]) == ("rotated", new, uid)
    # One authenticated request, with the new key; none with the dead one (the other is public).
    keyed = [r["api_key_prefix"] for r in simulator.requests_since(seq)["requests"] if r["api_key_prefix"]]
    assert keyed == [new_key["api_key"][:8]]


def test_keys_of_another_account_fire_wrong_account(simulator, make_sim_account, conn):
    mine, other = make_sim_account(trades=5, symbols=1), make_sim_account(trades=5, symbols=1)
    uid = str(next(a["uid"] for a in simulator.accounts() if a["id"] == mine.id))
    conn(simulator.create_key(other.id))
    assert first_event(trigger("DEAD…0", expected_uid=uid))["status"] == "wrong_account"


def test_new_keys_that_fail_fire_rejected_and_are_not_retried(simulator, make_sim_account, conn):
    account = make_sim_account(trades=5, symbols=1)
    bad = simulator.create_key(account.id)
    simulator.key_action(bad["api_key"], "delete")
    fingerprint = conn(bad)
    event = first_event(trigger("DEAD…0"))
    assert (event["status"], event["cause"]) == ("rejected", "key_revoked")
    # Re-armed with it in `rejected`, the trigger sends nothing and keeps waiting.
    seq = simulator.last_seq()
    with pytest.raises(TimeoutError):
        first_event(trigger("DEAD…0", rejected=[fingerprint]), timeout=1.5)
    assert simulator.requests_since(seq)["requests"] == []


def test_existing_key_is_rechecked_slowly_until_fixed_on_the_exchange(simulator, make_sim_account, conn):
    account = make_sim_account(trades=5, symbols=1)
    key = simulator.create_key(account.id, permissions=[])
    fingerprint = conn(key)
    waiting = trigger(fingerprint, recheck_existing=True, recheck_interval=0.5)
    seq = simulator.last_seq()

    async def fix_later():
        await asyncio.sleep(2.5)
        simulator.update_key(key["api_key"], permissions=["reading"])

    async def scenario():
        fixer = asyncio.create_task(fix_later())
        event = await asyncio.wait_for(waiting.run().__anext__(), timeout=20)
        await fixer
        return event.payload

    event = asyncio.run(scenario())
    assert event["status"] == "fixed"
    checks = [r for r in simulator.requests_since(seq)["requests"] if r["account"] == account.id]
    # Re-checks back off (0.5 s, 1 s, 2 s, ...): a handful of requests, not one per poll.
    assert 2 <= len(checks) <= 5


@pytest.mark.parametrize("variant", ["empty", "html", "empty_object"])
def test_new_keys_answered_with_a_bad_body_are_checked_again_not_rejected(
    simulator, make_sim_account, conn, variant
):
    """The async client checks answers too: a proxy page is no verdict on the keys."""
    account = make_sim_account(trades=5, symbols=1)
    failing = conn(simulator.create_key(account.id))
    new = conn(simulator.create_key(account.id))
    simulator.add_fault("bad_body", variant=variant, path_contains="/api/v3/account", count=1)
    try:
        event = first_event(trigger(failing))
    finally:
        simulator.clear_faults()
    assert (event["status"], event["fingerprint"]) == ("rotated", new)


def test_a_connection_for_another_exchange_is_not_used(simulator, make_sim_account, conn, monkeypatch):
    account = make_sim_account(trades=5, symbols=1)
    failing = conn(simulator.create_key(account.id))
    conn(simulator.create_key(account.id))
    seq = simulator.last_seq()
    with pytest.raises(TimeoutError):
        first_event(trigger(failing, exchange="kraken"), timeout=1.5)
    assert [r for r in simulator.requests_since(seq)["requests"] if r["api_key_prefix"]] == []


def test_keys_saved_while_waiting_are_noticed_within_seconds(simulator, make_sim_account, conn):
    """Not after a whole poll interval: the connection is read every couple of seconds (no
    exchange request), so keys saved on the Connections page are checked at once."""
    import threading
    import time

    account = make_sim_account(trades=5, symbols=1)
    dead = simulator.create_key(account.id)
    simulator.key_action(dead["api_key"], "revoke")
    failing = conn(dead)
    new_key = simulator.create_key(account.id)
    threading.Timer(1.0, lambda: conn(new_key)).start()
    started = time.monotonic()
    slow = KeyRotationTrigger(conn_id="kr_conn", failing_fingerprint=failing, poll_interval=120)
    event = first_event(slow, timeout=30)
    assert event["status"] == "rotated"
    assert time.monotonic() - started < 10

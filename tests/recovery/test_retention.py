"""A connection broken long enough to approach the exchange's retention window (OKX keeps fills and
bills for 3 months): the warning goes out a week before history leaves the API, and a backfill
that comes too late reports exactly what was lost to retention instead of claiming the gap is
filled.

"Aged data": after a first import, the warehouse is turned into what it would hold had the last
import run N days ago (cursors moved back N days, rows since then removed); everything after that
(diagnosis, warning, rotation, backfill) runs for real against the simulator.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from exchange_sync.warehouse import schema
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.fixtures.simulator import RETENTION_EXCHANGES
from tests.recovery.conftest import World


def age_warehouse(world: World, days: int) -> datetime:
    """Make the warehouse look as if the account was last imported `days` ago."""
    last_import = datetime.now(UTC) - timedelta(days=days)
    with world.warehouse.engine.begin() as conn:
        for table, column in (
            (schema.trades, "traded_at"),
            (schema.ledger, "occurred_at"),
            (schema.transfers, "occurred_at"),
        ):
            conn.execute(
                delete(table).where(table.c.account_id == world.account_id, table.c[column] > last_import)
            )
        conn.execute(
            update(schema.cursors)
            .where(schema.cursors.c.account_id == world.account_id)
            .values(synced_until=last_import, position=None)
        )
    return last_import


def break_key(world: World) -> None:
    world.simulator.key_action(world.key["api_key"], "revoke")


def retention_outbox(world: World) -> list[dict]:
    return [m for m in world.warehouse.outbox.messages(world.account_id) if m["kind"] == "retention_warning"]


@pytest.mark.parametrize("exchange", RETENTION_EXCHANGES)
def test_warning_goes_out_a_week_before_history_leaves_the_api(world: World):
    retention = world.exchange_facts()["retention_days"]
    assert world.run_exchange_dag().state == "success"
    days = min(retention.values())
    last_import = age_warehouse(world, days - 5)  # 5 days left: inside the week's lead
    break_key(world)
    world.run_exchange_dag()

    (incident,) = world.warehouse.incidents.history(world.account_id)
    titles = [m["title"] for m in world.messages()]
    warnings = [t for t in titles if "export a CSV now" in t]
    # The alert, and one warning per stream the API forgets.
    assert len(titles) == 1 + len(warnings) and len(warnings) == len(retention)
    for stream, kept in retention.items():
        (warning,) = [m for m in world.messages() if f": {stream} since " in m["title"]]
        assert f"{stream} since {last_import:%Y-%m-%d} leave" in warning["title"]
        assert re.search(r"in [45] days", warning["title"]), warning["title"]
        leaves = last_import + timedelta(days=kept)
        assert f"{leaves:%Y-%m-%d %H:%M} UTC" in warning["message"] and "CSV" in warning["message"]
    assert all(m["sent_at"] is not None for m in retention_outbox(world))
    assert incident.state == "open"


@pytest.mark.parametrize("exchange", RETENTION_EXCHANGES)
def test_a_warning_far_ahead_waits_and_is_cancelled_by_the_recovery(world: World):
    assert world.run_exchange_dag().state == "success"
    break_key(world)
    world.run_exchange_dag()
    (incident,) = world.warehouse.incidents.history(world.account_id)
    queued = retention_outbox(world)
    retention = world.exchange_facts()["retention_days"]
    assert len(queued) == len(retention) and all(m["sent_at"] is None for m in queued)
    for message in queued:
        kept = timedelta(days=retention[message["dedupe_key"].split(":")[1].removeprefix("retention-")])
        expected_due = incident.opened_at + kept - timedelta(days=7)
        assert abs(message["due_at"] - expected_due) < timedelta(hours=1)
    assert len(world.messages()) == 1  # only the alert so far

    recovery = world.run_recovery(incident.id, while_waiting=lambda: world.save_key(world.new_key()))
    assert recovery.state == "success"
    assert all(m["cancelled_at"] is not None and m["sent_at"] is None for m in retention_outbox(world))


@pytest.mark.parametrize("exchange", RETENTION_EXCHANGES)
def test_backfill_after_the_window_reports_what_was_lost_to_retention(world: World):
    retention = world.exchange_facts()["retention_days"]
    world.simulator.add_activity(world.account_id, trades=30)
    assert world.run_exchange_dag().state == "success"
    days = max(retention.values()) + 30
    last_import = age_warehouse(world, days)
    break_key(world)
    world.run_exchange_dag()
    (incident,) = world.warehouse.incidents.history(world.account_id)

    recovery = world.run_recovery(incident.id, while_waiting=lambda: world.save_key(world.new_key()))
    assert recovery.state == "success"
    closed = world.warehouse.incidents.get(incident.id)
    assert (closed.state, closed.resolution) == ("closed", "recovered")
    recovered = world.messages()[-1]
    assert recovered["title"].startswith("[exchange-sync] Recovered")
    assert "NOT complete" in recovered["message"] and "CSV" in recovered["message"]
    for stream in retention:
        assert f"{stream} {last_import:%Y-%m-%d}" in recovered["message"], recovered["message"]
    assert "nothing is missing" not in recovered["message"]
    # What the API still serves was backfilled exactly; the forgotten part stays missing.
    history = world.history()
    assert_warehouse_matches(world.warehouse, world.account_id, history)
    stored = {r["trade_id"] for r in world.warehouse.rows(schema.trades, world.account_id)}
    lost = [
        t
        for t in history["trades"]
        if last_import.timestamp() * 1000
        < t["timestamp"]
        < (datetime.now(UTC) - timedelta(days=retention["trades"])).timestamp() * 1000
    ]
    assert lost and not {t["id"] for t in lost} & stored

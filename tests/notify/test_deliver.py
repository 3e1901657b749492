"""Delivery through real Apprise (its json:// service) to a local HTTP receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from exchange_sync.notify.deliver import deliver_due
from exchange_sync.notify.messages import incident_messages, targets_for
from tests.warehouse.test_incidents import fields


def open_incident(warehouse, targets=("es_alerts",)):
    return warehouse.incidents.open(
        fields(opened_at=datetime.now(UTC)), lambda incident: incident_messages(incident, targets)
    )[0]


def test_alert_is_delivered_once_with_what_to_do(warehouse, receiver, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ES_ALERTS", receiver.apprise_connection())
    incident = open_incident(warehouse)
    assert deliver_due(warehouse).sent == 1
    assert deliver_due(warehouse).sent == 0  # nothing due twice
    (message,) = receiver.messages
    assert message["title"] == f'[exchange-sync] Binance account "alice": {incident.title}'
    body = message["message"]
    assert "Create a new key." in body  # the remediation
    assert "stale since" in body and "conn_alice" in body and "/connections" in body
    assert f"Incident #{incident.id}" in body


def test_failed_delivery_is_retried_and_never_duplicated(warehouse, receiver, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ES_ALERTS", receiver.apprise_connection())
    open_incident(warehouse)
    receiver.refuse = 1
    report = deliver_due(warehouse)
    assert (report.sent, report.failed, receiver.messages) == (0, 1, [])
    (row,) = [m for m in warehouse.outbox.messages("alice") if m["kind"] == "alert"]
    assert row["sent_at"] is None and "did not accept" in row["last_error"]
    # Later (the retry delay has passed): delivered exactly once.
    from exchange_sync.warehouse import schema

    with warehouse.engine.begin() as conn:
        conn.execute(
            schema.notifications.update()
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
            .where(schema.notifications.c.id == row["id"])
        )
    assert deliver_due(warehouse).sent == 1
    assert deliver_due(warehouse).sent == 0
    assert len(receiver.messages) == 1


def test_each_target_gets_its_own_delivery(warehouse, receiver, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ES_OPS", receiver.apprise_connection("ops"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_ES_BROKEN",
        '{"conn_type": "apprise", "extra": {"config": {"path": "json://127.0.0.1:9/"}}}',
    )
    open_incident(warehouse, targets=("es_ops", "es_broken"))
    report = deliver_due(warehouse)
    assert (report.sent, report.failed) == (1, 1)
    assert len(receiver.messages) == 1  # the working target is not repeated when the other retries


def test_reminders_follow_the_backoff_then_stop(warehouse):
    incident = open_incident(warehouse)
    due = sorted(m["due_at"] for m in warehouse.outbox.messages("alice") if m["kind"] == "reminder")
    gaps = [b - a for a, b in zip([incident.opened_at, *due[:-1]], due, strict=True)]
    assert gaps == [timedelta(days=1), timedelta(days=2), timedelta(days=7)]


def test_default_target_when_the_account_names_none():
    assert targets_for(()) == ("exchange_sync_apprise",)
    assert targets_for(("slack_ops",)) == ("slack_ops",)

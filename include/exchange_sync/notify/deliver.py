"""Deliver due outbox messages through Apprise, each target configured in an Airflow connection
of type "apprise" (Slack, email, Teams, webhooks, ... as Apprise URLs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from exchange_sync.warehouse import Warehouse

log = logging.getLogger(__name__)

NOTIFY_TYPES = {"alert": "failure", "reminder": "warning", "recovered": "success"}


class DeliveryFailed(RuntimeError):
    pass


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0


def send(target: str, title: str, body: str, notify_type: str = "info") -> None:
    """One message to one Apprise connection; raises DeliveryFailed unless every service took it."""
    import apprise
    from airflow.providers.apprise.hooks.apprise import AppriseHook

    hook = AppriseHook(apprise_conn_id=target)
    services = apprise.Apprise()
    hook.set_config_from_conn(conn=hook.get_connection(target), apprise_obj=services)
    if len(services) == 0:
        raise DeliveryFailed(f"Apprise connection {target!r} configures no service")
    # AppriseHook.notify drops Apprise's result; a failed delivery must stay in the outbox.
    if not services.notify(body=body, title=title, notify_type=notify_type):
        raise DeliveryFailed(f"Apprise connection {target!r}: a service did not accept the message")


def deliver_due(warehouse: Warehouse, account_id: str | None = None) -> DeliveryReport:
    report = DeliveryReport()
    for message in warehouse.outbox.claim_due(account_id=account_id):
        try:
            send(message.target, message.title, message.body, NOTIFY_TYPES.get(message.kind, "warning"))
        except Exception as exc:  # any failure: keep it queued and retry later with backoff
            warehouse.outbox.mark_failed(message.id, message.attempts, f"{type(exc).__name__}: {exc}")
            log.warning(
                "notification %s (%s) not delivered, retried later: %s", message.id, message.kind, exc
            )
            report.failed += 1
        else:
            warehouse.outbox.mark_sent(message.id)
            log.info("notification %s (%s) delivered to %s", message.id, message.kind, message.target)
            report.sent += 1
    return report

"""The scheduled run's side: import, and when an import fails, diagnose and notify."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from exchange_sync.diagnosis import classify, probes
from exchange_sync.diagnosis.failure import Failure
from exchange_sync.hooks.ccxt import CcxtHook, build_client
from exchange_sync.importer.run import AccountImportError, run_account_import
from exchange_sync.notify.deliver import deliver_due
from exchange_sync.notify.messages import incident_messages, targets_for
from exchange_sync.profiles import get_profile
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Warehouse

log = logging.getLogger(__name__)


class SkipAccount(Exception):
    """Nothing to do for this account in this run (frozen, or waiting for new keys)."""


class NeedsPerson(Exception):
    """The exchange refused in a way only a person can fix: no retry, go to diagnosis."""


def import_step(account: AccountConfig, warehouse: Warehouse, keep_failure: Callable[[dict], None]) -> dict:
    state = warehouse.accounts.get(account.id)
    if state is not None and state.frozen:
        raise SkipAccount(
            f"{account.id} is frozen since {state.frozen_at:%Y-%m-%d %H:%M} UTC ({state.frozen_reason})"
        )
    incident = warehouse.incidents.open_for(account.id)
    if incident is not None:
        # No request with the dead key, no second alert, no second waiter.
        raise SkipAccount(
            f"{account.id} is waiting for new keys: incident #{incident.id} ({incident.cause}) open since "
            f"{incident.opened_at:%Y-%m-%d %H:%M} UTC"
        )
    try:
        return run_account_import(account, warehouse)
    except AccountImportError as error:
        keep_failure(error.failure.to_dict())
        # Offline classification only (no request): is this worth retrying?
        first_look = classify(
            error.failure.exchange, error.failure.http_status, error.failure.body, error=error.failure.error()
        )
        if first_look.transient:
            log.warning("%s: %s (%s); retried with backoff", account.id, first_look.title, first_look.cause)
            raise
        raise NeedsPerson(
            f"{account.exchange}/{account.id}: {first_look.title} ({first_look.cause})"
        ) from error


def diagnose_step(account: AccountConfig, failure_data: dict, warehouse: Warehouse) -> dict[str, Any]:
    """Name the cause (probing with a fresh client), and open the incident with its messages."""
    failure = Failure.from_dict(failure_data)
    credentials = CcxtHook(account.conn_id).get_credentials()
    profile = get_profile(account.exchange)
    if credentials.fingerprint == failure.key_fingerprint:
        diagnosis = probes.diagnose(
            failure,
            new_client=lambda: build_client(credentials, profile.ccxt_options),
            has_credentials=bool(credentials.api_key and credentials.secret),
            streams=account.streams,
        )
    else:
        # The connection changed since the failure: probing the new key says nothing about the old.
        diagnosis = classify(failure.exchange, failure.http_status, failure.body, error=failure.error())
    log.info(
        "%s/%s diagnosis: %s (%s); evidence %s",
        account.exchange,
        account.id,
        diagnosis.cause,
        diagnosis.title,
        diagnosis.evidence,
    )
    if diagnosis.transient:
        return {"incident_id": None, "created": False, "cause": diagnosis.cause, "transient": True}
    sync = warehouse.account_sync(account.id)
    cursors = {
        stream: min((c.synced_until for c in warehouse.cursors(account.id, stream)), default=None)
        for stream in account.streams
    }
    fields = {
        "account_id": account.id,
        "exchange": account.exchange,
        "conn_id": account.conn_id,
        "cause": diagnosis.cause,
        "candidates": list(diagnosis.candidates),
        "title": diagnosis.title,
        "remediation": diagnosis.remediation,
        "evidence": diagnosis.to_dict()["evidence"] | {"warnings": list(diagnosis.warnings)},
        "key_fingerprint": failure.key_fingerprint,
        "stale_since": sync["last_success_at"] if sync else None,
        "last_good_cursors": {s: t.isoformat() if t else None for s, t in cursors.items()},
    }
    targets = targets_for(account.notify)
    incident, created = warehouse.incidents.open(fields, lambda inc: incident_messages(inc, targets))
    if failure.key_fingerprint:
        warehouse.keys.failed(account.id, failure.key_fingerprint, diagnosis.cause)
    return {"incident_id": incident.id, "created": created, "cause": incident.cause, "transient": False}


def notify_step(account: AccountConfig, diagnosis: dict, warehouse: Warehouse) -> dict[str, Any]:
    if diagnosis["transient"]:
        raise SkipAccount(f"{account.id}: {diagnosis['cause']} is transient: no incident, no message")
    if not diagnosis["created"]:
        raise SkipAccount(
            f"{account.id}: incident #{diagnosis['incident_id']} was already open: no second alert"
        )
    report = deliver_due(warehouse, account.id)
    return {"incident_id": diagnosis["incident_id"], "sent": report.sent, "failed": report.failed}


def health_step(accounts: list[AccountConfig], warehouse: Warehouse) -> list[str]:
    """Deliver what is due (reminders, retries), then list the accounts that are not importing."""
    report = deliver_due(warehouse)
    if report.sent or report.failed:
        log.info("notifications: %d delivered, %d to retry", report.sent, report.failed)
    broken = []
    for account in accounts:
        state = warehouse.accounts.get(account.id)
        incident = warehouse.incidents.open_for(account.id)
        if incident is not None and not (state and state.frozen):
            since = incident.stale_since or incident.opened_at
            stale = f"stale since {since:%Y-%m-%d %H:%M} UTC"
            broken.append(f"{account.id}: {incident.title} (incident #{incident.id}, {stale})")
    return broken

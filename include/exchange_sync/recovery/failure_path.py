"""The scheduled run's side: import, and when an import fails, diagnose and notify."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from exchange_sync.diagnosis import probes
from exchange_sync.diagnosis.classify import classify_failure, connection_problem, internal_failure
from exchange_sync.diagnosis.failure import Failure
from exchange_sync.diagnosis.model import Diagnosis
from exchange_sync.hooks.ccxt import CcxtHook, ConnectionProblem, build_client
from exchange_sync.importer.run import AccountImportError, run_account_import
from exchange_sync.notify.deliver import deliver_due
from exchange_sync.notify.messages import incident_messages, retention_warnings, targets_for
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
        # Scheduled: quiet symbols wait for their sweep (importer/quiet_symbols.py).
        return run_account_import(account, warehouse, sweep=False)
    except AccountImportError as error:
        keep_failure(error.failure.to_dict())
        # Offline classification only (no request): is this worth retrying?
        first_look = classify_failure(error.failure)
        if first_look.transient:
            log.warning("%s: %s (%s); retried with backoff", account.id, first_look.title, first_look.cause)
            raise
        raise NeedsPerson(
            f"{account.exchange}/{account.id}: {first_look.title} ({first_look.cause})"
        ) from error


def diagnose_step(account: AccountConfig, failure_data: dict | None, warehouse: Warehouse) -> dict[str, Any]:
    """Name the cause (probing with a fresh client), and open the incident with its messages.

    Never raises on what it is given: every failed import ends in an incident or, for a
    transient cause, in a retry; `failure_data` is None when the import recorded no failure."""
    failure = _failure(account, failure_data)
    try:
        diagnosis = _diagnose(account, failure)
    except Exception as exc:  # a bug here must not swallow the incident
        log.exception("%s: the diagnosis itself failed", account.id)
        diagnosis = internal_failure(
            account.exchange, f"{failure.message}; then the diagnosis failed: {type(exc).__name__}: {exc}"
        )
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
    profile = get_profile(account.exchange)
    retention = profile.retentions(account.streams)
    incident, created = warehouse.incidents.open(
        fields, lambda inc: incident_messages(inc, targets) + retention_warnings(inc, targets, retention)
    )
    if failure.key_fingerprint:
        warehouse.keys.failed(account.id, failure.key_fingerprint, diagnosis.cause)
    return {"incident_id": incident.id, "created": created, "cause": incident.cause, "transient": False}


def _failure(account: AccountConfig, failure_data: dict | None) -> Failure:
    try:
        return Failure.from_dict(failure_data or {})
    except (TypeError, ValueError):
        # Killed (out of memory, worker lost) or crashed before it could say why.
        return Failure(
            exchange=account.exchange,
            http_status=None,
            body=None,
            error_class="ImportCrashed",
            message="the import task failed without recording an exchange failure; see its log",
        )


def _diagnose(account: AccountConfig, failure: Failure) -> Diagnosis:
    if failure.made_no_request:
        return classify_failure(failure)
    try:
        credentials = CcxtHook(account.conn_id).get_credentials(account.exchange)
    except ConnectionProblem as problem:  # broken since the failure: that is what to fix now
        return connection_problem(account.exchange, str(problem), problem.field)
    if credentials.fingerprint != failure.key_fingerprint:
        # The connection changed since the failure: probing the new key says nothing about the old.
        return classify_failure(failure)
    return probes.diagnose(failure, new_client=lambda: build_client(credentials), streams=account.streams)


def notify_step(account: AccountConfig, diagnosis: dict, warehouse: Warehouse) -> dict[str, Any]:
    if diagnosis["transient"]:
        raise SkipAccount(f"{account.id}: {diagnosis['cause']} is transient: no incident, no message")
    if not diagnosis["created"]:
        raise SkipAccount(
            f"{account.id}: incident #{diagnosis['incident_id']} was already open: no second alert"
        )
    report = deliver_due(warehouse, account.id)
    return {"incident_id": diagnosis["incident_id"], "sent": report.sent, "failed": report.failed}


def health_step(
    accounts: list[AccountConfig], warehouse: Warehouse, paused_recovery: str | None = None
) -> list[str]:
    """Deliver what is due (reminders, retries), then list the accounts that are not importing
    (and, where the recovery DAG `paused_recovery` is paused, that their recovery cannot run)."""
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
            line = f"{account.id}: {incident.title} (incident #{incident.id}, {stale})"
            if paused_recovery:
                # A paused DAG's runs sit queued: nothing waits for the new keys, nothing backfills.
                line += (
                    f"; its recovery cannot run: DAG {paused_recovery} is paused, unpause it "
                    "(Airflow UI: Dags, or `airflow dags unpause`)"
                )
            broken.append(line)
    return broken

"""The words of each notification. Never a secret: keys appear only as fingerprints."""

from __future__ import annotations

from datetime import datetime, timedelta

from exchange_sync.diagnosis.knowledge import knowledge_for
from exchange_sync.ui.links import airflow_url, page_url
from exchange_sync.warehouse.incidents import Incident
from exchange_sync.warehouse.outbox import Message

# After the alert: reminders 1 day, then 2 days, then 7 days apart; then quiet.
REMINDER_GAPS = (timedelta(days=1), timedelta(days=2), timedelta(days=7))
DEFAULT_TARGET = "exchange_sync_apprise"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "its first import (nothing imported yet)"


def _label(incident: Incident) -> str:
    return f'{knowledge_for(incident.exchange).name} account "{incident.account_id}"'


# Causes fixed on the exchange's side with the same key: the waiting recovery re-checks it.
FIXED_AT_THE_EXCHANGE = ("permission_missing", "ip_not_allowed")


def _fix_it(incident: Incident) -> str:
    page = page_url(incident.account_id)
    if incident.cause in FIXED_AT_THE_EXCHANGE:
        return (
            f"Fixing it on {knowledge_for(incident.exchange).name} is enough: exchange-sync re-checks the "
            "existing key by itself, first within about 15 minutes and then at doubling intervals, and "
            f"fills the gap; all history is kept. To have it noticed at once, click Retry now on {page} "
            "(there you can also enter a new key; it is kept in the Airflow connection "
            f'"{incident.conn_id}").'
        )
    return (
        f"Fix it: {page} (Fix it, then Save and change), or enter the new key in the Airflow connection "
        f'"{incident.conn_id}" ({airflow_url().rstrip("/")}/connections). exchange-sync notices the change '
        "by itself, checks that the key belongs to the same exchange account, and fills the gap; all history "
        "is kept."
    )


def alert_body(incident: Incident) -> str:
    evidence = incident.evidence
    facts = ", ".join(
        f"{label} {evidence[key]}"
        for key, label in (("http_status", "HTTP"), ("code", "code"), ("ccxt_class", "ccxt"))
        if evidence.get(key) not in (None, "")
    )
    probes = "; ".join(evidence.get("probes") or [])
    lines = [
        f"{incident.title}.",
        f"Imports of {_label(incident)} stopped at {_when(incident.opened_at)}. Its balances, trades, "
        f"deposits and withdrawals are stale since {_when(incident.stale_since)}: portfolio values and tax "
        "reports built on them are incomplete until this is fixed.",
        "",
        f"What to do: {incident.remediation}",
        "",
        _fix_it(incident),
        "",
        f"Evidence: {facts or 'none'}" + (f"; probes: {probes}" if probes else ""),
        f"Incident #{incident.id}, cause {incident.cause}, failing key {incident.key_fingerprint or 'none'}.",
    ]
    return "\n".join(lines)


def incident_messages(incident: Incident, targets: tuple[str, ...]) -> list[Message]:
    """The alert now, and the reminders that stay queued until the incident closes."""
    title = f"[exchange-sync] {_label(incident)}: {incident.title}"
    body = alert_body(incident)
    messages = _message(incident, "alert", targets, title, body, incident.opened_at)
    due = incident.opened_at
    for number, gap in enumerate(REMINDER_GAPS, start=1):
        due += gap
        reminder_title = f"[exchange-sync] Reminder {number}: {_label(incident)} is still not importing"
        messages += _message(
            incident, "reminder", targets, reminder_title, body, due, key=f"reminder-{number}"
        )
    return messages


RETENTION_LEAD = timedelta(days=7)  # warn this long before history leaves the exchange's API


def retention_warnings(
    incident: Incident, targets: tuple[str, ...], retention: dict[str, timedelta]
) -> list[Message]:
    """While the connection stays broken, history the exchange's API keeps only for a while
    (OKX: months) is about to leave it: a warning a week before, per stream (queued with the
    incident, cancelled when it closes). Where it is leaving already, the warning goes now."""
    messages = []
    name = knowledge_for(incident.exchange).name
    for stream, (oldest_missing, leaves) in incident.history_leaving(dict(sorted(retention.items()))).items():
        kept = retention[stream]
        due = max(incident.opened_at, leaves - RETENTION_LEAD)
        if leaves > due:
            days = max(1, round((leaves - due) / timedelta(days=1)))
            soon, when = f"leave {name}'s API in {days} days", f"start leaving it on {_when(leaves)}"
        else:
            soon, when = f"are leaving {name}'s API", f"have been leaving it since {_when(leaves)}"
        title = (
            f"[exchange-sync] {_label(incident)}: {stream} since {oldest_missing:%Y-%m-%d} {soon}; "
            "fix the key or export a CSV now"
        )
        body = (
            f"{_label(incident)} is still not importing (incident #{incident.id}, {incident.cause}). "
            f"{name}'s API serves {stream} of the last {kept.days} days only: the {stream} not imported "
            f"since {_when(oldest_missing)} {when}. Fix the key before then, or export {name}'s CSV of "
            f"{stream} for that period now.\n\n{_fix_it(incident)}"
        )
        messages += _message(
            incident, "retention_warning", targets, title, body, due, key=f"retention-{stream}"
        )
    return messages


def recovered_message(
    incident: Incident,
    targets: tuple[str, ...],
    rows: int,
    start: datetime,
    end: datetime,
    lost: dict[str, tuple[datetime, datetime]] | None = None,
) -> list[Message]:
    """`lost`: per stream, the part of the gap the exchange's API no longer served."""
    if lost:
        name = knowledge_for(incident.exchange).name
        missing = "; ".join(f"{s} {_when(a)} → {_when(b)}" for s, (a, b) in sorted(lost.items()))
        outcome = (
            f"{name}'s API no longer serves part of the gap, so it is NOT complete: {missing}. "
            f"Import {name}'s CSV export for it; nothing was imported twice."
        )
    else:
        outcome = "coverage is continuous, nothing is missing and nothing was imported twice."
    body = (
        f"{_label(incident)} is importing again (incident #{incident.id}, {incident.cause}).\n"
        f"Backfilled {rows} rows for {_when(start)} → {_when(end)}; {outcome}"
    )
    title = f"[exchange-sync] Recovered: {_label(incident)}"
    return _message(incident, "recovered", targets, title, body, end)


def wrong_account_message(
    incident: Incident, targets: tuple[str, ...], fingerprint: str, now: datetime
) -> list[Message]:
    body = (
        f"The new key entered for {_label(incident)} (key {fingerprint}) belongs to a different "
        f"{knowledge_for(incident.exchange).name} account, so nothing was imported with it. Enter a key "
        f"created in the same account as before.\n\n{_fix_it(incident)}"
    )
    title = f"[exchange-sync] Refused: the new key for {_label(incident)} is for another account"
    return _message(incident, "wrong_account", targets, title, body, now, key=f"wrong-account-{fingerprint}")


def rejected_key_message(
    incident: Incident, targets: tuple[str, ...], fingerprint: str, reason: str, now: datetime
) -> list[Message]:
    body = (
        f"The new key entered for {_label(incident)} (key {fingerprint}) does not work either: {reason}.\n\n"
        f"{_fix_it(incident)}"
    )
    title = f"[exchange-sync] The new key for {_label(incident)} was rejected"
    return _message(incident, "new_key_rejected", targets, title, body, now, key=f"rejected-{fingerprint}")


def _message(
    incident: Incident,
    kind: str,
    targets: tuple[str, ...],
    title: str,
    body: str,
    due: datetime,
    key: str = "",
) -> list[Message]:
    """One outbox row per target, so a target that fails never makes another receive it twice."""
    return [
        Message(
            dedupe_key=f"incident-{incident.id}:{key or kind}:{target}",
            account_id=incident.account_id,
            kind=kind,
            target=target,
            title=title,
            body=body,
            due_at=due,
            incident_id=incident.id,
        )
        for target in targets
    ]


def targets_for(notify: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(notify) or (DEFAULT_TARGET,)

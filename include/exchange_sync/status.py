"""Per-account health for `exchange-sync status`: what the registry expects, what the warehouse holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from exchange_sync.profiles import PROFILES
from exchange_sync.reconcile import account_coverage, reconcile_account
from exchange_sync.registry import AccountConfig, Registry
from exchange_sync.ui.links import page_url
from exchange_sync.warehouse import Warehouse

HEALTHY = "healthy"
FAILING = "failing"
WAITING_FOR_KEYS = "waiting_for_keys"
FROZEN = "frozen"
NEVER_SYNCED = "never_synced"


def account_status(account: AccountConfig, warehouse: Warehouse) -> dict[str, Any]:
    sync = warehouse.account_sync(account.id)
    state = warehouse.accounts.get(account.id)
    incident = warehouse.incidents.open_for(account.id)
    profile = PROFILES.get(account.exchange)
    counts = warehouse.row_counts(account.id, profile.ledger_types() if profile else None)
    streams = {}
    for stream in account.streams:
        cursors = warehouse.cursors(account.id, stream)
        # A stream is only as fresh as its stalest part (for trades: its stalest symbol).
        synced_until = min((c.synced_until for c in cursors), default=None)
        streams[stream] = {"rows": counts.get(stream, 0), "synced_until": _iso(synced_until)}
        scoped = {c.scope: _iso(c.synced_until) for c in cursors if c.scope}
        if scoped:  # how fresh each symbol (or currency) is: quiet symbols wait for their sweep
            streams[stream]["scopes"] = scoped
    coverage = account_coverage(
        warehouse,
        account,
        frozen=bool(state and state.frozen),
        incident=incident.cause if incident else None,
    )
    return {
        "account": account.id,
        "exchange": account.exchange,
        "conn_id": account.conn_id,
        "state": _state(sync, incident, state),
        "incident": incident.to_summary() | {"remediation": incident.remediation} if incident else None,
        "frozen": {"since": _iso(state.frozen_at), "reason": state.frozen_reason}
        if state and state.frozen
        else None,
        "last_attempt_at": _iso(sync["last_attempt_at"]) if sync else None,
        "last_success_at": _iso(sync["last_success_at"]) if sync else None,
        "last_error": sync["last_error"] if sync else None,
        "streams": streams,
        "last_gap": _last_gap(warehouse.incidents.history(account.id)),
        # Is the history complete? Reported against computed balances, and each stream's windows.
        "reconciliation": reconcile_account(warehouse, account, coverage),
        "coverage": coverage,
        "warnings": _warnings(account, incident, warehouse.keys.current(account.id)),
        # Where a person fixes it: the account's row and Fix it form on the Connections page.
        "fix_url": page_url(account.id),
        "keys": [
            {
                "fingerprint": v["fingerprint"],
                "first_used_at": _iso(v["first_used_at"]),
                "last_used_at": _iso(v["last_used_at"]),
                "last_ok_at": _iso(v["last_ok_at"]),
                "failed_at": _iso(v["failed_at"]),
                "failure_cause": v["failure_cause"],
                "replaced_at": _iso(v["replaced_at"]),
            }
            for v in warehouse.keys.versions(account.id)
        ],
    }


def registry_status(registry: Registry, warehouse: Warehouse) -> dict[str, Any]:
    """Every valid account's health, and the entries that are not imported because they are invalid."""
    return {
        "accounts": [account_status(a, warehouse) for a in registry.accounts],
        "invalid_entries": [
            {"file": str(e.file), "entry": e.entry, "field": e.field, "message": e.message, "error": str(e)}
            for e in registry.errors
        ],
    }


def format_table(status: dict[str, Any]) -> str:
    header = ("ACCOUNT", "EXCHANGE", "STATE", "INCIDENT", "STREAM", "ROWS", "SYNCED UNTIL")
    lines = [header]
    for acc in status["accounts"]:
        incident = acc["incident"]["cause"] if acc["incident"] else "-"
        first = True
        for stream, info in acc["streams"].items():
            lead = (acc["account"], acc["exchange"], acc["state"], incident) if first else ("", "", "", "")
            lines.append((*lead, stream, str(info["rows"]), info["synced_until"] or "never"))
            first = False
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in lines]
    return "\n".join(
        table
        + _incident_lines(status)
        + _gap_lines(status)
        + _reconciliation_lines(status)
        + _coverage_lines(status)
        + _key_lines(status)
        + _invalid_lines(status)
    )


def _reconciliation_lines(status: dict[str, Any]) -> list[str]:
    """One line per asset whose computed balance differs from the reported one, and per asset that
    went below zero (history that is missing)."""
    lines: list[str] = []
    for acc in status["accounts"]:
        found = acc.get("reconciliation") or {}
        for asset in found.get("assets", []):
            if asset["asset"] in found["differences"]:
                since = f" since {asset['since'][:10]}" if asset["since"] else ""
                lines.append(
                    f"  {acc['account']}: {asset['asset']}: reported {asset['reported']}, computed "
                    f"{asset['computed']}, differs by {asset['difference']}{since}"
                )
            if asset["negative"]:
                row = asset["negative"]
                lines.append(
                    f"  {acc['account']}: {asset['asset']} goes negative ({row['balance']}) at "
                    f"{row['table']} {row['id']} on {row['time'][:19]}: missing purchase history"
                )
    return (
        ["", "Reconciliation (reported by the exchange against computed from the history):", *lines]
        if lines
        else []
    )


def _coverage_lines(status: dict[str, Any]) -> list[str]:
    lines = [
        f"  {acc['account']}: {stream} {gap['from'][:10]} to {gap['to'][:10]}: {gap['reason']}"
        for acc in status["accounts"]
        # An account never imported has no history to be incomplete: the table says "never".
        if (acc.get("coverage") or {}).get("first_import_at")
        for stream, info in acc["coverage"]["streams"].items()
        for gap in info["gaps"]
    ]
    return ["", "History not imported (coverage gaps):", *lines] if lines else []


def _invalid_lines(status: dict[str, Any]) -> list[str]:
    invalid = status.get("invalid_entries") or []
    lines = ["", "Invalid registry entries (not imported until fixed):"] if invalid else []
    return lines + [f"  {e['error']}" for e in invalid]


def _incident_lines(status: dict[str, Any]) -> list[str]:
    open_ones = [(a["account"], a["incident"]) for a in status["accounts"] if a["incident"]]
    lines = ["", "Open incidents:"] if open_ones else []
    for account, incident in open_ones:
        since = incident["stale_since"] or incident["opened_at"]
        lines.append(
            f"  {account}: #{incident['id']} {incident['cause']} (stale since {since}) - {incident['title']}"
        )
        lines.append(f"    Fix it: {page_url(account)}")
    return lines


def _gap_lines(status: dict[str, Any]) -> list[str]:
    gaps = [(a["account"], a["last_gap"]) for a in status["accounts"] if a.get("last_gap")]
    lines = ["", "Last gaps filled by a recovery:"] if gaps else []
    for account, gap in gaps:
        rows = "unknown" if gap["rows"] is None else str(gap["rows"])
        period = f"{gap['from']} to {gap['to']}"
        lines.append(f"  {account}: #{gap['incident_id']} {gap['cause']}, {period}: {rows} rows backfilled")
    return lines


def _key_lines(status: dict[str, Any]) -> list[str]:
    lines = []
    for account in status["accounts"]:
        for key in account["keys"]:
            if not lines:
                lines = ["", "Key history (fingerprints, never the keys):"]
            fate = (
                f"failed {key['failure_cause']} at {key['failed_at']}"
                if key["failed_at"] and not key["replaced_at"]
                else f"replaced at {key['replaced_at']}"
                if key["replaced_at"]
                else f"current, last ok {key['last_ok_at']}"
            )
            lines.append(
                f"  {account['account']}: {key['fingerprint']} first used {key['first_used_at']}, {fate}"
            )
    return lines


def _warnings(account: AccountConfig, incident: Any, key: dict[str, Any] | None) -> list[str]:
    """What needs attention before it becomes a gap: the key's own warnings (expiry, trade or
    withdrawal rights) from what the exchange last said of it (key_audit.py while healthy, the
    diagnosis once it failed), and history about to leave the exchange's API while the account
    is not importing."""
    from exchange_sync.diagnosis.facts import KeyFacts, warnings_for
    from exchange_sync.diagnosis.knowledge import knowledge_for

    name = knowledge_for(account.exchange).name
    found = list(incident.evidence.get("warnings") or []) if incident is not None else []
    if incident is None and key and key["facts"] and key["facts_read_at"]:
        checked = f" (checked {key['facts_read_at']:%Y-%m-%d %H:%M} UTC)"
        found += [w + checked for w in warnings_for(KeyFacts.from_json(key["facts"]), name)]
    if incident is None:
        return found
    from exchange_sync.notify.messages import RETENTION_LEAD

    profile = PROFILES.get(account.exchange)
    retention = profile.retentions(account.streams) if profile else {}
    now = datetime.now(UTC)
    for stream, (_, leaves) in incident.history_leaving(retention).items():
        if leaves - now <= RETENTION_LEAD:
            verb = "left" if leaves <= now else "leaves"
            found.append(
                f"{stream} since {incident.last_good_cursors[stream]} {verb} {name}'s API on "
                f"{leaves:%Y-%m-%d}: fix the key now or import {name}'s CSV export for that period"
            )
    return found


def _last_gap(incidents: list[Any]) -> dict[str, Any] | None:
    """The last gap a recovery filled: the period it read again and the rows it found missing.
    (While a connection is broken the rows missing are unknown: only the backfill reads them.)"""
    recovered = [i for i in incidents if i.resolution == "recovered" and i.closed_at is not None]
    if not recovered:
        return None
    last = max(recovered, key=lambda i: i.closed_at)
    return {
        "incident_id": last.id,
        "cause": last.cause,
        "from": _iso(last.backfill_from or last.stale_since),
        "to": _iso(last.backfill_to or last.closed_at),
        "rows": last.backfilled_rows,
        "closed_at": _iso(last.closed_at),
    }


def _state(sync: dict[str, Any] | None, incident: Any, state: Any) -> str:
    if state is not None and state.frozen:
        return FROZEN
    if incident is not None:
        return WAITING_FOR_KEYS
    if sync is None:
        return NEVER_SYNCED
    if sync["last_success_at"] is not None and sync["last_success_at"] >= sync["last_attempt_at"]:
        return HEALTHY
    return FAILING


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

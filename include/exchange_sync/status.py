"""Per-account health for `exchange-sync status`: what the registry expects, what the warehouse holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from exchange_sync.registry import AccountConfig, Registry
from exchange_sync.warehouse import Warehouse

HEALTHY = "healthy"
FAILING = "failing"
WAITING_FOR_KEYS = "waiting_for_keys"
FROZEN = "frozen"
NEVER_SYNCED = "never_synced"


def account_status(account: AccountConfig, warehouse: Warehouse) -> dict[str, Any]:
    sync = warehouse.account_sync(account.id)
    counts = warehouse.row_counts(account.id)
    streams = {}
    for stream in account.streams:
        cursors = warehouse.cursors(account.id, stream)
        # A stream is only as fresh as its stalest part (for trades: its stalest symbol).
        synced_until = min((c.synced_until for c in cursors), default=None)
        streams[stream] = {"rows": counts.get(stream, 0), "synced_until": _iso(synced_until)}
    return {
        "account": account.id,
        "exchange": account.exchange,
        "conn_id": account.conn_id,
        "state": _state(sync),
        "incident": None,
        "last_attempt_at": _iso(sync["last_attempt_at"]) if sync else None,
        "last_success_at": _iso(sync["last_success_at"]) if sync else None,
        "last_error": sync["last_error"] if sync else None,
        "streams": streams,
    }


def registry_status(registry: Registry, warehouse: Warehouse) -> dict[str, Any]:
    return {"accounts": [account_status(a, warehouse) for a in registry.accounts]}


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
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in lines
    )


def _state(sync: dict[str, Any] | None) -> str:
    if sync is None:
        return NEVER_SYNCED
    if sync["last_success_at"] is not None and sync["last_success_at"] >= sync["last_attempt_at"]:
        return HEALTHY
    return FAILING


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

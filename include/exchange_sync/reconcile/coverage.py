"""Which time windows of each stream are imported, and which are gaps, from the warehouse alone.

Per stream of the account's exchange (its profile), from `history_start` to now (and the ledger
where only CSV imports fill it, e.g. Binance's dust and reward rows: `"api": false`, no gaps).
A stream stored as ledger rows of one type (Binance's conversions, profiles.py `ledger_type`) is
those rows; the ledger is the rest:

* the API covers `history_start` (or, where the API forgets, what it still served at the first
  import: the oldest balance snapshot minus the profile's retention) up to the stream's cursor
  (`synced_until`; per-symbol streams: their stalest symbol);
* a CSV import covers its rows' first to last time in that stream (`source` "csv:<id>:<line>");
* the rest is a gap, with its reason: `retention` (older than the API kept when it was first
  asked: only the exchange's CSV export has it), `not_imported` (the registry leaves the stream
  out), `never_imported` (no import reached it yet), `frozen` or `incident` (imports stopped: from
  the cursor to now), `not_covered` (between two covered windows). After the cursor of an account
  that imports normally, the rest is the next run's, not a gap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, case, func, select
from sqlalchemy.engine import Connection

from exchange_sync import streams
from exchange_sync.profiles import PROFILES
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import schema
from exchange_sync.warehouse.store import ledger_filter

Window = tuple[datetime, datetime]

# stream -> (table, its time column, the transfer kind where the table holds two streams)
STREAM_ROWS: dict[str, tuple[Table, str, str | None]] = {
    streams.TRADES: (schema.trades, "traded_at", None),
    streams.DEPOSITS: (schema.transfers, "occurred_at", "deposit"),
    streams.WITHDRAWALS: (schema.transfers, "occurred_at", "withdrawal"),
    streams.LEDGER: (schema.ledger, "occurred_at", None),
    streams.CONVERSIONS: (schema.ledger, "occurred_at", None),
}


def coverage(
    conn: Connection,
    account: AccountConfig,
    *,
    frozen: bool = False,
    incident: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The account's coverage per stream (JSON-able). `frozen` / `incident` (its cause): imports
    stopped, so what follows each cursor is a gap."""
    now = now or datetime.now(UTC)
    profile = PROFILES.get(account.exchange)
    first_import = conn.execute(
        select(func.min(schema.balance_snapshots.c.taken_at)).where(
            schema.balance_snapshots.c.account_id == account.id
        )
    ).scalar()
    stopped = "frozen" if frozen else "incident" if incident else None
    report: dict[str, Any] = {}
    api_streams = tuple(profile.sources) if profile else ()
    typed = profile.ledger_types() if profile else {}
    for stream, (table, time_column, kind) in STREAM_ROWS.items():
        if stream == streams.CONVERSIONS and stream not in typed:
            continue  # where no stream has a ledger type, conversions are the ledger's rows
        by_source = _rows_by_source(conn, table, time_column, kind, account.id, ledger_filter(stream, typed))
        if stream not in api_streams:
            # No API stream (Binance has no ledger): what CSV imports brought, never a gap.
            if by_source:
                report[stream] = _csv_only(by_source)
            continue
        synced = _synced_until(conn, account.id, stream)
        api_from = account.history_start
        served = profile.served_from(stream, first_import) if first_import else None
        if served is not None and served > api_from:
            api_from = served
        windows: list[Window] = []  # by the API, then by CSV imports
        if synced is not None and synced > api_from:
            windows.append((api_from, synced))
        if "csv" in by_source:
            windows.append((by_source["csv"]["first"], by_source["csv"]["last"]))
        imported = stream in account.streams
        gaps = _gaps(
            account.history_start,
            now,
            windows,
            before=api_from if served is not None and served > account.history_start else None,
            trailing="not_imported" if not imported else stopped,
            never=imported and synced is None,
        )
        retention = profile.retention(stream)
        report[stream] = {
            "imported": imported,
            "api": True,
            "synced_until": _iso(synced),
            "retention_days": retention.days if retention else None,
            "api_served_from": _iso(served),
            "rows": {source: _jsonable(rows) for source, rows in sorted(by_source.items())},
            "covered": [{"from": _iso(a), "to": _iso(b)} for a, b in _merge(windows)],
            "gaps": [
                {"from": _iso(low), "to": _iso(high), "reason": reason}
                | ({"detail": incident} if reason == "incident" else {})
                for (low, high), reason in gaps
            ],
        }
    return {
        "history_start": _iso(account.history_start),
        "first_import_at": _iso(first_import),
        "streams": report,
        "csv_imports": _csv_imports(conn, account.id),
    }


def _csv_only(by_source: dict[str, dict[str, Any]]) -> dict[str, Any]:
    csv = by_source.get("csv")
    return {
        "imported": False,
        "api": False,
        "synced_until": None,
        "retention_days": None,
        "api_served_from": None,
        "rows": {source: _jsonable(rows) for source, rows in sorted(by_source.items())},
        "covered": [{"from": _iso(csv["first"]), "to": _iso(csv["last"])}] if csv else [],
        "gaps": [],
    }


def _gaps(
    start: datetime,
    end: datetime,
    windows: list[Window],
    *,
    before: datetime | None,
    trailing: str | None,
    never: bool,
) -> list[tuple[Window, str]]:
    """The parts of start..end no window covers, each with its reason."""
    found: list[tuple[Window, str]] = []
    cursor = start
    merged = _merge(windows)
    for low, high in merged:
        if low > cursor:
            reason = "retention" if before is not None and low <= before else "not_covered"
            found.append(((cursor, low), reason))
        cursor = max(cursor, high)
    if cursor < end:
        if never and not merged:
            found.append(((cursor, end), "never_imported"))
        elif trailing is not None:
            found.append(((cursor, end), trailing))
        elif before is not None and cursor < before:  # the API kept nothing of it and no CSV has it
            found.append(((cursor, before), "retention"))
    return found


def _merge(windows: list[Window]) -> list[Window]:
    merged: list[list[datetime]] = []
    for low, high in sorted(windows):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(low, high) for low, high in merged]


def _rows_by_source(
    conn: Connection,
    table: Table,
    time_column: str,
    kind: str | None,
    account_id: str,
    rows_of: ColumnElement[bool] | None = None,
) -> dict[str, dict[str, Any]]:
    """{"api"|"csv": {"rows", "first", "last"}} of one stream's rows."""
    origin = case((table.c.source.like("csv:%"), "csv"), else_="api")
    when = table.c[time_column]
    query = select(origin, func.count(), func.min(when), func.max(when)).where(
        table.c.account_id == account_id
    )
    if kind is not None:
        query = query.where(table.c.kind == kind)
    if rows_of is not None:  # a ledger shared by streams (warehouse/store.py ledger_filter)
        query = query.where(rows_of)
    query = query.group_by(origin)
    return {
        source: {"rows": rows, "first": _aware(first), "last": _aware(last)}
        for source, rows, first, last in conn.execute(query)
    }


def _synced_until(conn: Connection, account_id: str, stream: str) -> datetime | None:
    # A stream is only as far imported as its stalest part (for trades: its stalest symbol).
    c = schema.cursors.c
    query = select(func.min(c.synced_until)).where(c.account_id == account_id, c.stream == stream)
    return _aware(conn.execute(query).scalar())


def _csv_imports(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    c = schema.csv_imports.c
    query = (
        select(c.id, c.file_name, c.format, c.imported_at, c.rows_stored, c.rows_rejected)
        .where(c.account_id == account_id)
        .order_by(c.id)
    )
    return [
        {
            "id": row.id,
            "file": row.file_name,
            "format": row.format,
            "imported_at": _iso(row.imported_at),
            "rows_stored": row.rows_stored,
            "rows_rejected": row.rows_rejected,
        }
        for row in conn.execute(query)
    ]


def _aware(moment: datetime | None) -> datetime | None:
    # Aggregates (min/max) come back without the column type's conversion on some backends.
    if moment is None or (isinstance(moment, datetime) and moment.tzinfo is not None):
        return moment
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC)


def _jsonable(rows: dict[str, Any]) -> dict[str, Any]:
    return {"rows": rows["rows"], "first": _iso(rows["first"]), "last": _iso(rows["last"])}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

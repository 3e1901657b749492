"""The lines that did not become rows (csv_rejects), each with its reason: written in the import's
transaction, read by `exchange-sync csv-rejects` and the status report."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from exchange_sync.csv_import.formats import Rejection
from exchange_sync.warehouse import schema
from exchange_sync.warehouse.upsert import upsert


def record_rejections(
    conn: Connection, import_id: int, account_id: str, rejections: Sequence[Rejection]
) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "import_id": import_id,
            "line": r.line,
            "account_id": account_id,
            "reason": r.reason,
            "detail": r.detail,
            "raw": json.dumps(list(r.raw), ensure_ascii=False),
            "rejected_at": now,
        }
        for r in rejections
    ]
    if rows:
        # A line is rejected once: the first reason found (a line of two records, both rejected).
        upsert(conn, schema.csv_rejects, rows, keep_stored=True)


def record_superseded(
    conn: Connection, account_id: str, gone: Iterable[tuple[Mapping[str, Any], str]]
) -> None:
    """CSV rows the API now holds: kept as rejects of their import, naming the API's row."""
    from exchange_sync.csv_import.matching import parse_source

    by_import: dict[int, list[Rejection]] = {}
    for row, api_row in gone:
        origin = parse_source(row["source"])
        if origin is not None:
            import_id, line = origin
            detail = f"the API delivered it as {api_row}"
            by_import.setdefault(import_id, []).append(Rejection(line, "superseded", detail))
    for import_id, rejections in by_import.items():
        record_rejections(conn, import_id, account_id, rejections)


def rejects(engine: Engine, account_id: str, import_id: int | None = None) -> list[dict[str, Any]]:
    c = schema.csv_rejects.c
    query = select(schema.csv_rejects).where(c.account_id == account_id)
    if import_id is not None:
        query = query.where(c.import_id == import_id)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(c.import_id, c.line)).mappings().all()
    return [dict(r) | {"raw": json.loads(r["raw"])} for r in rows]

"""INSERT ... ON CONFLICT DO UPDATE for the two backends the warehouse supports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, and_, bindparam, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from exchange_sync.warehouse.bulk import API_SOURCE, api_takes_over, bulk_upsert, can_bulk


def upsert(
    conn: Connection, table: Table, rows: Iterable[Mapping[str, Any]], keep_stored: bool = False
) -> None:
    """Insert rows; on a primary-key clash update the columns the rows carry (or, with
    `keep_stored`, leave the stored row as it is)."""
    rows = list(rows)
    if can_bulk(conn, table, rows):  # a page: rendered once, no per-value SQLAlchemy processing
        bulk_upsert(conn, table, rows, keep_stored)
        return
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[conn.dialect.name]
    statement = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    updated = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    if api_takes_over(table, rows[0]):
        updated["source"] = literal(API_SOURCE)
    if updated and not keep_stored:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=updated)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    if conn.dialect.name == "postgresql":
        # SQLAlchemy sends a many-row ON CONFLICT as multi-row statements ("insertmanyvalues")
        # only when it RETURNs something; without, every row is its own round trip (a 1,000-row
        # page: 1,000 statements, ≈ 2-4x the time). The keys returned are read and dropped.
        conn.execute(statement.returning(*table.primary_key.columns), rows).all()
    else:
        conn.execute(statement, rows)


def update_existing(conn: Connection, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Set the non-key columns the rows carry on the stored rows with their keys; insert nothing."""
    rows = list(rows)
    keys = [c.name for c in table.primary_key.columns]
    values = {name: bindparam(f"new_{name}") for name in rows[0] if name not in keys}
    where = and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys))
    params = [{**{f"key_{k}": row[k] for k in keys}, **{f"new_{n}": row[n] for n in values}} for row in rows]
    conn.execute(update(table).where(where).values(values), params)

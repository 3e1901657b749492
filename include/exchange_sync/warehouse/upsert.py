"""INSERT ... ON CONFLICT DO UPDATE for the two backends the warehouse supports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def upsert(conn: Connection, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert rows; on a primary-key clash update the columns the rows carry."""
    rows = list(rows)
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[conn.dialect.name]
    statement = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    updated = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    if updated:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=updated)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    conn.execute(statement, rows)

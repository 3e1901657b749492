"""A page's upsert on PostgreSQL as COPY into a staging table, then one INSERT ... SELECT.

A multi-row INSERT of 1,000 rows costs SQLAlchemy a bind-processing pass over every value and the
server a parse and plan of a statement with 14,000 parameters; COPY streams the same rows as text
the server parses natively (bench/import_vs_ccxt.py --postgres). Values are rendered here exactly
as the column types bind them (types.py: canonical decimals, UTC times), so what is stored is what
the statement path stores (tests/warehouse/test_store.py checks both, value for value). The
staging table is per session and emptied after each use, inside the caller's transaction: a
rolled-back page leaves nothing staged, and the cursor still commits with its rows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from functools import cache
from typing import Any

from sqlalchemy import Integer, String, Table, Text
from sqlalchemy.engine import Connection

from exchange_sync.warehouse.types import ExactDecimal, UTCDateTime, canonical_decimal

# Below this many rows a plain statement is as quick, and COPY's two extra round trips are not.
COPY_FROM_ROWS = 64

_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: Any) -> str:
    text = str(value)
    # COPY's text format: backslash, tab, newline and carriage return are escaped, nothing else.
    return text.translate(_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _time(value: Any) -> str:
    if value.tzinfo is None:  # as UTCDateTime refuses it
        raise ValueError(f"naive datetime {value!r}: the warehouse stores UTC times only")
    return value.astimezone(UTC).isoformat()


def _render(column_type: Any) -> Callable[[Any], str] | None:
    if isinstance(column_type, ExactDecimal):
        return canonical_decimal
    if isinstance(column_type, UTCDateTime):
        return _time
    if isinstance(column_type, String | Text):
        return _text
    if isinstance(column_type, Integer):
        return lambda value: str(int(value))
    return None


@cache
def _renderers(table: Table, columns: tuple[str, ...]) -> tuple[Callable[[Any], str], ...] | None:
    """How each column's values are written for COPY (None: a type this module does not render)."""
    found = tuple(_render(table.c[name].type) for name in columns)
    return None if any(r is None for r in found) else found  # type: ignore[return-value]


def can_copy(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> bool:
    return (
        conn.dialect.name == "postgresql"
        and len(rows) >= COPY_FROM_ROWS
        and _renderers(table, tuple(rows[0])) is not None
    )


def copy_upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keep_stored: bool) -> None:
    """Insert rows; on a primary-key clash update the columns they carry (or, with `keep_stored`,
    leave the stored row). Every row carries the same columns."""
    columns = tuple(rows[0])
    renderers = _renderers(table, columns)
    assert renderers is not None  # can_copy said so
    buffer = io.StringIO()
    write = buffer.write
    for row in rows:
        write(
            "\t".join(
                "\\N" if (value := row[name]) is None else render(value)
                for name, render in zip(columns, renderers, strict=True)
            )
        )
        write("\n")
    buffer.seek(0)
    stage = f"es_stage_{table.name}"
    names = ", ".join(f'"{name}"' for name in columns)
    keys = [c.name for c in table.primary_key.columns]
    updated = [name for name in columns if name not in keys]
    if updated and not keep_stored:
        sets = ", ".join(f'"{name}" = EXCLUDED."{name}"' for name in updated)
        on_conflict = f"DO UPDATE SET {sets}"
    else:
        on_conflict = "DO NOTHING"
    target = ", ".join(f'"{key}"' for key in keys)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        # CREATE TABLE AS copies no constraints: a page carrying only some columns stages fine.
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" AS SELECT * FROM "{table.name}" WITH NO DATA'
        )
        cursor.copy_expert(f'COPY "{stage}" ({names}) FROM STDIN', buffer)
    finally:
        cursor.close()
    # Through SQLAlchemy, so the statement is seen (and logged) like every other write.
    conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM "{stage}" '
        f'ON CONFLICT ({target}) {on_conflict}; TRUNCATE "{stage}"'
    )

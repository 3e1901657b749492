"""A page's upsert without SQLAlchemy's per-value processing: values rendered here, once, as the
column types bind them (types.py: canonical decimals, UTC times), then handed to the driver.

A 1,000-row page cost SQLAlchemy a dict and a bind-processor chain per row and value, under the
GIL the importer's fetching shares (bench/import_vs_ccxt.py). Here:
- PostgreSQL: COPY (text the server parses natively) straight into the table, inside a savepoint:
  an import walks forward, so a page's rows are nearly always new, and COPY inserts them in
  batches, at about half the server time of a merge. A page holding any stored row meets the
  primary key (unique violation): the savepoint undoes the partial copy, and the page is merged
  instead: COPY into a per-session staging table, one INSERT ... SELECT ... ON CONFLICT, and the
  staging table emptied in the same round trip (and by the caller's commit: ON COMMIT DELETE
  ROWS); a rolled-back page leaves nothing staged. Either way the rows stored are the same.
- SQLite: one executemany of the rendered tuples over a prepared INSERT ... ON CONFLICT (sqlite3
  steps it in C).
What is stored is what the statement path stores, value for value (tests/warehouse/test_bulk.py
checks both backends), and the cursor still commits in the same transaction as its rows.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from functools import cache
from typing import Any

from sqlalchemy import Integer, String, Table, Text
from sqlalchemy.engine import Connection

from exchange_sync.warehouse.types import ExactDecimal, UTCDateTime, as_utc, canonical_decimal

# A history row's `source` when the API delivered it (schema.py). The import paths leave the column
# out (its default), so a row the API delivers over one a CSV import stored under the same native
# id must be told, on conflict, that it is the API's now.
API_SOURCE = "api"


def api_takes_over(table: Table, row: Mapping[str, Any]) -> bool:
    return "source" in table.c and "source" not in row


# Below this many rows a plain statement is as quick (and COPY's extra round trips are not).
BULK_FROM_ROWS = 64

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    text = str(value)
    # COPY's text format: backslash, tab, newline and carriage return are escaped, nothing else.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def _copy_time(value: Any) -> str:
    return value.isoformat() if value.tzinfo is UTC else as_utc(value).isoformat()


def _column(render: Callable[[Any], Any], values: list, null: Any) -> list:
    """One column of a page as the driver takes it, `null` for None."""
    first = values[0]
    # A value the whole page shares (its imported_at, one object) is rendered once.
    if first is not None and first is values[-1] and values.count(first) == len(values):
        return [render(first)] * len(values)
    return [null if value is None else render(value) for value in values]


def _copy_column(render: Callable[[Any], str], values: list) -> list[str]:
    """One column of a page in COPY's text format (NULL is \\N)."""
    if render is not _copy_text:
        return _column(render, values, "\\N")
    texts = ["\\N" if value is None else value if type(value) is str else str(value) for value in values]
    # Escapes are rare: look for them once in the whole column (each NULL marker is one backslash).
    blob = "".join(texts)
    if "\t" in blob or "\n" in blob or "\r" in blob or blob.count("\\") != values.count(None):
        return ["\\N" if value is None else _copy_text(value) for value in values]
    return texts


def _copy_lines(rows: Sequence[Mapping[str, Any]], pairs: tuple) -> str:
    """The page in COPY's text format, rendered column by column (no per-value generator step)."""
    columns = [_copy_column(render, [row[name] for row in rows]) for name, render in pairs]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _sqlite_time(value: Any) -> str:
    # SQLAlchemy's SQLite DATETIME storage format, microseconds always written: times are compared
    # as strings there, so one spelling per moment.
    if value.tzinfo is UTC:  # nearly always (rows.from_ms): drop the "+00:00"
        return value.isoformat(" ", "microseconds")[:-6]
    return as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def _render(column_type: Any, dialect: str) -> Callable[[Any], Any] | None:
    if isinstance(column_type, ExactDecimal):
        return canonical_decimal
    if isinstance(column_type, UTCDateTime):
        return _copy_time if dialect == "postgresql" else _sqlite_time
    if isinstance(column_type, String | Text):
        return _copy_text if dialect == "postgresql" else str
    if isinstance(column_type, Integer):
        return (lambda value: str(int(value))) if dialect == "postgresql" else int
    return None


@cache
def _renderers(
    table: Table, columns: tuple[str, ...], dialect: str
) -> tuple[Callable[[Any], Any], ...] | None:
    """How each column's values go to the driver (None: a type this module does not render)."""
    found = tuple(_render(table.c[name].type, dialect) for name in columns)
    return None if any(r is None for r in found) else found  # type: ignore[return-value]


def can_bulk(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> bool:
    return (
        conn.dialect.name in ("postgresql", "sqlite")
        and len(rows) >= BULK_FROM_ROWS
        and _renderers(table, tuple(rows[0]), conn.dialect.name) is not None
    )


def bulk_upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keep_stored: bool) -> None:
    """Insert rows; on a primary-key clash update the columns they carry (or, with `keep_stored`,
    leave the stored row). Every row carries the same columns."""
    columns = tuple(rows[0])
    renderers = _renderers(table, columns, conn.dialect.name)
    assert renderers is not None  # can_bulk said so
    names = ", ".join(f'"{name}"' for name in columns)
    keys = [c.name for c in table.primary_key.columns]
    updated = [name for name in columns if name not in keys]
    target = ", ".join(f'"{key}"' for key in keys)
    if updated and not keep_stored:
        assignments = [f'"{name}" = excluded."{name}"' for name in updated]
        if api_takes_over(table, rows[0]):
            assignments.append(f"\"source\" = '{API_SOURCE}'")
        on_conflict = f"ON CONFLICT ({target}) DO UPDATE SET " + ", ".join(assignments)
    else:
        on_conflict = f"ON CONFLICT ({target}) DO NOTHING"
    pairs = tuple(zip(columns, renderers, strict=True))
    if conn.dialect.name == "sqlite":
        rendered = [_column(render, [row[name] for row in rows], None) for name, render in pairs]
        values = list(zip(*rendered, strict=True))
        placeholders = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders}) {on_conflict}', values
        )
        return
    _copy(conn, table, rows, names, pairs, on_conflict)


def _copy(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    names: str,
    pairs: tuple,
    on_conflict: str,
) -> None:
    lines = _copy_lines(rows, pairs)
    if _copy_new_rows(conn, table, names, lines):
        return
    stage = f"es_stage_{table.name}"
    # One round trip: the staging table is made once per session (a no-op afterwards). A
    # TRUNCATE per page rewrote the table's file each time; the DELETE after the merge and
    # ON COMMIT DELETE ROWS do not, and a rolled-back page's rows go with its transaction.
    # CREATE TABLE AS copies no constraints: a page carrying only some columns stages fine.
    _copy_from(
        conn,
        f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" ON COMMIT DELETE ROWS AS '
        f'SELECT * FROM "{table.name}" WITH NO DATA; COPY "{stage}" ({names}) FROM STDIN',
        lines,
    )
    # Through SQLAlchemy, so the statement is seen (and logged) like every other write.
    # Emptied here too, not only at commit: a second page of the table in the same transaction
    # (a ledger page's derived transfers) must not merge this page's rows again.
    insert = f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM "{stage}" {on_conflict}'
    conn.exec_driver_sql(f'{insert}; DELETE FROM "{stage}"')


def _copy_new_rows(conn: Connection, table: Table, names: str, lines: str) -> bool:
    """COPY the page into the table itself; False (and nothing of it stored) when a row of it is
    stored already, so the caller merges. New rows get what the merge would give them: every
    column the page carries, the table's defaults for the rest (`source` is the API's)."""
    from psycopg2.errors import UniqueViolation  # here: a SQLite-only install has no psycopg2

    try:
        with conn.begin_nested():
            _copy_from(conn, f'COPY "{table.name}" ({names}) FROM STDIN', lines)
    except UniqueViolation:
        return False
    return True


def _copy_from(conn: Connection, sql: str, lines: str) -> None:
    """Run `sql`, whose COPY ... FROM STDIN reads `lines`, on the connection's own session."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(sql, io.StringIO(lines))
    finally:
        cursor.close()

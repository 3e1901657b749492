"""Versioned warehouse schema.

A new database gets the current schema from schema.py and is stamped with the latest version; an
existing one runs each pending step in order. A step is a function taking Alembic `Operations`,
so changes read like ordinary Alembic migrations without an env.py or ini file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from exchange_sync.warehouse.schema import metadata

Step = Callable[[Operations], None]


def _add_tables(*names: str) -> Step:
    """A step that adds whole new tables, as schema.py defines them. A later change to one of
    them comes as a step of its own (Alembic operations), never as an edit here."""

    def step(ops: Operations) -> None:
        metadata.create_all(ops.get_bind(), tables=[metadata.tables[name] for name in names])

    return step


def _add_columns(table: str, *names: str) -> Step:
    """A step that adds columns to an existing table, as schema.py defines them (nullable, or
    with a server default). A table an earlier step of this same migration created (_add_tables,
    from today's schema.py) has them already."""

    def step(ops: Operations) -> None:
        present = {c["name"] for c in inspect(ops.get_bind()).get_columns(table)}
        for name in names:
            if name not in present:
                ops.add_column(table, metadata.tables[table].c[name]._copy())

    return step


def _add_sources_and_csv_tables(ops: Operations) -> None:
    # Rows stored before version 6 all came from the API: the column's default says so.
    for table in ("trades", "transfers", "ledger"):
        _add_columns(table, "source")(ops)
    _add_tables("csv_imports", "csv_rejects")(ops)


# (version, description, step). Version 1 is the schema as first released; append, never edit.
MIGRATIONS: list[tuple[int, str, Step | None]] = [
    (1, "initial schema", None),
    (2, "broken connections", _add_tables("accounts", "incidents", "notifications", "key_versions")),
    (3, "ledger", _add_tables("ledger")),
    (4, "key facts read while healthy", _add_columns("key_versions", "facts", "facts_read_at")),
    (5, "market lists and request budgets shared by clients", _add_tables("market_lists", "rate_budgets")),
    (6, "CSV imports: row sources, imports, rejected lines", _add_sources_and_csv_tables),
    (7, "per-account budgets counted in fixed windows", _add_tables("window_budgets")),
]
LATEST_VERSION = MIGRATIONS[-1][0]

_version_meta = MetaData()
schema_version = Table(
    "exchange_sync_schema",
    _version_meta,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


def current_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(schema_version.name):
        return None
    return conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc())).scalar()


def migrate(engine: Engine) -> int:
    """Bring the warehouse to LATEST_VERSION; safe to call from many processes at once."""
    with engine.begin() as conn:
        _lock(conn)
        version = current_version(conn)
        if version == LATEST_VERSION:
            return version
        if version is None:
            metadata.create_all(conn)
            _version_meta.create_all(conn)
            _stamp(conn, LATEST_VERSION)
            return LATEST_VERSION
        ops = Operations(MigrationContext.configure(conn))
        for number, _description, step in MIGRATIONS:
            if number > version and step is not None:
                step(ops)
                _stamp(conn, number)
        return LATEST_VERSION


def _stamp(conn: Connection, version: int) -> None:
    conn.execute(schema_version.insert().values(version=version, applied_at=datetime.now(UTC)))


def _lock(conn: Connection) -> None:
    """Serialise concurrent migrations: mapped import tasks may all open a new warehouse at once.

    SQLite needs nothing here: engine.py makes every transaction BEGIN IMMEDIATE.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))

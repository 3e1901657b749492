"""Which database the warehouse lives in, and engines configured for safe concurrent writes."""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url

from exchange_sync import settings
from exchange_sync.airflow_connections import find_connection


def warehouse_url() -> str | URL:
    """$EXCHANGE_SYNC_WAREHOUSE_URL, else the `exchange_sync_warehouse` Airflow connection, else SQLite
    in AIRFLOW_HOME."""
    configured = os.environ.get(settings.WAREHOUSE_URL_ENV)
    if configured:
        return configured
    conn = find_connection(settings.WAREHOUSE_CONN_ID)
    if conn is not None:
        return url_from_connection(conn)
    return settings.default_warehouse_url()


def url_from_connection(conn: Any) -> URL:
    """SQLAlchemy URL from an Airflow connection of type postgres (or sqlite, path in `host`)."""
    conn_type = (conn.conn_type or "").lower()
    if conn_type in ("postgres", "postgresql"):
        return URL.create(
            "postgresql+psycopg2",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
        )
    if conn_type == "sqlite":
        return URL.create("sqlite", database=conn.host)
    raise ValueError(
        f"Airflow connection {settings.WAREHOUSE_CONN_ID!r} has type {conn.conn_type!r}; "
        "the warehouse supports 'postgres' and 'sqlite'"
    )


def _switch_to_wal(dbapi_conn: Any, attempts: int = 100) -> None:
    """WAL is a property of the file, set by the first connection to open a new one. A connection
    asking for it while another is making that switch gets "database is locked" at once: SQLite's
    busy timeout does not cover a journal-mode change. So ask again, briefly (about 5 s at most)."""
    for attempt in range(attempts):
        try:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def make_engine(url: str | URL) -> Engine:
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 60})

    # pysqlite starts transactions lazily and never for DDL; take control so that every
    # transaction takes the write lock up front and several import processes can share the file.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA busy_timeout=60000")
        _switch_to_wal(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

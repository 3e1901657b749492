"""Airflow connections: read from wherever this code runs (a task, the triggerer, the CLI) and
written to the metastore by setup.

Airflow core's ORM model is used on purpose where the Task SDK cannot reach the metastore
(plain processes such as the CLI); hence the AIR311 exemption for this module in pyproject.toml."""

from __future__ import annotations

import json
from typing import Any


def find_connection(conn_id: str) -> Any | None:
    """The connection, or None when it is not defined anywhere.

    Inside tasks and the triggerer the Task SDK reaches the metastore through its supervisor; a
    plain process (the `exchange-sync` CLI, tests) only sees environment variables and secrets
    backends through the SDK, so there the metastore is read through Airflow core instead.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        pass
    try:
        from airflow.models import Connection

        return Connection.get_connection_from_secrets(conn_id)
    except Exception:  # not found, or no metastore reachable from here: both mean "not defined"
        return None


def put_connection(
    conn_id: str,
    *,
    conn_type: str,
    extra: dict[str, Any],
    login: str | None = None,
    password: str | None = None,
    description: str = "",
) -> None:
    """Create or update a connection in the metastore (Fernet-encrypted there), as the UI would."""
    from airflow.models import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        conn = session.query(Connection).filter(Connection.conn_id == conn_id).one_or_none()
        if conn is None:
            conn = Connection(conn_id=conn_id, conn_type=conn_type)
            session.add(conn)
        conn.conn_type = conn_type
        conn.login = login
        if password:
            conn.set_password(password)
        else:  # Airflow's set_password ignores an empty value and would keep the old secret
            conn._password = None
        conn.set_extra(json.dumps(extra))
        conn.description = description

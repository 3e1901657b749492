"""One-time (and idempotent) setup: warehouse schema, Airflow pools, demo connections.

Runs outside tasks, with direct access to the Airflow metastore (the `exchange-sync setup` command
and `make run`).
"""

from __future__ import annotations

import logging

from exchange_sync.airflow_connections import find_connection, put_connection
from exchange_sync.hooks.ccxt import credentials_from_connection
from exchange_sync.provider import CONN_TYPE
from exchange_sync.registry import Registry
from exchange_sync.sim_client import SimulatorClient, SimulatorError
from exchange_sync.warehouse import Warehouse

log = logging.getLogger(__name__)


def migrate_warehouse() -> int:
    from exchange_sync.warehouse.migrations import LATEST_VERSION

    Warehouse.open().close()
    return LATEST_VERSION


def ensure_pools(registry: Registry) -> list[str]:
    """A pool per exchange in use: Airflow never schedules a task whose pool is missing."""
    from airflow.models import Pool

    names = []
    for exchange in registry.exchanges_in_use():
        Pool.create_or_update_pool(
            name=exchange.pool,
            slots=exchange.pool_slots,
            description=f"exchange-sync: concurrent {exchange.exchange} imports",
            include_deferred=False,
        )
        names.append(exchange.pool)
    return names


def ensure_demo_connections(registry: Registry, simulator: SimulatorClient) -> dict[str, str]:
    """Give each registry account a working simulator key in its Airflow connection.

    A connection whose key the simulator still knows as active is left alone, so running setup
    again neither mints new keys nor touches data; a connection that points anywhere but this
    simulator holds real keys and is never touched. Returns account id -> "kept" | "created" |
    "not a simulator connection".
    """
    outcome = {}
    for account in registry.accounts:
        existing = find_connection(account.conn_id)
        if existing is not None:
            if not _points_at(existing, simulator.exchange_url(account.exchange)):
                outcome[account.id] = "not a simulator connection, left alone"
                continue
            if _sim_key_active(simulator, existing.login):
                outcome[account.id] = "kept"
                continue
        # The simulator's default for a new key: the exchange's read-only permissions.
        key = simulator.create_key(account.id)
        put_connection(
            account.conn_id,
            conn_type=CONN_TYPE,
            login=key["api_key"],
            password=key["secret"],
            extra={
                "exchange": account.exchange,
                "base_url": simulator.exchange_url(account.exchange),
                # Keys of some exchanges come with more than key and secret (OKX's passphrase).
                **{name: key[name] for name in ("passphrase", "uid") if key.get(name)},
            },
            description=f"exchange-sync demo: simulator account {account.id}",
        )
        outcome[account.id] = "created"
    return outcome


def ensure_demo_notifications(simulator: SimulatorClient) -> str:
    """Point the default notification target at the simulator's inbox, unless a user set it up."""
    from exchange_sync.notify.messages import DEFAULT_TARGET

    if find_connection(DEFAULT_TARGET) is not None:
        return "kept"
    inbox = simulator.base_url.replace("http://", "json://", 1) + "/_sim/notifications"
    put_connection(
        DEFAULT_TARGET,
        conn_type="apprise",
        extra={"config": {"path": inbox}},
        description="exchange-sync demo: notifications go to the simulator's inbox (GET /_sim/notifications)",
    )
    return "created"


def _points_at(conn: object, base_url: str) -> bool:
    try:
        return credentials_from_connection(conn).base_url == base_url
    except ValueError:  # not a ccxt connection at all
        return False


def _sim_key_active(simulator: SimulatorClient, api_key: str | None) -> bool:
    if not api_key:
        return False
    try:
        return simulator.key(api_key).get("state") == "active"
    except SimulatorError:
        return False

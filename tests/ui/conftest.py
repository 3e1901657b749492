"""The Connections page under real Airflow: Airflow's own API server app (create_app, with this
project's plugins folder), SimpleAuthManager with an admin and a viewer, the simulator, a warehouse
(each API test runs on SQLite and on PostgreSQL) and a registry of simulator accounts whose keys
live in the metastore."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

import pytest

from exchange_sync.airflow_connections import find_connection, put_connection
from exchange_sync.sim_client import SimulatorClient
from exchange_sync.warehouse import Warehouse

USERS = {"admin": "admin", "viewer": "viewer"}  # username -> role (SimpleAuthManager)


@pytest.fixture(scope="session")
def auth_users(airflow_db: Path) -> dict[str, str]:
    """username -> password; SimpleAuthManager reads both from configuration and this file."""
    passwords = {name: f"pw-{name}-for-tests" for name in USERS}
    path = airflow_db / "ui-test-passwords.json"
    path.write_text(json.dumps(passwords))
    os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = ",".join(f"{u}:{r}" for u, r in USERS.items())
    os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(path)
    os.environ["AIRFLOW__CORE__AUTH_MANAGER"] = (
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
    )
    os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "False"
    # The API server signs its tokens with these (the execution API refuses to start without).
    os.environ.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_urlsafe(64))
    os.environ.setdefault("AIRFLOW__API__SECRET_KEY", secrets.token_urlsafe(32))
    return passwords


@pytest.fixture(scope="session")
def airflow_app(auth_users):
    """Airflow's API server app, as `airflow api-server` builds it (plugins included)."""
    from airflow.api_fastapi.app import create_app

    return create_app()


@dataclass
class Accounts:
    """Simulator accounts in a registry, each with a working key in its Airflow connection."""

    simulator: SimulatorClient
    warehouse: Warehouse
    registry: Path
    ids: dict[str, str] = field(default_factory=dict)  # role in the test -> account id
    keys: dict[str, dict] = field(default_factory=dict)  # account id -> its current key

    def conn_id(self, account_id: str) -> str:
        return f"ui_{account_id}"

    def save_key(self, account_id: str, key: dict) -> None:
        put_connection(
            self.conn_id(account_id),
            conn_type="ccxt",
            login=key["api_key"],
            password=key["secret"],
            extra={"exchange": "binance", "base_url": self.simulator.exchange_url("binance")},
        )
        self.keys[account_id] = key

    def connection(self, account_id: str) -> tuple[str | None, str | None, str | None]:
        conn = find_connection(self.conn_id(account_id))
        return (conn.login, conn.password, conn.extra) if conn else (None, None, None)


@pytest.fixture
def accounts(
    airflow_db, make_sim_account, simulator, tmp_path, monkeypatch, warehouse_url
) -> Iterator[Accounts]:
    """On both warehouses (tests/fixtures/warehouse.py): the page reads and writes the warehouse
    through the same code either way, and PostgreSQL is what deployments use. The postgres case
    skips without EXCHANGE_SYNC_TEST_PG_URL."""
    main, other = make_sim_account(trades=30, symbols=2), make_sim_account(trades=5, symbols=1)
    registry = tmp_path / "accounts.yaml"
    registry.write_text(
        dedent(
            f"""
            defaults: {{history_start: 2024-01-01}}
            exchanges:
              binance: {{retry_delay_seconds: 1, key_poll_seconds: 1, key_recheck_seconds: 1}}
            accounts:
              - {{id: {main.id}, exchange: binance, conn_id: ui_{main.id}}}
              - {{id: {other.id}, exchange: binance, conn_id: ui_{other.id}}}
            """
        )
    )
    monkeypatch.setenv("EXCHANGE_SYNC_REGISTRY", str(registry))
    monkeypatch.setenv("EXCHANGE_SYNC_WAREHOUSE_URL", warehouse_url)
    world = Accounts(simulator, Warehouse.open(warehouse_url), registry, {"main": main.id, "other": other.id})
    for account_id in (main.id, other.id):
        world.save_key(account_id, simulator.create_key(account_id))
    yield world
    world.warehouse.close()

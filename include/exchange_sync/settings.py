"""Where things live: every path and URL the project reads from the environment, in one place."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# The Airflow connection that may point the warehouse at PostgreSQL (or any SQLAlchemy URL).
WAREHOUSE_CONN_ID = "exchange_sync_warehouse"
# Overrides everything else; handy for one-off CLI use and tests.
WAREHOUSE_URL_ENV = "EXCHANGE_SYNC_WAREHOUSE_URL"
REGISTRY_ENV = "EXCHANGE_SYNC_REGISTRY"


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))


def default_registry_path() -> Path:
    return REPO_ROOT / "dags" / "accounts.yaml"


def registry_path(default: Path | None = None) -> Path:
    """The account registry: $EXCHANGE_SYNC_REGISTRY, else the file next to the DAGs."""
    configured = os.environ.get(REGISTRY_ENV)
    if configured:
        return Path(configured)
    return default or default_registry_path()


def default_warehouse_url() -> str:
    return f"sqlite:///{airflow_home() / 'exchange_sync.db'}"

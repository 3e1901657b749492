"""Test-wide setup: an isolated AIRFLOW_HOME (set before anything imports Airflow), the simulator,
and warehouses on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="exchange-sync-test-airflow-")
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        # As in a real deployment, connection secrets are stored Fernet-encrypted.
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # The simulator's rate limits are off in tests (they have their own), and so is the
        # client's pacing to them; tests of pacing switch it back on.
        "EXCHANGE_SYNC_CLIENT_PACING": "off",
    }
)
for leaked in ("EXCHANGE_SYNC_WAREHOUSE_URL", "EXCHANGE_SYNC_REGISTRY"):
    os.environ.pop(leaked, None)

pytest_plugins = [
    "tests.fixtures.airflow",
    "tests.fixtures.receiver",
    "tests.fixtures.simulator",
    "tests.fixtures.warehouse",
]

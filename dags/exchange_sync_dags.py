"""Airflow DAGs: one `exchange_sync_<exchange>` DAG per exchange in the account registry.

The registry is `accounts.yaml` next to this file unless $EXCHANGE_SYNC_REGISTRY names another.
"""

from __future__ import annotations

from pathlib import Path

from exchange_sync.pipeline.dag_factory import build_dags

globals().update(build_dags(Path(__file__).with_name("accounts.yaml")))

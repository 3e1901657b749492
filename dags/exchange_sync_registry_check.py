"""Airflow import-error channel for the account registry: no DAG lives here.

Invalid registry entries are left out of the exchange DAGs (so the valid ones keep running) and
raised here instead, so the Airflow UI lists each one, naming the file, the entry and the field.
"""

from __future__ import annotations

from pathlib import Path

from exchange_sync.pipeline.dag_factory import check_registry

check_registry(Path(__file__).with_name("accounts.yaml"))

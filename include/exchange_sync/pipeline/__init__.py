"""The Airflow side: DAGs built from the registry and the tasks they run."""

from __future__ import annotations

"""Broken connections, from failure to recovery: what each pipeline task does, without Airflow.

The Airflow tasks in pipeline/ are thin wrappers around these functions, so the behaviour is
testable on its own and the DAG files stay declarative.
"""

from __future__ import annotations

"""exchange-sync: crypto-exchange account history into a warehouse, on Apache Airflow, through ccxt."""

from __future__ import annotations

__version__ = "0.1.0"

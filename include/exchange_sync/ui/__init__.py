"""The Connections page in the Airflow UI (PRODUCT.md F11): a FastAPI app the plugin in plugins/
mounts on Airflow's API server, under Airflow's own authentication and authorisation."""

from __future__ import annotations

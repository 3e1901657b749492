"""The exchange-sync Connections page in the Airflow UI: a thin registration; the page lives in
the installed package (include/exchange_sync/ui/). Importing it does no network or DB work and
imports nothing heavy."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from exchange_sync.ui.links import URL_PREFIX, URL_ROUTE
from exchange_sync.ui.mount import ConnectionsPage


class ExchangeSyncUIPlugin(AirflowPlugin):
    name = "exchange_sync_ui"
    # Built on its first request (mount.py): other Airflow processes load plugins too.
    fastapi_apps = [{"app": ConnectionsPage(), "url_prefix": URL_PREFIX, "name": "exchange-sync Connections"}]
    # Airflow's navigation shows the page inside its own frame at /plugin/exchange-connections.
    external_views = [
        {
            "name": "Exchange connections",
            "href": f"{URL_PREFIX}/",
            "url_route": URL_ROUTE,
            "destination": "nav",
            "category": "admin",
        }
    ]

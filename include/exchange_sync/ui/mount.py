"""What the plugin mounts: the page's ASGI app, built on its first request.

Every Airflow process that loads plugins (the scheduler, DAG processor, triggerer, task
processes) imports plugins/exchange_sync_ui.py, but only the API server ever serves the page; so
FastAPI, Airflow's API security module and the page's routes are imported there only, when the
first request arrives, and importing the plugin stays cheap."""

from __future__ import annotations

from typing import Any


class ConnectionsPage:
    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:  # two first requests at once would each build one: harmless
            from exchange_sync.ui.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)

"""Where the Connections page lives, for links from notifications and `exchange-sync status`.

No Airflow import at module level: the CLI and the notifier build these links too."""

from __future__ import annotations

from urllib.parse import quote

# The plugin mounts the page's FastAPI app here (plugins/exchange_sync_ui.py).
URL_PREFIX = "/exchange-sync"
# Airflow's UI shows the page inside its own frame under /plugin/<url_route>.
URL_ROUTE = "exchange-connections"


def airflow_url() -> str:
    try:
        from airflow.configuration import conf

        return conf.get("api", "base_url", fallback="") or "http://localhost:8080"
    except Exception:
        return "http://localhost:8080"


def page_url(account_id: str | None = None) -> str:
    """The page itself (not Airflow's frame: a fragment cannot reach into the frame), opened at
    the account's row with its Fix it form."""
    base = f"{airflow_url().rstrip('/')}{URL_PREFIX}/"
    return f"{base}?account={quote(account_id)}#fix" if account_id else base

"""Task callables for the exchange DAGs. Thin: each delegates to the domain package."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import Asset, AssetAlias, get_current_context, task

log = logging.getLogger(__name__)

IMPORT_RETRIES = 2


def account_asset(exchange: str, account_id: str) -> Asset:
    """The Asset an account's successful import updates; downstream DAGs can schedule on it."""
    return Asset(
        name=f"exchange_sync.{exchange}.{account_id}",
        uri=f"exchange-sync://{exchange}/{account_id}",
        group="exchange-sync",
    )


def accounts_alias(exchange: str) -> AssetAlias:
    """Declared as the import task's outlet; each mapped instance adds its own account's Asset."""
    return AssetAlias(f"exchange_sync.{exchange}.accounts")


@task(
    map_index_template="{{ account_label }}",
    retries=IMPORT_RETRIES,
    retry_delay=timedelta(seconds=30),
    retry_exponential_backoff=True,
)
def import_account(account: dict[str, Any]) -> dict[str, Any]:
    """Import every configured stream of one account; returns a small report (no secrets)."""
    from exchange_sync.importer.run import run_account_import
    from exchange_sync.registry import AccountConfig

    context = get_current_context()
    context["account_label"] = account["id"]  # shown instead of the map index in the grid
    config = AccountConfig.from_task_arg(account)
    report = run_account_import(config)
    context["outlet_events"][accounts_alias(config.exchange)].add(
        account_asset(config.exchange, config.id), extra={"rows": report["rows"]}
    )
    return report

"""Task callables for the exchange DAGs. Thin: each delegates to the domain package."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import Asset, AssetAlias, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

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


def needs_a_person(exc: BaseException) -> bool:
    """The exchange rejected us (keys, permissions, account) or the connection is missing.

    Network trouble, rate limits, outages and warehouse hiccups pass by themselves and are retried.
    """
    import ccxt

    if isinstance(exc, AirflowNotFoundException):
        return True
    return isinstance(exc, ccxt.BaseError) and not isinstance(exc, ccxt.NetworkError)


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
    try:
        report = run_account_import(config)
    except Exception as exc:
        if not needs_a_person(exc):
            raise  # Airflow retries it with backoff
        # Retrying a rejected key only hammers the exchange (which may lock the key or ban the IP).
        raise AirflowFailException(f"{config.exchange}/{config.id}: {type(exc).__name__}: {exc}") from exc
    context["outlet_events"][accounts_alias(config.exchange)].add(
        account_asset(config.exchange, config.id), extra={"rows": report["rows"]}
    )
    return report

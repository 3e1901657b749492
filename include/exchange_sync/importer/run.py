"""Entry point used by the import task: wire hook, warehouse and profile, run, record the outcome."""

from __future__ import annotations

import logging
from typing import Any

from exchange_sync.hooks.ccxt import CcxtHook
from exchange_sync.importer.account import AccountImporter
from exchange_sync.profiles import get_profile
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Warehouse

log = logging.getLogger(__name__)


def run_account_import(account: AccountConfig, warehouse: Warehouse | None = None) -> dict[str, Any]:
    profile = get_profile(account.exchange)
    own_warehouse = warehouse is None
    warehouse = warehouse or Warehouse.open()
    client = None
    try:
        client = CcxtHook(account.conn_id).get_client(profile.ccxt_options)
        report = AccountImporter(account, client, warehouse, profile).run()
    except Exception as exc:
        requests = client.request_log.count if client is not None else 0
        warehouse.record_attempt(
            account.id,
            account.exchange,
            ok=False,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            requests=requests,
        )
        raise
    else:
        warehouse.record_attempt(account.id, account.exchange, ok=True, requests=report.requests)
        return report.to_dict()
    finally:
        if own_warehouse:
            warehouse.close()

"""Entry point used by the import task: wire hook, warehouse and profile, run, record the outcome."""

from __future__ import annotations

import logging
from typing import Any

from exchange_sync.diagnosis.failure import Failure
from exchange_sync.hooks.ccxt import CcxtHook, build_client
from exchange_sync.importer.account import AccountImporter
from exchange_sync.profiles import get_profile
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Warehouse

log = logging.getLogger(__name__)


class AccountImportError(RuntimeError):
    """An import failed; `failure` is what the diagnosis needs (JSON-safe, no secrets)."""

    def __init__(self, failure: Failure):
        super().__init__(f"{failure.error_class}: {failure.message}")
        self.failure = failure


def run_account_import(
    account: AccountConfig,
    warehouse: Warehouse | None = None,
    only: tuple[str, ...] | None = None,
    symbols: list[str] | None = None,
    sweep: bool = True,
) -> dict[str, Any]:
    """Import the account (or `only` some streams / `symbols`); raises AccountImportError.
    `sweep=False` (scheduled runs) leaves quiet symbols unasked until their sweep is due.
    The client shares the exchange's market list and request budget with every other import of
    the exchange (other accounts' scheduled imports on other workers, a backfill's chunks;
    hooks/shared.py): concurrent imports together stay within the exchange's per-IP limit."""
    profile = get_profile(account.exchange)
    own_warehouse = warehouse is None
    warehouse = warehouse or Warehouse.open()
    client = fingerprint = None
    try:
        credentials = CcxtHook(account.conn_id).get_credentials(account.exchange)
        fingerprint = credentials.fingerprint
        client = build_client(credentials, shared=warehouse.clients)
        report = AccountImporter(account, client, warehouse, profile).run(only, symbols, sweep)
    except Exception as exc:
        failure = Failure.from_exception(account.exchange, exc, client, fingerprint)
        requests = client.request_log.count if client is not None else 0
        warehouse.record_attempt(
            account.id,
            account.exchange,
            ok=False,
            error=str(AccountImportError(failure))[:2000],
            requests=requests,
        )
        raise AccountImportError(failure) from exc
    else:
        warehouse.record_attempt(account.id, account.exchange, ok=True, requests=report.requests)
        warehouse.keys.worked(account.id, fingerprint, report.exchange_uid)
        if report.exchange_uid:
            warehouse.accounts.remember_uid(account.id, account.exchange, report.exchange_uid)
        return report.to_dict() | {"key_fingerprint": fingerprint}
    finally:
        if own_warehouse:
            warehouse.close()

"""Freeze an account (e.g. before closing it at the exchange): skipped without alerts until unfrozen."""

from __future__ import annotations

from typing import Any

from exchange_sync.importer.run import run_account_import
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Warehouse


def freeze(
    account: AccountConfig, warehouse: Warehouse, reason: str = "", final_sync: bool = False
) -> dict[str, Any]:
    """Optionally import everything once more, then freeze; an open incident closes quietly."""
    report = run_account_import(account, warehouse) if final_sync else None  # raises: then nothing is frozen
    warehouse.accounts.freeze(account.id, account.exchange, reason or "frozen by a user")
    incident = warehouse.incidents.open_for(account.id)
    if incident is not None:
        warehouse.incidents.close(incident.id, "frozen", messages=[])
    return {
        "account": account.id,
        "frozen": True,
        "final_sync": report,
        "closed_incident": incident.id if incident else None,
    }


def unfreeze(account: AccountConfig, warehouse: Warehouse) -> dict[str, Any]:
    """The next run imports again, from each stream's cursor: the frozen period is filled in."""
    warehouse.accounts.unfreeze(account.id, account.exchange)
    return {"account": account.id, "frozen": False}

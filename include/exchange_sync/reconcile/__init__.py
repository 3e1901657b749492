"""Reconciliation and coverage: is an account's imported history complete?

`reconcile_account` compares, per asset, the balance the exchange reported (the latest
`balance_snapshots`) with the balance computed from the imported history (movements.py says which
rows count, balances.py how it is checked over time), flags negative running balances, and lists
the coverage gaps (coverage.py) that may explain a difference. Pure reads of the warehouse (one
pass over the account's rows), JSON-able for `exchange-sync status` and the Connections page.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from exchange_sync.reconcile.balances import Snapshot, reconcile_balances
from exchange_sync.reconcile.coverage import coverage
from exchange_sync.reconcile.movements import movements
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Warehouse, schema

__all__ = ["account_coverage", "reconcile_account"]


def reconcile_account(
    warehouse: Warehouse, account: AccountConfig, gaps: dict[str, Any] | None = None
) -> dict[str, Any]:
    """{"basis", "reported_at", "balanced", "assets": [...], "differences": [asset codes],
    "negative": [first negative row per asset], "gaps": coverage gaps that may explain them}.
    `gaps`: the account's coverage, where the caller has it already."""
    with warehouse.engine.connect() as conn:
        basis, moved = movements(conn, account)
        snapshots = _snapshots(conn, account.id)
    assets = reconcile_balances(moved, snapshots)
    shown = [
        entry.to_json()
        for _, entry in sorted(assets.items())
        if entry.reported or entry.computed or entry.negative is not None
    ]
    differences = [a["asset"] for a in shown if a["difference"] not in (None, "0")]
    streams = (gaps or {}).get("streams", {})
    return {
        "basis": basis,
        # What was held before it is not in the history: a difference no gap explains may be that.
        "history_start": account.history_start.isoformat(),
        "reported_at": snapshots[-1][0].isoformat() if snapshots else None,
        "balanced": bool(snapshots) and not differences,
        "differences": differences,
        "assets": shown,
        "negative": [{"asset": a["asset"], **a["negative"]} for a in shown if a["negative"]],
        # A difference with a gap in the history is explained by it (history the API cannot give,
        # or a stream left out); one without is a flow no imported stream returns.
        "gaps": [{"stream": stream, **gap} for stream, info in streams.items() for gap in info["gaps"]]
        if differences
        else [],
    }


def account_coverage(
    warehouse: Warehouse, account: AccountConfig, *, frozen: bool = False, incident: str | None = None
) -> dict[str, Any]:
    with warehouse.engine.connect() as conn:
        return coverage(conn, account, frozen=frozen, incident=incident)


def _snapshots(conn: Any, account_id: str) -> list[Snapshot]:
    b = schema.balance_snapshots.c
    query = select(b.taken_at, b.asset, b.total).where(b.account_id == account_id)
    by_time: dict[datetime, dict[str, Decimal]] = defaultdict(dict)
    for taken_at, asset, total in conn.execute(query):
        by_time[taken_at][asset] = total
    return sorted(by_time.items())

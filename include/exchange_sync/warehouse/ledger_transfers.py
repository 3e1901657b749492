"""Transfers as a ledger records them, for exchanges whose ledger is their complete record (Kraken:
DepositStatus and WithdrawStatus only know the last 90 days).

Derived in the transaction that stores a ledger page, from every stored entry of the transfers the
page touches, so the order pages arrive in does not matter (newest first, a withdrawal's refund
comes before the withdrawal). A deposit entry is a credited deposit; a negative withdrawal entry a
withdrawal that left the balance; a positive one with the same refid its refund, so the
withdrawal failed (the ledger cannot tell failed from cancelled; ccxt calls both `failed` for
Kraken). Derived rows never overwrite what the exchange's own transfer status calls stored: those
say more (status, txid, address), except that a refund makes a withdrawal failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from exchange_sync.warehouse import schema
from exchange_sync.warehouse.upsert import update_existing, upsert

KINDS = {"deposit": "deposit", "withdrawal": "withdrawal"}  # ledger type -> transfer kind


def derive_transfers(conn: Connection, account_id: str, refids: Iterable[str]) -> None:
    refids = {r for r in refids if r}
    if not refids:
        return
    ledger = schema.ledger.c
    query = select(schema.ledger).where(
        ledger.account_id == account_id, ledger.refid.in_(refids), ledger.type.in_(list(KINDS))
    )
    entries: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in conn.execute(query).mappings():
        entries.setdefault((KINDS[entry["type"]], entry["refid"]), []).append(dict(entry))
    new, refunded = [], []
    for (kind, refid), group in entries.items():
        moved = next((e for e in group if (e["amount"] > 0) == (kind == "deposit")), None)
        if moved is None:  # only a refund so far: the withdrawal itself is on a later page
            continue
        failed = kind == "withdrawal" and any(e["amount"] > 0 for e in group)
        new.append(_transfer(kind, refid, moved, "failed" if failed else "ok"))
        if failed:
            refunded.append(
                {"account_id": account_id, "kind": kind, "transfer_id": refid, "status": "failed"}
            )
    if new:
        upsert(conn, schema.transfers, new, keep_stored=True)
    if refunded:
        update_existing(conn, schema.transfers, refunded)


def _transfer(kind: str, refid: str, entry: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        "account_id": entry["account_id"],
        "kind": kind,
        "transfer_id": refid,
        "exchange": entry["exchange"],
        "currency": entry["currency"],
        "amount": abs(entry["amount"]),
        "fee": entry["fee"],
        "status": status,
        "occurred_at": entry["occurred_at"],
        "imported_at": entry["imported_at"],
    }

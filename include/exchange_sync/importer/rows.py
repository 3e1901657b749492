"""Turn ccxt's unified structures into warehouse rows. Amounts arrive as strings (client.number = str)
and become Decimals; nothing passes through a float."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):  # a float here means some path bypassed client.number = str
        raise TypeError(f"amount {value!r} arrived as a float; refusing to store a rounded value")
    return Decimal(str(value))


def trade_row(trade: dict[str, Any], account_id: str, exchange: str, imported_at: datetime) -> dict[str, Any]:
    fee = trade.get("fee") or {}
    return {
        "account_id": account_id,
        "symbol": trade["symbol"],
        "trade_id": str(trade["id"]),
        "exchange": exchange,
        "order_id": trade.get("order"),
        "side": trade["side"],
        "price": _decimal(trade["price"]),
        "amount": _decimal(trade["amount"]),
        "cost": _decimal(trade.get("cost")),
        "fee_cost": _decimal(fee.get("cost")),
        "fee_currency": fee.get("currency"),
        "taker_or_maker": trade.get("takerOrMaker"),
        "traded_at": from_ms(trade["timestamp"]),
        "imported_at": imported_at,
    }


def transfer_row(
    transfer: dict[str, Any], kind: str, account_id: str, exchange: str, imported_at: datetime
) -> dict[str, Any]:
    fee = transfer.get("fee") or {}
    return {
        "account_id": account_id,
        "kind": kind,
        "transfer_id": str(transfer["id"]),
        "exchange": exchange,
        "currency": transfer["currency"],
        "amount": _decimal(transfer["amount"]),
        "fee": _decimal(fee.get("cost")),
        "network": transfer.get("network"),
        "address": transfer.get("address"),
        "txid": transfer.get("txid"),
        "status": transfer.get("status"),
        "occurred_at": from_ms(transfer["timestamp"]),
        "imported_at": imported_at,
    }


def balance_rows(balance: dict[str, Any], account_id: str, exchange: str, taken_at: datetime) -> list[dict]:
    """One row per asset with a non-zero total; zero rows would bloat every snapshot."""
    rows = []
    for asset, total in sorted((balance.get("total") or {}).items()):
        total = _decimal(total)
        if not total:
            continue
        rows.append(
            {
                "account_id": account_id,
                "taken_at": taken_at,
                "asset": asset,
                "exchange": exchange,
                "free": _decimal(balance["free"].get(asset)) or Decimal(0),
                "used": _decimal(balance["used"].get(asset)) or Decimal(0),
                "total": total,
            }
        )
    return rows

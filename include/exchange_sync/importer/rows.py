"""Turn ccxt's unified structures into warehouse rows. Amounts arrive as strings (client.number = str)
and become Decimals; nothing passes through a float."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from exchange_sync import streams
from exchange_sync.hooks.answers import bad_record


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):  # a float here means some path bypassed client.number = str
        raise TypeError(f"amount {value!r} arrived as a float; refusing to store a rounded value")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return amount


def _field(record: dict[str, Any], what: str, name: str, convert: Any = None, optional: bool = False) -> Any:
    """record[name], converted; a missing or unconvertible value is a bad answer, never a row."""
    value = record.get(name)
    if value is None or value == "":
        if optional:
            return None
        raise bad_record(what, name, value, record)
    if convert is None:
        return value
    try:
        return convert(value)
    except (TypeError, ValueError, OverflowError, OSError):
        raise bad_record(what, name, value, record) from None


def _time(ms: Any) -> datetime:
    if isinstance(ms, bool) or not isinstance(ms, int):
        raise TypeError(f"{ms!r} is not epoch milliseconds")
    return from_ms(ms)


def trade_row(trade: dict[str, Any], account_id: str, exchange: str, imported_at: datetime) -> dict[str, Any]:
    fee = trade.get("fee") or {}
    return {
        "account_id": account_id,
        "symbol": _field(trade, "trade", "symbol"),
        "trade_id": _field(trade, "trade", "id", str),
        "exchange": exchange,
        "order_id": trade.get("order"),
        "side": _field(trade, "trade", "side"),
        "price": _field(trade, "trade", "price", _decimal),
        "amount": _field(trade, "trade", "amount", _decimal),
        "cost": _field(trade, "trade", "cost", _decimal, optional=True),
        "fee_cost": _field(fee, "trade fee", "cost", _decimal, optional=True),
        "fee_currency": fee.get("currency"),
        "taker_or_maker": trade.get("takerOrMaker"),
        "traded_at": _field(trade, "trade", "timestamp", _time),
        "imported_at": imported_at,
    }


def transfer_row(
    transfer: dict[str, Any], kind: str, account_id: str, exchange: str, imported_at: datetime
) -> dict[str, Any]:
    fee = transfer.get("fee") or {}
    return {
        "account_id": account_id,
        "kind": kind,
        "transfer_id": _field(transfer, kind, "id", str),
        "exchange": exchange,
        "currency": _field(transfer, kind, "currency"),
        "amount": _field(transfer, kind, "amount", _decimal),
        "fee": _field(fee, f"{kind} fee", "cost", _decimal, optional=True),
        "network": transfer.get("network"),
        "address": transfer.get("address"),
        "txid": transfer.get("txid"),
        "status": transfer.get("status"),
        "occurred_at": _field(transfer, kind, "timestamp", _time),
        "imported_at": imported_at,
    }


def balance_rows(balance: dict[str, Any], account_id: str, exchange: str, taken_at: datetime) -> list[dict]:
    """One row per asset with a non-zero total; zero rows would bloat every snapshot."""
    rows = []
    for asset, total in sorted((balance.get("total") or {}).items()):
        total = _field({"total": total, "asset": asset}, "balance", "total", _decimal, optional=True)
        if not total:
            continue
        parts = {part: (balance.get(part) or {}).get(asset) for part in ("free", "used")} | {"asset": asset}
        rows.append(
            {
                "account_id": account_id,
                "taken_at": taken_at,
                "asset": asset,
                "exchange": exchange,
                "free": _field(parts, "balance", "free", _decimal, optional=True) or Decimal(0),
                "used": _field(parts, "balance", "used", _decimal, optional=True) or Decimal(0),
                "total": total,
            }
        )
    return rows


def ledger_row(
    entry: dict[str, Any], account_id: str, exchange: str, imported_at: datetime
) -> dict[str, Any]:
    """One balance change, signed as the exchange shows it (ccxt unsigns it into `direction`)."""
    amount = _field(entry, "ledger entry", "amount", _decimal)
    fee = entry.get("fee") or {}
    info = entry.get("info") or {}
    return {
        "account_id": account_id,
        "ledger_id": _field(entry, "ledger entry", "id", str),
        "exchange": exchange,
        "refid": entry.get("referenceId"),
        # The exchange's own type (Kraken: trade, deposit, withdrawal, staking, ...); ccxt folds
        # deposits and withdrawals into "transaction".
        "type": str(info.get("type") or entry.get("type") or ""),
        "currency": _field(entry, "ledger entry", "currency"),
        "amount": _signed(amount, entry.get("direction")),
        "fee": _field(fee, "ledger entry fee", "cost", _decimal, optional=True),
        "balance": _field(entry, "ledger entry", "after", _decimal, optional=True),
        "occurred_at": _field(entry, "ledger entry", "timestamp", _time),
        "imported_at": imported_at,
    }


# A conversion's orderStatus once its balances moved (Binance convert/tradeFlow also lists orders
# still processing or failed; a processing one is read again by the stream's look-back).
CONVERTED = ("SUCCESS",)


def conversion_rows(
    conversion: dict[str, Any], account_id: str, exchange: str, imported_at: datetime, ledger_type: str
) -> list[dict[str, Any]]:
    """ccxt's conversion structure as its two ledger rows: what went out (negative) and what came
    in, ids `<order id>-from` / `<order id>-to`; none for an order that did not complete."""
    info = conversion.get("info") or {}
    status = info.get("orderStatus")
    if status is not None and status not in CONVERTED:
        return []
    order = _field(conversion, "conversion", "id", str)
    occurred_at = _field(conversion, "conversion", "timestamp", _time)
    rows = []
    for leg, sign in (("from", -1), ("to", 1)):
        amount = _field(conversion, "conversion", f"{leg}Amount", _decimal)
        if amount <= 0:
            raise bad_record("conversion", f"{leg}Amount", amount, conversion)
        rows.append(
            {
                "account_id": account_id,
                "ledger_id": f"{order}-{leg}",
                "exchange": exchange,
                "refid": order,
                "type": ledger_type,
                "currency": _field(conversion, "conversion", f"{leg}Currency"),
                "amount": sign * amount,
                "fee": None,
                "balance": None,
                "occurred_at": occurred_at,
                "imported_at": imported_at,
            }
        )
    return rows


def _signed(amount: Decimal, direction: str | None) -> Decimal:
    """ccxt unsigns some exchanges' amounts into `direction` (Kraken) and keeps others' signs
    with the direction beside them (OKX's balChg): the sign is the direction's either way."""
    if direction == "out":
        return -abs(amount)
    if direction == "in":
        return abs(amount)
    return amount


# Per stream: ccxt's unified record -> warehouse row, all with one signature.
ROWS = {
    streams.TRADES: trade_row,
    streams.DEPOSITS: lambda t, account_id, exchange, at: transfer_row(
        t, "deposit", account_id, exchange, at
    ),
    streams.WITHDRAWALS: lambda t, account_id, exchange, at: transfer_row(
        t, "withdrawal", account_id, exchange, at
    ),
    streams.LEDGER: ledger_row,
}

"""Binance spot `GET /api/v3/myTrades` records straight to trade rows.

The same rows as ccxt 4.5's binance.parse_trade + safe_trade (+ parse_trades' sort) + rows.trade_row,
for the answer's documented shape only (developers.binance.com, Spot API, "Account trade list"):
every record with exactly these fields, of these JSON types, for the market asked about. Any other
page (a dust or margin record, a number where a string belongs, a field missing or added) answers
None and goes through ccxt's parser as before, so what this module does not know costs nothing but
speed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from exchange_sync.importer.rows import from_ms

SPOT_TRADE_FIELDS = frozenset(
    (
        "symbol",
        "id",
        "orderId",
        "orderListId",
        "price",
        "qty",
        "quoteQty",
        "commission",
        "commissionAsset",
        "time",
        "isBuyer",
        "isMaker",
        "isBestMatch",
    )
)
_INTS = itemgetter("id", "orderId", "time")
_FLAGS = itemgetter("isBuyer", "isMaker")
_AMOUNTS = itemgetter("price", "qty", "quoteQty", "commission")


def trade_rows(
    client: Any,
    records: list,
    market: Any,
    since: Any,
    limit: Any,
    account_id: str,
    exchange: str,
    imported_at: datetime,
) -> list[dict[str, Any]] | None:
    # ccxt filters by `since` and cuts to `limit` after parsing; the importer pages by id without
    # `since`, and Binance never sends more than the limit: anything else is ccxt's to handle.
    if not isinstance(market, dict) or since is not None or (limit is not None and len(records) > limit):
        return None
    if market.get("option") is True or market.get("inverse") is True or not market.get("spot"):
        return None
    market_id, symbol = market["id"], market["symbol"]
    fee_codes: dict[str, str] = {}
    keyed = []
    for record in records:
        if (
            not isinstance(record, dict)
            or record.keys() != SPOT_TRADE_FIELDS
            or record["symbol"] != market_id
        ):
            return None
        trade_id, order_id, ms = _INTS(record)
        is_buyer, is_maker = _FLAGS(record)
        if type(trade_id) is not int or type(order_id) is not int or type(ms) is not int:
            return None
        if type(is_buyer) is not bool or type(is_maker) is not bool:
            return None
        texts = _AMOUNTS(record)
        asset = record["commissionAsset"]
        # Spelled out, not any(...): a generator per record was a fifth of this function's time.
        if (
            type(texts[0]) is not str
            or type(texts[1]) is not str
            or type(texts[2]) is not str
            or type(texts[3]) is not str
            or type(asset) is not str
            or not asset
        ):
            return None
        try:
            price, amount, cost, fee = map(Decimal, texts)
        except InvalidOperation:  # not a number, or "" (ccxt reads that as missing)
            return None
        if not (price.is_finite() and amount.is_finite() and cost.is_finite() and fee.is_finite()):
            return None
        code = fee_codes.get(asset)
        if code is None:
            code = fee_codes[asset] = client.safe_currency_code(asset)
        row = {
            "account_id": account_id,
            "symbol": symbol,
            "trade_id": str(trade_id),
            "exchange": exchange,
            "order_id": str(order_id),
            "side": "buy" if is_buyer else "sell",
            "price": price,
            "amount": amount,
            "cost": cost,
            "fee_cost": fee,
            "fee_currency": code,
            "taker_or_maker": "maker" if is_maker else "taker",
            "traded_at": from_ms(ms),
            "imported_at": imported_at,
        }
        keyed.append(((ms, row["trade_id"]), row))
    keyed.sort(key=itemgetter(0))  # parse_trades sorts a page by (timestamp, id)
    return [row for _, row in keyed]

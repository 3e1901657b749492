"""What a format needs to name things as the API's rows do: the exchange's currency and market ids
as ccxt's unified codes, from the market list its imports stored (warehouse market_lists)."""

from __future__ import annotations

import json

from sqlalchemy import select

from exchange_sync import streams
from exchange_sync.csv_import.formats import ParseContext
from exchange_sync.profiles import PROFILES
from exchange_sync.warehouse import Warehouse, schema


def context_for(warehouse: Warehouse, exchange: str) -> ParseContext:
    """The exchange's stored market list as lookups; without one (an account never imported by
    API), formats fall back on their own tables of the exchange's ids. The profile names the type
    its API's conversions are stored with."""
    profile = PROFILES.get(exchange)
    convert_type = (profile.ledger_types() if profile else {}).get(streams.CONVERSIONS, "convert")
    m = schema.market_lists.c
    with warehouse.engine.connect() as conn:
        row = conn.execute(
            select(m.markets, m.currencies).where(m.exchange == exchange).order_by(m.loaded_at.desc())
        ).first()
    if row is None:
        return ParseContext(convert_type=convert_type)
    markets, currencies = json.loads(row.markets), json.loads(row.currencies)
    by_market_id = {market["id"]: symbol for symbol, market in markets.items() if market.get("id")}
    by_currency_id = {c["id"]: code for code, c in currencies.items() if c.get("id")}
    return ParseContext(
        currency=lambda native: by_currency_id.get(native, native),
        symbol=by_market_id.get,
        convert_type=convert_type,
    )

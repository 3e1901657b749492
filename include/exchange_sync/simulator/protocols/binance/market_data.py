"""Binance's public spot endpoints: ping, time, system status and exchangeInfo.

Shapes follow binance-spot-api-docs rest-api.md "Exchange information" and filters.md (commit
a5e0bc3) and the wallet docs' "System Status"; ccxt's parse_market reads PRICE_FILTER, LOT_SIZE,
MARKET_LOT_SIZE and NOTIONAL.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.decimals import ROUNDING, fixed
from exchange_sync.simulator.model import Market
from exchange_sync.simulator.protocols.binance.auth import binance_error
from exchange_sync.simulator.protocols.binance.ratelimits import REQUEST_WEIGHT
from exchange_sync.simulator.protocols.binance.wire import raw_reply, reply

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World


async def ping(world: World, request: web.Request) -> web.Response:
    return raw_reply(b"{}")


async def server_time(world: World, request: web.Request) -> web.Response:
    return reply({"serverTime": world.server_time_ms()})


async def system_status(world: World, request: web.Request) -> web.Response:
    # wallet docs "System Status (System)": 0 normal, 1 system maintenance.
    if world.maintenance:
        return reply({"status": 1, "msg": "system maintenance"})
    return reply({"status": 0, "msg": "normal"})


def _symbol_json(world: World, market: Market) -> dict[str, Any]:
    """One exchangeInfo symbol: the fields of rest-api.md "Exchange information", filters as in
    filters.md; ccxt's parse_market reads PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and NOTIONAL."""
    reference = ROUNDING.divide(
        world.catalog.assets[market.base].usd_ref, world.catalog.assets[market.quote].usd_ref
    )
    max_price = Decimal(1).scaleb(min(8, reference.adjusted() + 4))
    max_qty = Decimal(9).scaleb(min(10, max(3, 6 - world.catalog.assets[market.base].usd_ref.adjusted())))
    permissions = ["SPOT", "MARGIN"] if market.margin else ["SPOT"]
    return {
        "symbol": market.id,
        "status": "TRADING" if market.active else "BREAK",
        "baseAsset": market.base,
        "baseAssetPrecision": 8,
        "quoteAsset": market.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "opoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "amendAllowed": True,
        "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": market.margin,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fixed(market.tick),
                "maxPrice": fixed(max_price),
                "tickSize": fixed(market.tick),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fixed(market.step),
                "maxQty": fixed(max_qty),
                "stepSize": fixed(market.step),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": fixed(max_qty / 10),
                "stepSize": "0.00000000",
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10,
                "maxTrailingBelowDelta": 2000,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": "5",
                "bidMultiplierDown": "0.2",
                "askMultiplierUp": "5",
                "askMultiplierDown": "0.2",
                "avgPriceMins": 5,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fixed(market.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [],
        "permissionSets": [permissions],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"],
    }


def symbols_cache(world: World) -> dict[str, bytes]:
    """Serialized symbol entries, built once per world (the full list is ~4 MB of JSON)."""
    cached = world.cache.get("binance.symbols")
    if cached is None:
        cached = {
            m.id: json.dumps(_symbol_json(world, m), separators=(",", ":")).encode()
            for m in world.venue("binance").market_list
        }
        cached["*"] = b",".join(cached.values())
        world.cache["binance.symbols"] = cached
    return cached


async def exchange_info(world: World, request: web.Request) -> web.Response:
    params = dict(request.query)
    symbols = symbols_cache(world)
    wanted: list[str] | None = None
    if params.get("symbol"):
        wanted = [params["symbol"]]
    elif params.get("symbols"):
        try:
            wanted = json.loads(params["symbols"])
        except ValueError:
            legal = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'
            return binance_error(
                400, -1100, f"Illegal characters found in parameter 'symbols'; legal range is '{legal}'."
            )
    if wanted is not None:
        if any(s not in symbols or s == "*" for s in wanted):
            return binance_error(400, -1121, "Invalid symbol.")
        body = b",".join(symbols[s] for s in wanted)
    else:
        body = symbols["*"]
    head = {
        "timezone": "UTC",
        "serverTime": world.server_time_ms(),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": world.ratelimit.limit(REQUEST_WEIGHT),
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        ],
        "exchangeFilters": [],
    }
    prefix = json.dumps(head, separators=(",", ":")).encode()[:-1]
    return raw_reply(prefix + b',"symbols":[' + body + b"]}")

"""Coinbase's public endpoints ccxt's load_markets and fetch_time call, and the fee summary.

ccxt 4.5.90 coinbase.load_markets with default options runs fetch_markets_v3: GET
/api/v3/brokerage/market/products (spot), the same with product_type=FUTURE (contracts: none
here, an empty list) and, when it has credentials, GET /api/v3/brokerage/transaction_summary
(the key's fee tier); then fetch_currencies: GET /v2/currencies (fiat), /v2/currencies/crypto and
/v2/exchange-rates. fetch_time reads GET /v2/time (options.fetchTime) or /api/v3/brokerage/time.
Shapes follow docs.cdp.coinbase.com "List Public Products", "Get Server Time", "Get
Transaction Summary", the Coinbase App "Currencies", "Exchange rates" and "Time" pages, and ccxt
coinbase.py's comments. Public calls are limited per IP (`ratelimits`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.decimals import ROUNDING, canonical
from exchange_sync.simulator.model import Market
from exchange_sync.simulator.protocols.coinbase import ids, listing, wire
from exchange_sync.simulator.protocols.coinbase.auth import Signed

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

NAME = "coinbase"


def _cached(world: World, name: str, build: Any) -> bytes:
    body = world.cache.get(name)
    if body is None:
        body = world.cache[name] = json.dumps(build(world), separators=(",", ":")).encode()
    return body


def _raw(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")


def _product(world: World, market: Market) -> dict[str, Any]:
    base, quote = world.catalog.assets[market.base], world.catalog.assets[market.quote]
    price = ROUNDING.divide(base.usd_ref, quote.usd_ref).quantize(market.tick, context=ROUNDING)
    return {
        "product_id": market.id,
        "price": canonical(price),
        "price_percentage_change_24h": "0",
        "volume_24h": "0",
        "volume_percentage_change_24h": "0",
        "base_increment": canonical(market.step),
        "quote_increment": canonical(market.tick),
        "quote_min_size": canonical(market.min_notional),
        "quote_max_size": "50000000",
        "base_min_size": canonical(market.step),
        "base_max_size": canonical(ROUNDING.divide(Decimal(10_000_000), base.usd_ref).quantize(market.step)),
        "base_name": base.name,
        "quote_name": quote.name,
        "watched": False,
        "is_disabled": False,
        "new": False,
        "status": "online" if market.active else "offline",
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": not market.active,
        "auction_mode": False,
        "product_type": "SPOT",
        "quote_currency_id": market.quote,
        "base_currency_id": market.base,
        "fcm_trading_session_details": None,
        "mid_market_price": "",
        "alias": "",
        "alias_to": [],
        "base_display_symbol": market.base,
        "quote_display_symbol": market.quote,
        "view_only": False,
        "price_increment": canonical(market.tick),
        "display_name": market.id,
        "product_venue": "CBE",
    }


def _products(world: World) -> dict[str, Any]:
    products = [_product(world, m) for m in world.venue(NAME).market_list]
    return {"products": products, "num_products": len(products)}


async def products(world: World, request: web.Request) -> web.Response:
    if request.query.get("product_type", "SPOT").upper() != "SPOT":
        return wire.reply({"products": [], "num_products": 0})  # no futures or perpetuals here
    return _raw(_cached(world, "coinbase.products", _products))


def _fiat(world: World) -> dict[str, Any]:
    fiat = [a for a in world.venue(NAME).assets.values() if a.fiat]
    return {"data": [{"id": a.code, "name": a.name, "min_size": "0.01"} for a in fiat]}


def crypto_assets(world: World) -> list[Any]:
    """The crypto currencies /v2/currencies/crypto lists, in its order (by sort_index)."""
    return [a for a in world.venue(NAME).assets.values() if not a.fiat]


def _crypto(world: World) -> dict[str, Any]:
    data = [
        {
            "asset_id": ids.uuid(f"asset:{asset.code}"),
            "code": asset.code,
            "name": asset.name,
            "color": "#0052FF",
            "sort_index": index,
            "exponent": world.venue(NAME).places_of(asset.code),
            "type": "crypto",
            "address_regex": "^.+$",
        }
        for index, asset in enumerate(crypto_assets(world))
    ]
    return {"data": data}


def _rates(world: World) -> dict[str, Any]:
    rates = {
        code: canonical(ROUNDING.divide(Decimal(1), asset.usd_ref))
        for code, asset in world.venue(NAME).assets.items()
    }
    return {"data": {"currency": "USD", "rates": rates}}


async def currencies(world: World, request: web.Request) -> web.Response:
    return _raw(_cached(world, "coinbase.fiat", _fiat))


async def crypto_currencies(world: World, request: web.Request) -> web.Response:
    return _raw(_cached(world, "coinbase.crypto", _crypto))


async def exchange_rates(world: World, request: web.Request) -> web.Response:
    return _raw(_cached(world, "coinbase.rates", _rates))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def v2_time(world: World, request: web.Request) -> web.Response:
    now = world.server_time_ms()
    return wire.reply({"data": {"iso": wire.rfc3339(now), "epoch": now // 1000}})


async def v3_time(world: World, request: web.Request) -> web.Response:
    now = world.server_time_ms()
    return wire.reply({"iso": _iso(now), "epochSeconds": str(now // 1000), "epochMillis": str(now)})


async def transaction_summary(world: World, signed: Signed) -> web.Response:
    fees = listing.FEES
    return wire.reply(
        {
            "total_volume": 0,
            "total_fees": 0,
            "fee_tier": {
                "pricing_tier": "Advanced 1",
                "usd_from": "0",
                "usd_to": "10000",
                "taker_fee_rate": canonical(fees.taker),
                "maker_fee_rate": canonical(fees.maker),
                "aop_from": "",
                "aop_to": "",
            },
            "margin_rate": None,
            "goods_and_services_tax": None,
            "advanced_trade_only_volume": 0,
            "advanced_trade_only_fees": 0,
            "coinbase_pro_volume": 0,
            "coinbase_pro_fees": 0,
            "total_balance": "",
            "has_promo_fee": False,
        }
    )

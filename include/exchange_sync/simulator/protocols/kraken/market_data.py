"""Kraken's public endpoints: Time, SystemStatus, Assets and AssetPairs (GET /0/public/<Method>).

Shapes follow docs.kraken.com "Get Server Time", "Get System Status", "Get Asset Info" and "Get
Tradable Asset Pairs" and ccxt kraken.py's fetch_markets / fetch_currencies comments. Public
calls are not rate limited here (Kraken throttles them per IP without documenting numbers:
simulator convention).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.decimals import ROUNDING, canonical, quantize_down
from exchange_sync.simulator.model import Market
from exchange_sync.simulator.protocols.kraken import codes, wire

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

TAKER_FEES = [[0, 0.26], [50000, 0.24], [100000, 0.22], [250000, 0.2], [500000, 0.18], [1000000, 0.16]]
MAKER_FEES = [[0, 0.16], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06]]


async def server_time(world: World, request: web.Request, params: dict[str, str]) -> web.Response:
    now = world.server_time_ms() // 1000
    moment = datetime.fromtimestamp(now, UTC)
    return wire.reply({"unixtime": now, "rfc1123": moment.strftime("%a, %d %b %y %H:%M:%S +0000")})


async def system_status(world: World, request: web.Request, params: dict[str, str]) -> web.Response:
    moment = datetime.fromtimestamp(world.server_time_ms() // 1000, UTC)
    status = "maintenance" if world.maintenance else "online"
    return wire.reply({"status": status, "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ")})


def _entries(world: World, name: str, build: Any) -> dict[str, bytes]:
    """Serialized entries by id (and every alias clients filter by), built once per world."""
    cached = world.cache.get(name)
    if cached is None:
        cached = world.cache[name] = build(world)
    return cached


def _asset_entries(world: World) -> dict[str, bytes]:
    entries: dict[str, bytes] = {}
    for code, asset in world.venue("kraken").assets.items():
        body = {
            "aclass": "currency",
            "altname": codes.altname(code),
            "decimals": codes.decimals(asset),
            "display_decimals": 2 if asset.fiat else 5,
            "collateral_value": 1.0 if asset.fiat or asset.stable or code in ("BTC", "ETH") else 0.5,
            "status": "enabled",
        }
        entries[codes.asset_id(code)] = json.dumps(body, separators=(",", ":")).encode()
    return entries


def _pair_body(world: World, market: Market) -> dict[str, Any]:
    base, quote = world.catalog.assets[market.base], world.catalog.assets[market.quote]
    ordermin = quantize_down(ROUNDING.divide(Decimal(5), base.usd_ref), market.qty_decimals)
    leverage = [2, 3, 4, 5] if market.margin else []
    return {
        "altname": codes.altname(market.base) + codes.altname(market.quote),
        "wsname": f"{codes.altname(market.base)}/{codes.altname(market.quote)}",
        "aclass_base": "currency",
        "base": codes.asset_id(market.base),
        "aclass_quote": "currency",
        "quote": codes.asset_id(market.quote),
        "lot": "unit",
        "cost_decimals": codes.decimals(quote),
        "pair_decimals": market.price_decimals,
        "lot_decimals": market.qty_decimals,
        "lot_multiplier": 1,
        "leverage_buy": leverage,
        "leverage_sell": leverage,
        "fees": TAKER_FEES,
        "fees_maker": MAKER_FEES,
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": canonical(max(ordermin, market.step)),
        "costmin": canonical(market.min_notional),
        "tick_size": canonical(market.tick),
        "status": "online" if market.active else "cancel_only",
    }


def _pair_entries(world: World) -> dict[str, bytes]:
    entries: dict[str, bytes] = {}
    for market in world.venue("kraken").market_list:
        entries[market.id] = json.dumps(_pair_body(world, market), separators=(",", ":")).encode()
    return entries


def _select(
    entries: dict[str, bytes], wanted: str | None, aliases: dict[str, str]
) -> dict[str, bytes] | None:
    """The entries named in a comma list (ids or altnames); None when one is unknown."""
    if not wanted:
        return entries
    chosen: dict[str, bytes] = {}
    for name in wanted.split(","):
        key = aliases.get(name.strip(), name.strip())
        if key not in entries:
            return None
        chosen[key] = entries[key]
    return chosen


def _object(entries: dict[str, bytes]) -> web.Response:
    body = b",".join(json.dumps(k).encode() + b":" + v for k, v in entries.items())
    return wire.raw_reply(b'{"error":[],"result":{' + body + b"}}")


async def assets(world: World, request: web.Request, params: dict[str, str]) -> web.Response:
    entries = _entries(world, "kraken.assets", _asset_entries)
    aliases = {codes.altname(code): codes.asset_id(code) for code in world.venue("kraken").assets}
    chosen = _select(entries, params.get("asset"), aliases)
    return wire.error(wire.UNKNOWN_ASSET) if chosen is None else _object(chosen)


async def asset_pairs(world: World, request: web.Request, params: dict[str, str]) -> web.Response:
    entries = _entries(world, "kraken.pairs", _pair_entries)
    venue = world.venue("kraken")
    aliases = {codes.altname(m.base) + codes.altname(m.quote): m.id for m in venue.market_list}
    chosen = _select(entries, params.get("pair"), aliases)
    return wire.error(wire.UNKNOWN_PAIR) if chosen is None else _object(chosen)

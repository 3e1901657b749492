"""OKX's public endpoints: public/time, system/status and public/instruments (GET /api/v5/...).

Shapes follow docs-v5 "Get system time" ({"ts": "1597026383085"}), "Get status" (the system's
maintenance events: [] while none is planned or ongoing; an "ongoing" event during
maintenance, which ccxt's fetch_status reads as "maintenance") and "Get instruments" (instType
required, SPOT entries with instId "BTC-USDT", baseCcy, quoteCcy, tickSz, lotSz, minSz, state
"live" / "suspend"; other instrument types answer [] here: the simulator lists spot only).
ccxt's load_markets with options {"fetchMarkets": {"types": ["spot"]}} calls instruments only;
with a key set, fetch_currencies adds the private asset/currencies (`funding`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.decimals import ROUNDING, canonical, quantize_down
from exchange_sync.simulator.model import Market
from exchange_sync.simulator.protocols.okx import wire
from exchange_sync.simulator.protocols.okx.wire import bad_param, missing_param

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")
LIST_TIME_MS = 1_606_468_572_000  # OKX's spot listings go back to its v5 launch (Nov 2020)


async def server_time(world: World, request: web.Request) -> web.Response:
    return wire.reply([{"ts": str(world.server_time_ms())}])


async def system_status(world: World, request: web.Request) -> web.Response:
    if not world.maintenance:
        return wire.reply([])
    now = world.server_time_ms()
    event = {
        "begin": str(now - 600_000),
        "end": str(now + 3_600_000),
        "env": "1",
        "href": "",
        "maintType": "1",
        "preOpenBegin": "",
        "scheDesc": "",
        "serviceType": "0",
        "state": "ongoing",
        "system": "unified",
        "title": "Trading account system upgrade",
    }
    return wire.reply([event])


def _instrument(world: World, market: Market, code: int) -> dict[str, Any]:
    base = world.catalog.assets[market.base]
    minimum = quantize_down(ROUNDING.divide(Decimal(1), base.usd_ref), market.qty_decimals)
    return {
        "alias": "",
        "auctionEndTime": "",
        "baseCcy": market.base,
        "category": "1",
        "ctMult": "",
        "ctType": "",
        "ctVal": "",
        "ctValCcy": "",
        "expTime": "",
        "instFamily": "",
        "instId": market.id,
        "instIdCode": code,
        "instType": "SPOT",
        "lever": "10" if market.margin else "",
        "listTime": str(LIST_TIME_MS),
        "lotSz": canonical(market.step),
        "maxIcebergSz": "9999999999.0000000000000000",
        "maxLmtAmt": "20000000",
        "maxLmtSz": "9999999999",
        "maxMktAmt": "1000000",
        "maxMktSz": "1000000",
        "maxStopSz": "1000000",
        "maxTriggerSz": "9999999999",
        "maxTwapSz": "9999999999.0000000000000000",
        "minSz": canonical(max(minimum, market.step)),
        "optType": "",
        "quoteCcy": market.quote,
        "ruleType": "normal",
        "settleCcy": "",
        "state": "live" if market.active else "suspend",
        "stk": "",
        "tickSz": canonical(market.tick),
        "uly": "",
    }


def _instruments(world: World) -> dict[str, bytes]:
    """Serialized spot instruments by instId, built once per world."""
    cached = world.cache.get("okx.instruments")
    if cached is None:
        markets = world.venue("okx").market_list
        cached = world.cache["okx.instruments"] = {
            m.id: json.dumps(_instrument(world, m, 10_000 + i), separators=(",", ":")).encode()
            for i, m in enumerate(markets)
        }
    return cached


async def instruments(world: World, request: web.Request) -> web.Response:
    inst_type = request.query.get("instType", "")
    if not inst_type:
        raise missing_param("instType")
    if inst_type not in INST_TYPES:
        raise bad_param("instType")
    entries = _instruments(world) if inst_type == "SPOT" else {}
    wanted = request.query.get("instId", "")
    chosen = [entries[wanted]] if wanted in entries else [] if wanted else list(entries.values())
    return wire.raw_reply(b'{"code":"0","data":[' + b",".join(chosen) + b'],"msg":""}')

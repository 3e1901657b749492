"""Binance Convert's history: GET /sapi/v1/convert/tradeFlow (developers.binance.com, Convert →
"Get Convert Trade History (USER_DATA)").

The docs: startTime and endTime are both mandatory and at most 30 days apart; `limit` defaults to
100, at most 1000; Weight(UID) 3000; the answer is {"list": [...], "startTime", "endTime",
"limit", "moreData"}, each item `quoteId, orderId, orderStatus, fromAsset, fromAmount, toAsset,
toAmount, ratio, inverseRatio, createTime`. The endpoint has no offset or id parameter: `moreData`
says the window holds more than `limit`. Simulator conventions (the docs do not say): the list is
newest first, so the rest of a window is asked for with endTime = the oldest createTime served;
the error for a missing or oversized window is -1102 / -1127 in spot's message forms. Only
"convert" conversions are served here: dust to BNB has its own endpoint (asset/dribblet), which
the simulator does not serve.
"""

from __future__ import annotations

import bisect
import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.catalog import DAY_MS
from exchange_sync.simulator.decimals import ROUNDING, canonical
from exchange_sync.simulator.model import Account, Conversion
from exchange_sync.simulator.protocols.binance.auth import authenticate, binance_error
from exchange_sync.simulator.protocols.binance.wire import ParamError, int_param, invalid, reply

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

MAX_CONVERT_WINDOW_MS = 30 * DAY_MS
ORDER_ID_BASE = 940_000_000_000_000_000  # 18 digits, as the docs' example orderId
RATIO_PLACES = Decimal("1e-8")
# The Operation Binance's Transaction History gives a Convert line: the ledger type its API rows
# are stored with too, so the export's lines and the API's rows are recognised as one.
LEDGER_TYPE = "Binance Convert"


def served(account: Account) -> list[Conversion]:
    """The account's conversions this endpoint lists (dust has its own endpoint)."""
    return [c for c in account.conversions if c.kind == "convert"]


def order_id(conversion: Conversion) -> str:
    return str(ORDER_ID_BASE + conversion.key)


def render(world: World, account: Account, conversion: Conversion) -> dict[str, Any]:
    quote = hashlib.sha256(f"{world.seed}:{account.id}:quote:{conversion.key}".encode()).hexdigest()[:32]
    ratio = ROUNDING.divide(conversion.to_amount, conversion.from_amount).quantize(RATIO_PLACES)
    inverse = ROUNDING.divide(conversion.from_amount, conversion.to_amount).quantize(RATIO_PLACES)
    return {
        "quoteId": quote,
        "orderId": int(order_id(conversion)),
        "orderStatus": "SUCCESS",
        "fromAsset": conversion.from_asset,
        "fromAmount": canonical(conversion.from_amount),
        "toAsset": conversion.to_asset,
        "toAmount": canonical(conversion.to_amount),
        "ratio": canonical(ratio),
        "inverseRatio": canonical(inverse),
        "createTime": conversion.time,
    }


async def trade_flow(world: World, request: web.Request) -> web.Response:
    signed = await authenticate(world, request, "sapi")
    if isinstance(signed, web.Response):
        return signed
    try:
        start = int_param(signed.params, "startTime")
        end = int_param(signed.params, "endTime")
        limit = int_param(signed.params, "limit")
    except ParamError as exc:
        return exc.response
    for name, value in (("startTime", start), ("endTime", end)):
        if value is None:
            # errors.md -1102, its documented message form for a missing mandatory parameter.
            return binance_error(
                400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
            )
    assert start is not None and end is not None
    if end < start or end - start > MAX_CONVERT_WINDOW_MS:
        return binance_error(400, -1127, "More than 720 hours between startTime and endTime.")
    limit = 100 if limit is None else limit
    if not 1 <= limit <= 1000:
        return invalid("limit")
    conversions = served(signed.account)
    times = [c.time for c in conversions]
    selected = conversions[bisect.bisect_left(times, start) : bisect.bisect_right(times, end)]
    selected.reverse()  # newest first (simulator convention)
    body = {
        "list": [render(world, signed.account, c) for c in selected[:limit]],
        "startTime": start,
        "endTime": end,
        "limit": limit,
        "moreData": len(selected) > limit,
    }
    return reply(body)

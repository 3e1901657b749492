"""GET /api/v3/brokerage/orders/historical/fills: the account's fills, newest first.

docs.cdp.coinbase.com "List Fills": filters `product_ids` (repeatable; ccxt sends one
`product_id`, also taken), `order_ids` / `order_id`, `trade_ids`, `start_sequence_timestamp` and
`end_sequence_timestamp` (RFC 3339), `limit`, `cursor`; the answer is {"fills": [...], "cursor":
"..."}, where an empty cursor means the last page. Fill fields as in the docs' example: entry_id,
trade_id, order_id, trade_time, trade_type FILL, price, size, commission, product_id,
sequence_timestamp, liquidity_indicator MAKER/TAKER, size_in_quote, user_id, side BUY/SELL.
`size` is in the quote currency when size_in_quote is true (market buys here), which ccxt
divides by the price to get the amount. The commission is in the quote currency.

Simulator conventions: `limit` defaults to 100 and is cut to 1000; the start bound is inclusive,
the end bound exclusive; the cursor is the position below which the next page continues (new
fills, which are newer, never shift it); a malformed cursor or time answers 400 INVALID_ARGUMENT.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from aiohttp import web

from exchange_sync.simulator.model import Trade
from exchange_sync.simulator.protocols.coinbase import render, wire
from exchange_sync.simulator.protocols.coinbase.auth import Signed
from exchange_sync.simulator.protocols.coinbase.paging import ArgumentError, limit_of

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _bound(params: dict[str, str], name: str) -> int | None:
    text = params.get(name)
    if not text:
        return None
    ms = wire.parse_time(text)
    if ms is None:
        raise ArgumentError(name)
    return ms


def _key(trade: Trade) -> tuple[int, int]:
    return (trade.time, trade.sub)


async def list_fills(world: World, signed: Signed, request: web.Request) -> web.Response:
    params = signed.params
    limit = limit_of(params, DEFAULT_LIMIT, MAX_LIMIT)
    trades = signed.account.all_trades()
    times = signed.account.cached("coinbase.fill_times", lambda: [t.time for t in trades])
    start, end = _bound(params, "start_sequence_timestamp"), _bound(params, "end_sequence_timestamp")
    lo = 0 if start is None else bisect.bisect_left(times, start)
    hi = len(trades) if end is None else bisect.bisect_left(times, end)
    cursor = params.get("cursor", "")
    if cursor:
        if not cursor.isdigit():
            raise ArgumentError("cursor")
        hi = min(hi, int(cursor))
    venue = world.venue(render.NAME)
    products = set(request.query.getall("product_ids", [])) | set(request.query.getall("product_id", []))
    symbols = {venue.by_id[p].symbol for p in products if p in venue.by_id}
    if products and not symbols:
        raise ArgumentError("product_id")
    orders = set(request.query.getall("order_ids", [])) | set(request.query.getall("order_id", []))
    wanted = set(request.query.getall("trade_ids", []))
    page: list[Trade] = []
    position = hi
    while position > lo and len(page) < limit:
        position -= 1
        trade = trades[position]
        if symbols and trade.symbol not in symbols:
            continue
        if orders and render.order_id(world, signed.account, trade) not in orders:
            continue
        if wanted and render.trade_id(world, signed.account, trade) not in wanted:
            continue
        page.append(trade)
    more = position > lo and len(page) == limit
    return wire.reply(
        {
            "fills": [render.render_fill(world, signed.account, t) for t in page],
            "cursor": str(position) if more else "",
        }
    )

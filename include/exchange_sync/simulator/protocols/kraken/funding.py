"""Kraken's DepositStatus and WithdrawStatus: RECENT funding only.

Kraken documents these as the status of recent transfers: "Any deposits initiated in the past 90
days will be included in the response, up to a maximum of 25 results, sorted by recency" and
"Any withdrawals initiated in the past 90 days will be included in the response, up to a maximum
of 500 results, sorted by recency" (docs.kraken.com/rest "Get Status of Recent Deposits" / "...
Withdrawals", as quoted by the kraken-rs and CryptoExchangeAPIs.jl clients); today's reference
adds paging: "use the cursor parameter to iterate through list of deposits (page size equal to
value of limit) from newest to oldest", `cursor` true/false or the next page's cursor, `limit`
default 25 (deposits) / 500 (withdrawals), `start`: "deposits created strictly before will not be
included", `end`: "created strictly after will not be included" (docs.kraken.com
"get-status-recent-deposits" / "get-status-recent-withdrawals"). Permissions: Funds - Query for
deposits; Funds - Withdraw or Data - Query ledger entries for withdrawals.

So this simulator answers only transfers made within the 90 days before now: a complete history
must come from the ledger (Ledgers type=deposit/withdrawal). Without `cursor` the answer is a
list of at most `limit`; with it {"deposit": [...]} / {"withdrawals": [...]} plus "next_cursor"
while more remain (the cursor's content is a simulator convention: opaque base64).
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from exchange_sync.simulator.catalog import DAY_MS
from exchange_sync.simulator.model import Transfer
from exchange_sync.simulator.protocols.kraken import codes, render, wire
from exchange_sync.simulator.protocols.kraken.account import ArgumentError
from exchange_sync.simulator.protocols.kraken.auth import Signed

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

LOOK_BACK_MS = 90 * DAY_MS
DEFAULT_LIMIT = {"deposit": 25, "withdrawal": 500}
PAGED_KEY = {"deposit": "deposit", "withdrawal": "withdrawals"}
MAX_LIMIT = 1000  # simulator convention: Kraken documents no maximum


def _cursor_offset(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ArgumentError("cursor") from None
    if not text.startswith("ofs:") or not text[4:].isdigit():
        raise ArgumentError("cursor")
    return int(text[4:])


def _next_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"ofs:{offset}".encode()).decode()


def _limit(params: dict[str, str], kind: str) -> int:
    text = params.get("limit", "")
    if not text:
        return DEFAULT_LIMIT[kind]
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ArgumentError("limit")
    return int(text)


def _recent(world: World, signed: Signed, kind: str) -> list[Transfer]:
    """The account's transfers of the last 90 days matching the filters, newest first."""
    params = signed.params
    now = world.server_time_ms()
    try:
        start, end = wire.bound(params.get("start")), wire.bound(params.get("end"))
    except ValueError:
        raise ArgumentError("start") from None
    asset = params.get("asset")
    method = params.get("method")
    chosen = []
    for transfer in reversed(signed.account.transfers(kind)):
        seconds = Decimal(transfer.time // 1000)
        if transfer.time < now - LOOK_BACK_MS:
            break  # ascending by creation: everything older is out of the look-back too
        if (start is not None and seconds < start) or (end is not None and seconds > end):
            continue
        if asset and asset not in (codes.asset_id(transfer.asset), codes.altname(transfer.asset)):
            continue
        if method and method != codes.method(world.catalog.assets[transfer.asset], transfer.network):
            continue
        chosen.append(transfer)
    return chosen


async def _status(world: World, signed: Signed, kind: str) -> web.Response:
    params = signed.params
    limit = _limit(params, kind)
    transfers = _recent(world, signed, kind)
    cursor = params.get("cursor", "")
    if cursor.lower() in ("", "false"):
        return wire.reply([render.render_transfer(world, signed.account, t) for t in transfers[:limit]])
    offset = 0 if cursor.lower() == "true" else _cursor_offset(cursor)
    page = transfers[offset : offset + limit]
    result: dict[str, object] = {
        PAGED_KEY[kind]: [render.render_transfer(world, signed.account, t) for t in page]
    }
    if offset + limit < len(transfers):
        result["next_cursor"] = _next_cursor(offset + limit)
    return wire.reply(result)


async def deposit_status(world: World, signed: Signed) -> web.Response:
    return await _status(world, signed, "deposit")


async def withdraw_status(world: World, signed: Signed) -> web.Response:
    return await _status(world, signed, "withdrawal")

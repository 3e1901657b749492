"""Binance's signed account endpoints: account information, trade list, coins, margin pairs and
the key/account introspection endpoints.

Shapes and parameter rules follow binance-spot-api-docs rest-api.md (commit a5e0bc3) for api/v3
and the wallet docs on developers.binance.com for sapi; "simulator convention" marks what is
undocumented. Authentication and its error table live in `auth`.
"""

from __future__ import annotations

import bisect
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.catalog import DAY_MS
from exchange_sync.simulator.decimals import ZERO, canonical, fixed
from exchange_sync.simulator.model import Market, Trade
from exchange_sync.simulator.protocols.binance import auth
from exchange_sync.simulator.protocols.binance.auth import authenticate, binance_error, mandatory
from exchange_sync.simulator.protocols.binance.wire import (
    ParamError,
    bool_param,
    int_param,
    raw_reply,
    reply,
    unread,
)
from exchange_sync.simulator.seed import OFFSET_MS

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

MAX_TRADES_WINDOW_MS = DAY_MS  # rest-api.md myTrades: "can't be longer than 24 hours"


async def account_info(world: World, request: web.Request) -> web.Response:
    """rest-api.md "Account information (USER_DATA)": every asset unless omitZeroBalances=true."""
    signed = await authenticate(world, request, "api")
    if isinstance(signed, web.Response):
        return signed
    params = signed.params
    rejected = unread(params, {"omitZeroBalances", "recvWindow", "timestamp", "signature"})
    if rejected is not None:
        return rejected
    omit_zero = bool_param(params, "omitZeroBalances")
    account = signed.account
    split = world.balance_split(account)
    balances = []
    for asset in world.venue("binance").assets:
        free, locked = split.get(asset, (ZERO, ZERO))
        if omit_zero and asset not in split:
            continue
        balances.append({"asset": asset, "free": fixed(free), "locked": fixed(locked)})
    return reply(
        {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,  # account-level flags; what the key may do is in apiRestrictions
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": account.update_time,
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": account.uid,
        }
    )


def render_trade(trade: Trade, market: Market) -> bytes:
    """rest-api.md "Account trade list" item; api/v3 amounts always carry 8 decimals."""
    if trade.rendered is None:
        trade.rendered = json.dumps(
            {
                "symbol": market.id,
                "id": trade.seq,
                "orderId": market.order_id_base + trade.order_seq,
                "orderListId": -1,
                "price": fixed(trade.price),
                "qty": fixed(trade.qty),
                "quoteQty": fixed(trade.cost),
                "commission": fixed(trade.fee),
                "commissionAsset": trade.fee_asset,
                "time": trade.time,
                "isBuyer": trade.is_buyer,
                "isMaker": trade.is_maker,
                "isBestMatch": True,
            },
            separators=(",", ":"),
        ).encode()
    return trade.rendered


# rest-api.md "Account trade list": the supported parameter combinations besides symbol.
_TRADE_COMBINATIONS = [
    set(),
    {"orderId"},
    {"startTime"},
    {"endTime"},
    {"fromId"},
    {"startTime", "endTime"},
    {"orderId", "fromId"},
]


async def my_trades(world: World, request: web.Request) -> web.Response:
    signed = await authenticate(world, request, "api")
    if isinstance(signed, web.Response):
        return signed
    params = signed.params
    rejected = unread(
        params,
        {
            "symbol",
            "orderId",
            "startTime",
            "endTime",
            "fromId",
            "limit",
            "recvWindow",
            "timestamp",
            "signature",
        },
    )
    if rejected is not None:
        return rejected
    symbol = params.get("symbol")
    if not symbol:
        return mandatory("symbol")  # CHANGELOG 2022-05-17
    market = world.venue("binance").by_id.get(symbol)
    if market is None:
        return binance_error(400, -1121, "Invalid symbol.")
    try:
        order_id = int_param(params, "orderId")
        start = int_param(params, "startTime")
        end = int_param(params, "endTime")
        from_id = int_param(params, "fromId")
        limit = int_param(params, "limit")
    except ParamError as exc:
        return exc.response
    limit = 500 if limit is None else limit
    if not 1 <= limit <= 1000:
        # "Default 500; Maximum 1000" (rest-api.md); the body Binance sends for an out-of-range
        # limit (ccxt#9904).
        return binance_error(400, -1130, "Data sent for parameter 'limit' is not valid.")
    present = {
        name
        for name, value in (
            ("orderId", order_id),
            ("startTime", start),
            ("endTime", end),
            ("fromId", from_id),
        )
        if value is not None
    }
    if present not in _TRADE_COMBINATIONS:
        return binance_error(400, -1128, "Combination of optional parameters invalid.")  # CHANGELOG 2023
    if start is not None and end is not None and end - start > MAX_TRADES_WINDOW_MS:
        return binance_error(400, -1127, "More than 24 hours between startTime and endTime.")
    per_symbol = signed.account.trades.get(market.symbol)
    # Simulator convention for a delisted coin's pair (Koinly: "Binance does not return trades for
    # delisted coins via their API"): an empty list, as for a pair never traded.
    if per_symbol is None or market.symbol in signed.account.delisted:
        return raw_reply(b"[]")
    if order_id is not None:
        page = _order_trades(
            per_symbol.trades,
            per_symbol.times,
            market,
            order_id,
            world.anchor_ms,
            signed.account.slot,
            from_id or 0,
        )[:limit]
    elif from_id is not None:
        page = per_symbol.from_seq(from_id, limit)
    else:
        # rest-api.md "General API Information": with startTime the oldest items from startTime,
        # with only endTime the most recent up to endTime, with neither the most recent.
        page = per_symbol.between(start, end, limit)
    return raw_reply(b"[" + b",".join(render_trade(t, market) for t in page) + b"]")


def _order_trades(
    trades: list[Trade],
    times: list[int],
    market: Market,
    order_id: int,
    anchor_ms: int,
    slot: int,
    from_id: int,
) -> list[Trade]:
    """An order's fills, found through the time encoded in its id rather than a scan."""
    clock = order_id - market.order_id_base
    if clock < 0 or clock % 32 != slot:
        return []
    time = anchor_ms + clock // 32 - OFFSET_MS
    lo, hi = bisect.bisect_left(times, time), bisect.bisect_right(times, time)
    return [t for t in trades[lo:hi] if t.order_seq == clock and t.seq >= from_id]


async def coins_config(world: World, request: web.Request) -> web.Response:
    """Wallet docs "All Coins' Information" (the shape of ccxt binance.py parse_currency's example),
    with the caller's balances in free/locked."""
    signed = await authenticate(world, request, "sapi")
    if isinstance(signed, web.Response):
        return signed
    split = world.balance_split(signed.account)
    coins = []
    for code, asset in world.venue("binance").assets.items():
        free, locked = split.get(code, (ZERO, ZERO))
        networks = []
        for index, network in enumerate(asset.networks):
            fee = world.catalog.withdraw_fee(code, network)
            networks.append(
                {
                    "network": network,
                    "coin": code,
                    "withdrawIntegerMultiple": "0.00000001",
                    "isDefault": index == 0,
                    "depositEnable": True,
                    "withdrawEnable": True,
                    "depositDesc": "",
                    "withdrawDesc": "",
                    "specialTips": "",
                    "specialWithdrawTips": "",
                    "name": network,
                    "resetAddressStatus": False,
                    "addressRegex": "",
                    "memoRegex": "",
                    "withdrawFee": canonical(fee),
                    "withdrawMin": canonical(fee * 2),
                    "withdrawMax": "9999999999.99999999",
                    "withdrawInternalMin": "0.00000001",
                    "depositDust": "0.00000001",
                    "minConfirm": world.catalog.confirmations(network),
                    "unLockConfirm": 0,
                    "sameAddress": False,
                    "estimatedArrivalTime": 5,
                    "busy": False,
                    "contractAddressUrl": "",
                    "contractAddress": "",
                }
            )
        coins.append(
            {
                "coin": code,
                "depositAllEnable": not asset.fiat,
                "withdrawAllEnable": not asset.fiat,
                "name": asset.name,
                "free": canonical(free),
                "locked": canonical(locked),
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": asset.fiat,
                "trading": True,
                "networkList": networks,
            }
        )
    return reply(coins)


async def margin_pairs(world: World, request: web.Request) -> web.Response:
    """Cross-margin pairs; ccxt's load_markets asks for them when it has credentials (fetchMargins)."""
    # MARKET_DATA security: the key must be valid, but reading rights and account state do not matter.
    signed = await authenticate(world, request, "sapi", introspection=True)
    if isinstance(signed, web.Response):
        return signed
    pairs = []
    for market in world.venue("binance").market_list:
        if market.margin:
            pairs.append(
                {
                    "base": market.base,
                    "id": market.order_id_base * 10 + 7,
                    "isBuyAllowed": True,
                    "isMarginTrade": True,
                    "isSellAllowed": True,
                    "quote": market.quote,
                    "symbol": market.id,
                }
            )
    return reply(pairs)


async def isolated_margin_pairs(world: World, request: web.Request) -> web.Response:
    """Isolated-margin pairs, the shape in ccxt binance.py fetch_markets' comment."""
    signed = await authenticate(world, request, "sapi", introspection=True)
    if isinstance(signed, web.Response):
        return signed
    pairs = [
        {
            "base": m.base,
            "isBuyAllowed": True,
            "isMarginTrade": True,
            "isSellAllowed": True,
            "quote": m.quote,
            "symbol": m.id,
        }
        for m in world.venue("binance").market_list
        if m.margin and m.quote in ("USDT", "BTC", "FDUSD", "USDC")
    ]
    return reply(pairs)


async def account_status(world: World, request: web.Request) -> web.Response:
    """Wallet docs "Account Status": {"data": "Normal"}; a suspended account is a simulator convention."""
    signed = await authenticate(world, request, "sapi", introspection=True)
    if isinstance(signed, web.Response):
        return signed
    if signed.account.status == "suspended":
        return reply({"data": auth.SUSPENDED_ACCOUNT_STATUS})
    return reply({"data": "Normal"})


async def api_restrictions(world: World, request: web.Request) -> web.Response:
    """Wallet docs "Get API Key Permission"; the key's own permissions, IP restriction, expiry."""
    signed = await authenticate(world, request, "sapi", introspection=True)
    if isinstance(signed, web.Response):
        return signed
    key = signed.key
    body: dict[str, Any] = {
        "ipRestrict": bool(key.ip_allowlist),
        "createTime": key.created_at,
        "enableInternalTransfer": False,
        "enableFutures": False,
        "enablePortfolioMarginTrading": False,
        "enableVanillaOptions": False,
        "permitsUniversalTransfer": False,
        "enableReading": auth.READING in key.permissions,
        "enableSpotAndMarginTrading": auth.TRADING in key.permissions,
        "enableWithdrawals": auth.WITHDRAWALS in key.permissions,
        "enableMargin": False,
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
    }
    if key.expires_at is not None:
        # Documented in older Binance docs and SDKs; present only when the key has an expiry.
        body["tradingAuthorityExpirationTime"] = key.expires_at
    return reply(body)

"""Binance spot REST routes under /binance, close enough to the real ones for ccxt.binance.

Paths mirror Binance's (GET /binance/api/v3/myTrades is GET https://api.binance.com/api/v3/myTrades).
Shapes, parameter rules, weights and error bodies follow binance-spot-api-docs (rest-api.md,
errors.md, CHANGELOG.md, commit a5e0bc3) and the wallet docs on developers.binance.com for the
sapi endpoints; where Binance's behaviour is undocumented the code says "simulator convention".
Authentication and its error table live in binance_auth.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from exchange_sync.simulator import binance_auth
from exchange_sync.simulator.binance_auth import authenticate, binance_error, mandatory
from exchange_sync.simulator.catalog import DAY_MS
from exchange_sync.simulator.decimals import ROUNDING, ZERO, canonical, fixed
from exchange_sync.simulator.exchange_profile import Bucket, RouteCost
from exchange_sync.simulator.model import Deposit, Market, Trade, Withdrawal
from exchange_sync.simulator.seed import OFFSET_MS
from exchange_sync.simulator.state import World

PREFIX = "/binance"

REQUEST_WEIGHT = Bucket("REQUEST_WEIGHT", 60_000, 6000, "X-MBX-USED-WEIGHT-1M", configurable=True)
# sapi endpoints count against their own IP limit (Binance: 12000 weight per minute) and
# withdraw/history against a per-second one: weight 18000 of 180000/s, i.e. 10 requests a second.
SAPI_IP = Bucket("SAPI_IP_WEIGHT", 60_000, 12_000, "X-SAPI-USED-IP-WEIGHT-1M")
SAPI_SECOND = Bucket("SAPI_IP_WEIGHT_1S", 1_000, 180_000, "X-SAPI-USED-IP-WEIGHT-1S")

MAX_TRADES_WINDOW_MS = DAY_MS  # rest-api.md myTrades: "can't be longer than 24 hours"
MAX_WALLET_WINDOW_MS = 90 * DAY_MS  # wallet docs: deposit/withdraw windows within 90 days
JSON = "application/json"

Handler = Callable[[World, web.Request], Awaitable[web.Response]]


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    handler: Handler
    weight: int
    bucket: Bucket
    maintenance_exempt: bool = False


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data, separators=(",", ":")).encode(),
        content_type=JSON,
        charset="UTF-8",
    )


def _raw_json(body: bytes) -> web.Response:
    return web.Response(body=body, content_type=JSON, charset="UTF-8")


# -- parameter parsing ------------------------------------------------------------------------


class ParamError(Exception):
    def __init__(self, response: web.Response):
        super().__init__("bad parameter")
        self.response = response


def _int_param(params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not re.fullmatch(r"-?\d{1,20}", value):
        # The message Binance sends for a non-numeric LONG/INT parameter (errors.md -1100).
        raise ParamError(
            binance_error(
                400,
                -1100,
                f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
            )
        )
    return int(value)


def _bool_param(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise ParamError(binance_error(400, -1130, f"Data sent for parameter '{name}' is not valid."))
    return value == "true"


def _unread(params: dict[str, str], allowed: set[str]) -> web.Response | None:
    """api/v3 rejects parameters it does not know (errors.md -1104)."""
    if set(params) - allowed:
        read = len(set(params) & allowed)
        return binance_error(
            400,
            -1104,
            f"Not all sent parameters were read; read '{read}' parameter(s) but was sent '{len(params)}'.",
        )
    return None


# -- public endpoints -------------------------------------------------------------------------


async def ping(world: World, request: web.Request) -> web.Response:
    return _raw_json(b"{}")


async def server_time(world: World, request: web.Request) -> web.Response:
    return _json({"serverTime": world.server_time_ms()})


async def system_status(world: World, request: web.Request) -> web.Response:
    # wallet docs "System Status (System)": 0 normal, 1 system maintenance.
    if world.maintenance:
        return _json({"status": 1, "msg": "system maintenance"})
    return _json({"status": 0, "msg": "normal"})


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
        "symbol": market.symbol,
        "status": market.status,
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


def _symbols_cache(world: World) -> dict[str, bytes]:
    """Serialized symbol entries, built once per world (the full list is ~4 MB of JSON)."""
    cached = world.cache.get("binance.symbols")
    if cached is None:
        cached = {
            m.symbol: json.dumps(_symbol_json(world, m), separators=(",", ":")).encode()
            for m in world.catalog.market_list
        }
        cached["*"] = b",".join(cached.values())
        world.cache["binance.symbols"] = cached
    return cached


async def exchange_info(world: World, request: web.Request) -> web.Response:
    params = dict(request.query)
    symbols = _symbols_cache(world)
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
    return _raw_json(prefix + b',"symbols":[' + body + b"]}")


# -- signed endpoints -------------------------------------------------------------------------


async def account_info(world: World, request: web.Request) -> web.Response:
    """rest-api.md "Account information (USER_DATA)": every asset unless omitZeroBalances=true."""
    signed = await authenticate(world, request, "api")
    if isinstance(signed, web.Response):
        return signed
    params = signed.params
    unread = _unread(params, {"omitZeroBalances", "recvWindow", "timestamp", "signature"})
    if unread is not None:
        return unread
    omit_zero = _bool_param(params, "omitZeroBalances")
    account = signed.account
    split = world.balance_split(account)
    balances = []
    for asset in world.catalog.assets:
        free, locked = split.get(asset, (ZERO, ZERO))
        if omit_zero and asset not in split:
            continue
        balances.append({"asset": asset, "free": fixed(free), "locked": fixed(locked)})
    return _json(
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


def render_trade(trade: Trade) -> bytes:
    """rest-api.md "Account trade list" item; api/v3 amounts always carry 8 decimals."""
    if trade.rendered is None:
        trade.rendered = json.dumps(
            {
                "symbol": trade.symbol,
                "id": trade.id,
                "orderId": trade.order_id,
                "orderListId": -1,
                "price": fixed(trade.price),
                "qty": fixed(trade.qty),
                "quoteQty": fixed(trade.quote_qty),
                "commission": fixed(trade.commission),
                "commissionAsset": trade.commission_asset,
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
    unread = _unread(
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
    if unread is not None:
        return unread
    symbol = params.get("symbol")
    if not symbol:
        return mandatory("symbol")  # CHANGELOG 2022-05-17
    market = world.catalog.markets.get(symbol)
    if market is None:
        return binance_error(400, -1121, "Invalid symbol.")
    try:
        order_id = _int_param(params, "orderId")
        start = _int_param(params, "startTime")
        end = _int_param(params, "endTime")
        from_id = _int_param(params, "fromId")
        limit = _int_param(params, "limit")
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
    per_symbol = signed.account.trades.get(symbol)
    if per_symbol is None:
        return _raw_json(b"[]")
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
        page = per_symbol.from_id(from_id, limit)
    else:
        # rest-api.md "General API Information": with startTime the oldest items from startTime,
        # with only endTime the most recent up to endTime, with neither the most recent.
        page = per_symbol.between(start, end, limit)
    return _raw_json(b"[" + b",".join(render_trade(t) for t in page) + b"]")


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
    return [t for t in trades[lo:hi] if t.order_id == order_id and t.id >= from_id]


def _window(params: dict[str, str], now: int) -> tuple[int, int] | web.Response:
    """The wallet endpoints' time window (wallet docs): startTime defaults to 90 days ago, endTime
    to now, and the window may not exceed 90 days."""
    start = _int_param(params, "startTime")
    end = _int_param(params, "endTime")
    start = now - MAX_WALLET_WINDOW_MS if start is None else start
    end = now if end is None else end
    if end - start > MAX_WALLET_WINDOW_MS:
        # Simulator convention: Binance's exact body for this case is undocumented; -1127 is the
        # spot code for an oversized lookup interval, in its documented message form.
        return binance_error(400, -1127, "More than 2160 hours between startTime and endTime.")
    return start, end


def _wallet_page(
    params: dict[str, str], items: list[Any], now: int, extra: Callable[[Any], bool] | None = None
) -> list[Any] | web.Response:
    window = _window(params, now)
    if isinstance(window, web.Response):
        return window
    start, end = window
    offset = _int_param(params, "offset") or 0
    limit = _int_param(params, "limit")
    limit = 1000 if limit is None else limit
    if offset < 0:
        return binance_error(400, -1130, "Data sent for parameter 'offset' is not valid.")
    if not 1 <= limit <= 1000:  # wallet docs: "Default: 1000, Max: 1000"
        return binance_error(400, -1130, "Data sent for parameter 'limit' is not valid.")
    times = [item.time for item in items]
    selected = items[bisect.bisect_left(times, start) : bisect.bisect_right(times, end)]
    coin = params.get("coin")
    status = _int_param(params, "status")
    selected = [
        i
        for i in selected
        if (coin is None or i.coin == coin)
        and (status is None or i.status == status)
        and (extra is None or extra(i))
    ]
    selected.reverse()  # newest first, as Binance answers (ccxt's withdrawal example is descending)
    return selected[offset : offset + limit]


def render_deposit(deposit: Deposit) -> dict[str, Any]:
    """Wallet docs "Deposit History (supporting network)" item; amounts without padding ("0.001")."""
    return {
        "id": deposit.id,
        "amount": canonical(deposit.amount),
        "coin": deposit.coin,
        "network": deposit.network,
        "status": deposit.status,
        "address": deposit.address,
        "addressTag": deposit.address_tag,
        "txId": deposit.txid,
        "insertTime": deposit.time,
        "transferType": deposit.transfer_type,
        "confirmTimes": deposit.confirm_times,
        "unlockConfirm": deposit.unlock_confirm,
        "walletType": deposit.wallet_type,
    }


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def render_withdrawal(withdrawal: Withdrawal) -> dict[str, Any]:
    """Wallet docs "Withdraw History (supporting network)" item: amount "8.91000000", fee "0.004",
    applyTime/completeTime as "YYYY-MM-DD HH:MM:SS" UTC; addressTag only when there is one."""
    body: dict[str, Any] = {
        "id": withdrawal.id,
        "amount": fixed(withdrawal.amount),
        "transactionFee": canonical(withdrawal.fee),
        "coin": withdrawal.coin,
        "status": withdrawal.status,
        "address": withdrawal.address,
    }
    if withdrawal.address_tag:
        body["addressTag"] = withdrawal.address_tag
    body.update(
        {
            "txId": withdrawal.txid,
            "applyTime": _utc(withdrawal.time),
            "network": withdrawal.network,
            "transferType": withdrawal.transfer_type,
            "info": withdrawal.info,
            "confirmNo": withdrawal.confirm_no,
            "walletType": withdrawal.wallet_type,
            "txKey": withdrawal.tx_key,
            "completeTime": _utc(withdrawal.complete_time),
        }
    )
    return body


async def deposit_history(world: World, request: web.Request) -> web.Response:
    signed = await authenticate(world, request, "sapi")
    if isinstance(signed, web.Response):
        return signed
    tx_id = signed.params.get("txId")
    try:
        page = _wallet_page(
            signed.params,
            signed.account.deposits,
            world.server_time_ms(),
            (lambda d: d.txid == tx_id) if tx_id else None,
        )
    except ParamError as exc:
        return exc.response
    if isinstance(page, web.Response):
        return page
    return _json([render_deposit(d) for d in page])


async def withdraw_history(world: World, request: web.Request) -> web.Response:
    signed = await authenticate(world, request, "sapi")
    if isinstance(signed, web.Response):
        return signed
    params = signed.params
    if params.get("withdrawOrderId"):
        return _json([])  # simulated withdrawals are made without a client withdrawOrderId
    ids = {i for i in params.get("idList", "").split(",") if i}
    if len(ids) > 50:
        return binance_error(400, -1130, "Data sent for parameter 'idList' is not valid.")
    try:
        page = _wallet_page(
            params,
            signed.account.withdrawals,
            world.server_time_ms(),
            (lambda w: w.id in ids) if ids else None,
        )
    except ParamError as exc:
        return exc.response
    if isinstance(page, web.Response):
        return page
    return _json([render_withdrawal(w) for w in page])


async def coins_config(world: World, request: web.Request) -> web.Response:
    """Wallet docs "All Coins' Information" (the shape of ccxt binance.py parse_currency's example),
    with the caller's balances in free/locked."""
    signed = await authenticate(world, request, "sapi")
    if isinstance(signed, web.Response):
        return signed
    split = world.balance_split(signed.account)
    coins = []
    for code, asset in world.catalog.assets.items():
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
    return _json(coins)


async def margin_pairs(world: World, request: web.Request) -> web.Response:
    """Cross-margin pairs; ccxt's load_markets asks for them when it has credentials (fetchMargins)."""
    # MARKET_DATA security: the key must be valid, but reading rights and account state do not matter.
    signed = await authenticate(world, request, "sapi", introspection=True)
    if isinstance(signed, web.Response):
        return signed
    pairs = []
    for market in world.catalog.market_list:
        if market.margin:
            pairs.append(
                {
                    "base": market.base,
                    "id": market.order_id_base * 10 + 7,
                    "isBuyAllowed": True,
                    "isMarginTrade": True,
                    "isSellAllowed": True,
                    "quote": market.quote,
                    "symbol": market.symbol,
                }
            )
    return _json(pairs)


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
            "symbol": m.symbol,
        }
        for m in world.catalog.market_list
        if m.margin and m.quote in ("USDT", "BTC", "FDUSD", "USDC")
    ]
    return _json(pairs)


async def account_status(world: World, request: web.Request) -> web.Response:
    """Wallet docs "Account Status": {"data": "Normal"}; a suspended account is a simulator convention."""
    signed = await authenticate(world, request, "sapi", introspection=True)
    if isinstance(signed, web.Response):
        return signed
    if signed.account.status == "suspended":
        return _json({"data": binance_auth.SUSPENDED_ACCOUNT_STATUS})
    return _json({"data": "Normal"})


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
        "enableReading": "reading" in key.permissions,
        "enableSpotAndMarginTrading": "spot_trading" in key.permissions,
        "enableWithdrawals": "withdrawals" in key.permissions,
        "enableMargin": False,
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
    }
    if key.expires_at is not None:
        # Documented in older Binance docs and SDKs; present only when the key has an expiry.
        body["tradingAuthorityExpirationTime"] = key.expires_at
    return _json(body)


ROUTES: dict[str, Route] = {
    route.path: route
    for route in (
        Route("/api/v3/ping", ping, 1, REQUEST_WEIGHT, maintenance_exempt=True),
        Route("/api/v3/time", server_time, 1, REQUEST_WEIGHT, maintenance_exempt=True),
        Route("/api/v3/exchangeInfo", exchange_info, 20, REQUEST_WEIGHT),
        Route("/api/v3/account", account_info, 20, REQUEST_WEIGHT),
        Route("/api/v3/myTrades", my_trades, 20, REQUEST_WEIGHT),
        Route("/sapi/v1/system/status", system_status, 1, SAPI_IP, maintenance_exempt=True),
        Route("/sapi/v1/capital/config/getall", coins_config, 10, SAPI_IP),
        Route("/sapi/v1/capital/deposit/hisrec", deposit_history, 1, SAPI_IP),
        Route("/sapi/v1/capital/withdraw/history", withdraw_history, 18_000, SAPI_SECOND),
        Route("/sapi/v1/margin/allPairs", margin_pairs, 1, SAPI_IP),
        Route("/sapi/v1/margin/isolated/allPairs", isolated_margin_pairs, 10, SAPI_IP),
        Route("/sapi/v1/account/status", account_status, 1, SAPI_IP),
        Route("/sapi/v1/account/apiRestrictions", api_restrictions, 1, SAPI_IP),
    )
}

_SERVER_ERRORS = {
    502: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
    503: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n",
    504: "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n",
}


class BinanceProfile:
    """The exchange-neutral middleware's view of Binance (see exchange_profile)."""

    prefix = PREFIX
    buckets = (REQUEST_WEIGHT, SAPI_IP, SAPI_SECOND)

    def __init__(self, world: World):
        self.world = world

    def _route(self, request: web.Request) -> Route | None:
        return ROUTES.get(request.path[len(PREFIX) :])

    def cost(self, request: web.Request) -> RouteCost:
        route = self._route(request)
        if route is None:
            return RouteCost(1, (REQUEST_WEIGHT,))
        weight = route.weight
        if route.handler is my_trades and request.query.get("orderId"):
            weight = 5  # rest-api.md: myTrades weighs 5 with orderId
        return RouteCost(weight, (route.bucket,))

    def resolve_account(self, request: web.Request) -> tuple[str | None, str | None]:
        api_key = request.headers.get("X-MBX-APIKEY")
        if not api_key:
            return None, None
        key = self.world.keys.get(api_key)
        return (key.account_id if key else None), api_key[:8]

    def maintenance_exempt(self, request: web.Request) -> bool:
        route = self._route(request)
        return route is not None and route.maintenance_exempt

    def maintenance_response(self) -> web.Response:
        # The body ccxt maps to OnMaintenance (binance.py exceptions table: {"code":1,"msg":"System is
        # under maintenance."}); HTTP 503 is a simulator convention.
        return binance_error(503, 1, "System is under maintenance.")

    def rate_limited_response(self, bucket: Bucket, limit: int, retry_after_s: int) -> web.Response:
        interval = "1 SECOND" if bucket.interval_ms == 1000 else "1 MINUTE"
        return binance_error(
            429,
            -1003,
            f"Too much request weight used; current limit is {limit} request "
            f"weight per {interval}. Please use WebSocket Streams for live "
            "updates to avoid polling the API.",
            headers={"Retry-After": str(retry_after_s)},
        )

    def banned_response(self, until_ms: int, retry_after_s: int) -> web.Response:
        return binance_error(
            418,
            -1003,
            f"Way too much request weight used; IP banned until {until_ms}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
            headers={"Retry-After": str(retry_after_s)},
        )

    def server_error_response(self, status: int) -> web.Response:
        if status in _SERVER_ERRORS:
            return web.Response(status=status, text=_SERVER_ERRORS[status], content_type="text/html")
        # errors.md -1001 DISCONNECTED, Binance's generic internal error.
        message = "Internal error; unable to process your request. Please try again."
        return binance_error(status, -1001, message)


def add_routes(app: web.Application, world: World) -> BinanceProfile:
    for route in ROUTES.values():
        app.router.add_get(PREFIX + route.path, _bind(world, route.handler), allow_head=False)
    return BinanceProfile(world)


def _bind(world: World, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def bound(request: web.Request) -> web.Response:
        try:
            return await handler(world, request)
        except ParamError as exc:
            return exc.response

    return bound

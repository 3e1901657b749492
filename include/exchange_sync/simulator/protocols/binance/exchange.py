"""Binance spot under /binance, close enough to the real REST API for ccxt.binance.

Paths mirror Binance's (GET /binance/api/v3/myTrades is GET https://api.binance.com/api/v3/myTrades).
Shapes, parameter rules, weights and error bodies follow binance-spot-api-docs (rest-api.md,
errors.md, CHANGELOG.md, commit a5e0bc3) and the wallet docs on developers.binance.com for the
sapi endpoints; where Binance's behaviour is undocumented the code says "simulator convention".
Keys are 64 alphanumeric characters, secrets too (HMAC-SHA256 of the query string, `auth`).
Binance has no spot ledger stream (convert/tradeFlow lists its Convert orders); its account id is
the numeric `uid` of api/v3/account.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator import edge
from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.decimals import canonical
from exchange_sync.simulator.model import Account, Trade, Transfer
from exchange_sync.simulator.protocol import ExchangeProtocol, RouteCost
from exchange_sync.simulator.protocols.binance import (
    account,
    auth,
    convert,
    exports,
    listing,
    market_data,
    wallet,
)
from exchange_sync.simulator.protocols.binance.auth import binance_error
from exchange_sync.simulator.protocols.binance.ratelimits import BUCKETS, REQUEST_WEIGHT, SAPI_IP, SAPI_UID
from exchange_sync.simulator.protocols.binance.wire import ParamError
from exchange_sync.simulator.ratelimit import Bucket, WindowBucket
from exchange_sync.simulator.truth import trade_record, transfer_record
from exchange_sync.simulator.venue import Venue

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

Handler = Callable[["World", web.Request], Awaitable[web.Response]]
_KEY_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    handler: Handler
    weight: int
    bucket: WindowBucket
    maintenance_exempt: bool = False


ROUTES: dict[str, Route] = {
    route.path: route
    for route in (
        Route("/api/v3/ping", market_data.ping, 1, REQUEST_WEIGHT, maintenance_exempt=True),
        Route("/api/v3/time", market_data.server_time, 1, REQUEST_WEIGHT, maintenance_exempt=True),
        Route("/api/v3/exchangeInfo", market_data.exchange_info, 20, REQUEST_WEIGHT),
        Route("/api/v3/account", account.account_info, 20, REQUEST_WEIGHT),
        Route("/api/v3/myTrades", account.my_trades, 20, REQUEST_WEIGHT),
        Route("/sapi/v1/system/status", market_data.system_status, 1, SAPI_IP, maintenance_exempt=True),
        Route("/sapi/v1/capital/config/getall", account.coins_config, 10, SAPI_IP),
        Route("/sapi/v1/capital/deposit/hisrec", wallet.deposit_history, 1, SAPI_IP),
        Route("/sapi/v1/capital/withdraw/history", wallet.withdraw_history, 18_000, SAPI_UID),
        Route("/sapi/v1/convert/tradeFlow", convert.trade_flow, 3000, SAPI_UID),
        Route("/sapi/v1/margin/allPairs", account.margin_pairs, 1, SAPI_IP),
        Route("/sapi/v1/margin/isolated/allPairs", account.isolated_margin_pairs, 10, SAPI_IP),
        Route("/sapi/v1/account/status", account.account_status, 1, SAPI_IP),
        Route("/sapi/v1/account/apiRestrictions", account.api_restrictions, 1, SAPI_IP),
    )
}


class BinanceProtocol(ExchangeProtocol):
    name = "binance"
    prefix = "/binance"
    permissions = auth.PERMISSIONS
    read_permissions = (auth.READING,)
    stream_permissions = {
        "balances": auth.READING,
        "trades": auth.READING,
        "deposits": auth.READING,
        "withdrawals": auth.READING,
        "conversions": auth.READING,
    }
    settles = {kind: tuple(s for s in table if s != "pending") for kind, table in wallet.STATUSES.items()}
    buckets = BUCKETS
    export_names = exports.EXPORT_NAMES

    def build_venue(self, catalog: Catalog, seed: int) -> Venue:
        return listing.build_venue(catalog, seed)

    def mint_key(self) -> tuple[str, str]:
        return (
            "".join(secrets.choice(_KEY_ALPHABET) for _ in range(64)),
            "".join(secrets.choice(_KEY_ALPHABET) for _ in range(64)),
        )

    def add_routes(self, app: web.Application, world: World) -> None:
        for route in ROUTES.values():
            app.router.add_get(self.prefix + route.path, _bind(world, route.handler), allow_head=False)

    def costs(self) -> dict[str, Any]:
        return {path: {"weight": r.weight, "buckets": [r.bucket.name]} for path, r in ROUTES.items()}

    # -- the middleware's view -----------------------------------------------------------------

    def _route(self, request: web.Request) -> Route | None:
        return ROUTES.get(request.path[len(self.prefix) :])

    def cost(self, request: web.Request) -> RouteCost:
        route = self._route(request)
        if route is None:
            return RouteCost(1, (REQUEST_WEIGHT,), request.path)
        weight = route.weight
        if route.handler is account.my_trades and request.query.get("orderId"):
            weight = 5  # rest-api.md: myTrades weighs 5 with orderId
        return RouteCost(weight, (route.bucket,), route.path)

    def presented_key(self, request: web.Request) -> str | None:
        return request.headers.get("X-MBX-APIKEY") or None

    def maintenance_exempt(self, request: web.Request) -> bool:
        route = self._route(request)
        return route is not None and route.maintenance_exempt

    def maintenance_response(self) -> web.Response:
        # The body ccxt maps to OnMaintenance (binance.py exceptions table: {"code":1,"msg":"System is
        # under maintenance."}); HTTP 503 is a simulator convention.
        return binance_error(503, 1, "System is under maintenance.")

    def rate_limited_response(self, bucket: Bucket, limit: int, retry_after_s: int) -> web.Response:
        interval = "1 SECOND" if getattr(bucket, "interval_ms", 0) == 1000 else "1 MINUTE"
        return binance_error(
            429,
            -1003,
            f"Too much request weight used; current limit is {limit} request "
            f"weight per {interval}. Please use WebSocket Streams for live "
            "updates to avoid polling the API.",
            headers={"Retry-After": str(retry_after_s)},
        )

    def banned_response(self, bucket: Bucket, until_ms: int, retry_after_s: int) -> web.Response:
        return binance_error(
            418,
            -1003,
            f"Way too much request weight used; IP banned until {until_ms}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
            headers={"Retry-After": str(retry_after_s)},
        )

    def server_error_response(self, status: int) -> web.Response:
        page = edge.nginx_page(status)
        if page is not None:
            return page
        # errors.md -1001 DISCONNECTED, Binance's generic internal error.
        message = "Internal error; unable to process your request. Please try again."
        return binance_error(status, -1001, message)

    def export(self, world: World, account: Account, name: str) -> str:
        return exports.export(world, account, name)

    # -- ground truth ------------------------------------------------------------------------

    def trade_truth(self, world: World, account: Account, trade: Trade) -> dict[str, Any]:
        market = world.venue(self.name).markets[trade.symbol]
        return trade_record(
            trade,
            market,
            id=str(trade.seq),
            order_id=str(market.order_id_base + trade.order_seq),
            timestamp=trade.time,
        )

    def transfer_id(self, world: World, account: Account, transfer: Transfer) -> str:
        return wallet.transfer_id(world, account, transfer)

    def conversion_truth(self, world: World, account: Account) -> list[dict[str, Any]]:
        return [
            {
                "id": f"{convert.order_id(c)}-{leg}",
                "refid": convert.order_id(c),
                "type": convert.LEDGER_TYPE,
                "currency": currency,
                "amount": amount,
                "fee": None,
                "balance": None,
                "timestamp": c.time,
            }
            for c in convert.served(account)
            for leg, currency, amount in (
                ("from", c.from_asset, f"-{canonical(c.from_amount)}"),
                ("to", c.to_asset, canonical(c.to_amount)),
            )
        ]

    def transfer_truth(self, world: World, account: Account, transfer: Transfer) -> dict[str, Any]:
        # ccxt binance.parse_transaction: "Internal transfer " stripped from txId; empty strings
        # read as None (safe_string); the deposit list carries no fee.
        txid = transfer.txid.removeprefix("Internal transfer ")
        return transfer_record(
            id=self.transfer_id(world, account, transfer),
            currency=transfer.asset,
            amount=transfer.amount,
            fee=transfer.fee if transfer.kind == "withdrawal" else None,
            network=transfer.network or None,
            address=transfer.address or None,
            txid=txid or None,
            status=wallet.STATUSES[transfer.kind][transfer.status][1],
            timestamp=transfer.time,
        )


def _bind(world: World, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def bound(request: web.Request) -> web.Response:
        try:
            return await handler(world, request)
        except ParamError as exc:
            return exc.response

    return bound

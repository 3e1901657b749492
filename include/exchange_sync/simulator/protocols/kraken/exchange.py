"""Kraken spot under /kraken, close enough to the real REST API for ccxt.kraken.

Paths mirror Kraken's (POST /kraken/0/private/Ledgers is POST https://api.kraken.com/0/private/Ledgers;
public methods are GET /kraken/0/public/<Method>). Every answer is HTTP 200 with
{"error": [...], "result": ...}; an unknown method answers EGeneral:Unknown method. Keys are 56
base64 characters, secrets base64 of 64 random bytes (the shape of Kraken's API keys and private
keys). Rate limiting is Kraken's per-key call counter (`ratelimits`); its account identity is the
IBAN-like account id GetApiKeyInfo shows (`identity`).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator import edge
from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.ledger import LedgerEntry
from exchange_sync.simulator.model import Account, Trade, Transfer
from exchange_sync.simulator.protocol import ExchangeProtocol, RouteCost
from exchange_sync.simulator.protocols.kraken import (
    account,
    auth,
    codes,
    exports,
    funding,
    ids,
    listing,
    market_data,
    render,
    wire,
)
from exchange_sync.simulator.protocols.kraken.account import ArgumentError
from exchange_sync.simulator.protocols.kraken.auth import Signed
from exchange_sync.simulator.protocols.kraken.ratelimits import CALL_COUNTER, HISTORY_COST
from exchange_sync.simulator.ratelimit import Bucket
from exchange_sync.simulator.truth import ledger_record, trade_record, transfer_record
from exchange_sync.simulator.venue import Venue

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

PublicHandler = Callable[["World", web.Request, dict[str, str]], Awaitable[web.Response]]
PrivateHandler = Callable[["World", Signed], Awaitable[web.Response]]
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass(frozen=True, slots=True)
class Private:
    handler: PrivateHandler
    permission: tuple[str, ...] | None  # any of these admits the key; None: no permission needed
    cost: int = 1


PUBLIC: dict[str, PublicHandler] = {
    "Time": market_data.server_time,
    "SystemStatus": market_data.system_status,
    "Assets": market_data.assets,
    "AssetPairs": market_data.asset_pairs,
}
MAINTENANCE_EXEMPT = ("Time", "SystemStatus")
PRIVATE: dict[str, Private] = {
    "Balance": Private(account.balance, (auth.QUERY_FUNDS,)),
    "BalanceEx": Private(account.balance_ex, (auth.QUERY_FUNDS,)),
    "TradesHistory": Private(account.trades_history, (auth.QUERY_CLOSED_TRADES,), HISTORY_COST),
    "QueryTrades": Private(account.query_trades, (auth.QUERY_CLOSED_TRADES,), HISTORY_COST),
    "Ledgers": Private(account.ledgers, (auth.QUERY_LEDGER,), HISTORY_COST),
    "QueryLedgers": Private(account.query_ledgers, (auth.QUERY_LEDGER,), HISTORY_COST),
    "DepositStatus": Private(funding.deposit_status, (auth.QUERY_FUNDS,)),
    "WithdrawStatus": Private(funding.withdraw_status, (auth.WITHDRAW_FUNDS, auth.QUERY_LEDGER)),
    "GetApiKeyInfo": Private(account.api_key_info, None),
}


class KrakenProtocol(ExchangeProtocol):
    name = "kraken"
    prefix = auth.PREFIX
    permissions = auth.PERMISSIONS
    read_permissions = auth.READ_PERMISSIONS
    stream_permissions = {
        "balances": auth.QUERY_FUNDS,
        "trades": auth.QUERY_CLOSED_TRADES,
        "deposits": auth.QUERY_FUNDS,
        "withdrawals": auth.QUERY_LEDGER,
        "ledger": auth.QUERY_LEDGER,
    }
    settles = {kind: tuple(s for s in table if s != "pending") for kind, table in render.STATUSES.items()}
    buckets = (CALL_COUNTER,)
    has_ledger = True
    export_names = exports.NAMES

    def refused(self, response: web.StreamResponse) -> bool:
        # Kraken refuses with HTTP 200 and a non-empty error list (wire.error writes it first).
        body = response.body if isinstance(response, web.Response) else None
        return response.status >= 400 or (isinstance(body, bytes) and body.startswith(b'{"error":["'))

    def build_venue(self, catalog: Catalog, seed: int) -> Venue:
        return listing.build_venue(catalog, seed)

    def mint_key(self) -> tuple[str, str]:
        api_key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(56))
        return api_key, base64.b64encode(secrets.token_bytes(64)).decode()

    def identity(self, account: Account) -> str:
        return ids.iban(f"{account.uid}:{account.id}")

    def add_routes(self, app: web.Application, world: World) -> None:
        app.router.add_route("*", self.prefix + "/0/public/{method}", _public(world))
        app.router.add_post(self.prefix + "/0/private/{method}", _private(world))

    def costs(self) -> dict[str, Any]:
        return {
            f"/0/private/{name}": {"weight": route.cost, "buckets": [CALL_COUNTER.name]}
            for name, route in PRIVATE.items()
        } | {f"/0/public/{name}": {"weight": 0, "buckets": []} for name in PUBLIC}

    # -- the middleware's view -----------------------------------------------------------------

    def cost(self, request: web.Request) -> RouteCost:
        path = request.path.removeprefix(self.prefix)
        route = PRIVATE.get(path.removeprefix("/0/private/")) if path.startswith("/0/private/") else None
        if path.startswith("/0/private/"):
            return RouteCost(route.cost if route else 1, (CALL_COUNTER,), path)
        return RouteCost(0, (), path)

    def presented_key(self, request: web.Request) -> str | None:
        return request.headers.get("API-Key") or None

    def maintenance_exempt(self, request: web.Request) -> bool:
        return request.path.removeprefix(self.prefix + "/0/public/") in MAINTENANCE_EXEMPT

    def maintenance_response(self) -> web.Response:
        # docs.kraken.com Spot Error Messages: EService:Unavailable, "the matching engine or API
        # is offline"; SystemStatus says "maintenance" meanwhile.
        return wire.error(wire.UNAVAILABLE)

    def rate_limited_response(self, bucket: Bucket, limit: int, retry_after_s: int) -> web.Response:
        return wire.error(wire.RATE_LIMITED)

    def banned_response(self, bucket: Bucket, until_ms: int, retry_after_s: int) -> web.Response:
        return wire.error(wire.LOCKED_OUT)

    def server_error_response(self, status: int) -> web.Response:
        # 503: Kraken's own "EService:Busy" (ccxt: ExchangeNotAvailable); 52x: Cloudflare's
        # "error code: 52x"; 502/504: the edge's HTML pages; anything else EGeneral:Internal error.
        if status == 503:
            return wire.error(wire.BUSY, status)
        page = edge.cloudflare_page(status) or edge.nginx_page(status)
        return page if page is not None else wire.error(wire.INTERNAL_ERROR, status)

    def export(self, world: World, account: Account, name: str) -> str:
        return exports.export(world, account, name)

    def exports_show(self, transfer: Transfer) -> bool:
        # The exports hold transfers only as ledger entries: a deposit once credited, a withdrawal
        # when debited (with a refund entry if it failed), so not a pending state.
        return transfer.status != "pending" and (transfer.kind == "withdrawal" or transfer.status == "ok")

    # -- ground truth ------------------------------------------------------------------------

    def trade_truth(self, world: World, account: Account, trade: Trade) -> dict[str, Any]:
        market = world.venue(self.name).markets[trade.symbol]
        return trade_record(
            trade,
            market,
            id=render.trade_txid(world, account, trade),
            order_id=render.order_txid(world, account, trade),
            timestamp=wire.ccxt_ms(render.trade_time(trade)),
        )

    def transfer_id(self, world: World, account: Account, transfer: Transfer) -> str:
        return render.transfer_refid(world, account, transfer)

    def transfer_truth(self, world: World, account: Account, transfer: Transfer) -> dict[str, Any]:
        # ccxt kraken.parse_transaction: id = refid, address = info, network only on withdrawals
        # (parse_network maps Kraken's names), timestamp from whole seconds, "" reads as None.
        asset = world.catalog.assets[transfer.asset]
        network = None
        if transfer.kind == "withdrawal" and transfer.network:
            name = codes.network_name(transfer.network, asset)
            network = codes.CCXT_NETWORKS.get(name, name)
        return transfer_record(
            id=self.transfer_id(world, account, transfer),
            currency=transfer.asset,
            amount=transfer.amount,
            fee=transfer.fee,
            network=network,
            address=transfer.address or None,
            txid=transfer.txid or None,
            status=render.STATUSES[transfer.kind][transfer.status][2],
            timestamp=wire.ccxt_ms(str(transfer.time // 1000)),
        )

    def ledger_truth(
        self, world: World, account: Account, entries: list[LedgerEntry]
    ) -> list[dict[str, Any]]:
        return [
            ledger_record(
                id=render.ledger_id(world, account, entry),
                refid=render.refid(world, account, entry),
                type=render.LEDGER_TYPES[entry.type],
                currency=entry.asset,
                amount=entry.amount,
                fee=entry.fee,
                balance=entry.balance,
                timestamp=wire.ccxt_ms(render.ledger_time(entry)),
            )
            for entry in entries
        ]


def _public(world: World) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        handler = PUBLIC.get(request.match_info["method"])
        if handler is None:
            return wire.error(wire.UNKNOWN_METHOD)
        params = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            params |= (await auth.form(request))[1]
        return await handler(world, request, params)

    return handle


def _private(world: World) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        route = PRIVATE.get(request.match_info["method"])
        if route is None:
            return wire.error(wire.UNKNOWN_METHOD)
        signed = await auth.authenticate(world, request, route.permission)
        if isinstance(signed, web.Response):
            return signed
        try:
            return await route.handler(world, signed)
        except ArgumentError:
            return wire.error(wire.INVALID_ARGUMENTS)  # the bad parameter is not named, as on Kraken

    return handle

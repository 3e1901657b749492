"""Coinbase Advanced Trade (v3) and the v2 App ("track") API under /coinbase, close enough to the
real REST APIs for ccxt.coinbase.

Paths mirror Coinbase's: GET /coinbase/api/v3/brokerage/accounts is GET
https://api.coinbase.com/api/v3/brokerage/accounts, GET /coinbase/v2/accounts is
https://api.coinbase.com/v2/accounts (ccxt's `rest` URL rebased). Private requests carry a CDP
key's ES256 JWT (`auth`); errors come with HTTP statuses (4xx/5xx), in the v3 or v2 shape of the
API asked (`wire`). Keys are CDP key names and EC private keys in PEM; the account identity the
API exposes is the user's uuid (GET /v2/user data.id, every fill's user_id: `identity`). Rate
limits: `ratelimits`. Coinbase serves its whole history (`retention_days` empty).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator import edge
from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.ledger import LedgerEntry
from exchange_sync.simulator.model import Account, Trade, Transfer
from exchange_sync.simulator.protocol import ExchangeProtocol, RouteCost
from exchange_sync.simulator.protocols.coinbase import (
    account,
    auth,
    codes,
    exports,
    fills,
    funding,
    listing,
    market_data,
    render,
    wire,
)
from exchange_sync.simulator.protocols.coinbase.paging import ArgumentError
from exchange_sync.simulator.protocols.coinbase.ratelimits import V2_PRIVATE, V3_PRIVATE, V3_PUBLIC
from exchange_sync.simulator.ratelimit import Bucket
from exchange_sync.simulator.truth import ledger_record, trade_record, transfer_record
from exchange_sync.simulator.venue import Venue

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

PublicHandler = Callable[["World", web.Request], Awaitable[web.Response]]
PrivateHandler = Callable[..., Awaitable[web.Response]]
V3 = "/api/v3/brokerage/"
V2 = "/v2/"


@dataclass(frozen=True, slots=True)
class Private:
    handler: PrivateHandler
    permission: str = auth.CAN_VIEW
    with_request: bool = False  # the handler reads the request itself (path ids, repeated params)


PUBLIC: dict[str, PublicHandler] = {
    V3 + "market/products": market_data.products,
    V3 + "time": market_data.v3_time,
    V2 + "currencies": market_data.currencies,
    V2 + "currencies/crypto": market_data.crypto_currencies,
    V2 + "exchange-rates": market_data.exchange_rates,
    V2 + "time": market_data.v2_time,
}
PRIVATE: dict[str, Private] = {
    V3 + "accounts": Private(account.v3_accounts),
    V3 + "accounts/{account_uuid}": Private(account.v3_account, with_request=True),
    V3 + "key_permissions": Private(account.key_permissions),
    V3 + "orders/historical/fills": Private(fills.list_fills, with_request=True),
    V3 + "transaction_summary": Private(market_data.transaction_summary),
    V2 + "accounts": Private(account.v2_accounts),
    V2 + "accounts/{account_id}": Private(account.v2_account, with_request=True),
    V2 + "accounts/{account_id}/transactions": Private(funding.transactions, with_request=True),
    V2 + "accounts/{account_id}/deposits": Private(funding.deposits, with_request=True),
    V2 + "accounts/{account_id}/withdrawals": Private(funding.withdrawals, with_request=True),
    V2 + "user": Private(account.v2_user),
}
MAINTENANCE_EXEMPT = (V3 + "time", V2 + "time")


class CoinbaseProtocol(ExchangeProtocol):
    name = "coinbase"
    prefix = auth.PREFIX
    permissions = auth.PERMISSIONS
    read_permissions = auth.READ_PERMISSIONS
    stream_permissions = dict.fromkeys(
        ("balances", "trades", "deposits", "withdrawals", "ledger"), auth.CAN_VIEW
    )
    # A deposit shows once credited (render's docstring), so it only ever reaches ok here.
    settles = {"deposit": ("ok",), "withdrawal": ("ok", "failed", "canceled")}
    buckets = (V3_PRIVATE, V3_PUBLIC, V2_PRIVATE)
    has_ledger = True
    retention_days: dict[str, int] = {}
    export_names = (exports.REPORT,)

    def build_venue(self, catalog: Catalog, seed: int) -> Venue:
        return listing.build_venue(catalog, seed)

    def mint_key(self) -> tuple[str, str]:
        return auth.mint_key()

    def identity(self, account: Account) -> str:
        return render.user_id(account)

    def add_routes(self, app: web.Application, world: World) -> None:
        for path, handler in PUBLIC.items():
            app.router.add_get(self.prefix + path, _public(world, handler))
        for path, route in PRIVATE.items():
            app.router.add_get(self.prefix + path, _private(world, route, path.startswith(V2)))
        app.router.add_route("*", self.prefix + "/{tail:.*}", _not_found)

    def costs(self) -> dict[str, Any]:
        public = {path: {"weight": 1, "buckets": [V3_PUBLIC.name]} for path in PUBLIC}
        private = {
            path: {"weight": 1, "buckets": [(V2_PRIVATE if path.startswith(V2) else V3_PRIVATE).name]}
            for path in PRIVATE
        }
        return public | private

    # -- the middleware's view -----------------------------------------------------------------

    def cost(self, request: web.Request) -> RouteCost:
        path = request.path.removeprefix(self.prefix)
        if path in PUBLIC:
            return RouteCost(1, (V3_PUBLIC,), path)
        return RouteCost(1, (V2_PRIVATE if path.startswith(V2) else V3_PRIVATE,), path)

    def presented_key(self, request: web.Request) -> str | None:
        return auth.presented_key(request.headers.get("Authorization"))

    def maintenance_exempt(self, request: web.Request) -> bool:
        return request.path.removeprefix(self.prefix) in MAINTENANCE_EXEMPT

    def maintenance_response(self) -> web.Response:
        # status.coinbase.com announces maintenance; the API answers 503 meanwhile. The body is
        # a simulator convention (plain text: ccxt maps the status to ExchangeNotAvailable).
        return web.Response(
            status=503, text="Service Unavailable: scheduled maintenance", content_type="text/plain"
        )

    def rate_limited_response(self, bucket: Bucket, limit: int, retry_after_s: int) -> web.Response:
        # Coinbase App API errors: 429 rate_limit_exceeded "Too many requests" (ccxt:
        # RateLimitExceeded); the Advanced Trade API answers 429 as well (same body here:
        # simulator convention).
        response = wire.v2_error(429, "rate_limit_exceeded", "Too many requests")
        response.headers["Retry-After"] = str(retry_after_s)
        return response

    def banned_response(self, bucket: Bucket, until_ms: int, retry_after_s: int) -> web.Response:
        return self.rate_limited_response(bucket, 0, retry_after_s)  # Coinbase documents no ban

    def server_error_response(self, status: int) -> web.Response:
        # api.coinbase.com sits behind Cloudflare: 52x are its texts, 502/504 its edge pages;
        # 500 is the API's own internal_server_error, 503 a plain "Service Unavailable".
        page = edge.cloudflare_page(status) or edge.nginx_page(status)
        if page is not None and status != 503:
            return page
        if status == 503:
            return web.Response(status=503, text="Service Unavailable", content_type="text/plain")
        return wire.v2_error(status, "internal_server_error", "Internal server error")

    def export(self, world: World, account: Account, name: str) -> str:
        if name != exports.REPORT:
            raise KeyError(name)
        return exports.transaction_report(world, account)

    # -- ground truth ------------------------------------------------------------------------

    def trade_truth(self, world: World, account: Account, trade: Trade) -> dict[str, Any]:
        # ccxt coinbase.parse_trade of a fill: id = trade_id, order = order_id, timestamp =
        # parse8601(trade_time) (ms), amount = size (or size / price when size_in_quote), cost =
        # price x amount, fee = commission in the market's quote.
        market = world.venue(self.name).markets[trade.symbol]
        return trade_record(
            trade,
            market,
            id=render.trade_id(world, account, trade),
            order_id=render.order_id(world, account, trade),
            timestamp=wire.ms_of(render.trade_time(trade)),
        )

    def shows(self, transfer: Transfer) -> bool:
        # A deposit has a transaction once credited (render's docstring): not while pending, and
        # never if it failed.
        return transfer.kind != "deposit" or transfer.status == "ok"

    def transfer_id(self, world: World, account: Account, transfer: Transfer) -> str:
        return render.transfer_tx_id(world, account, transfer)

    def transfer_truth(self, world: World, account: Account, transfer: Transfer) -> dict[str, Any]:
        # ccxt coinbase.parse_transaction of the transfer's v2 transaction (funding.transactions):
        # id = the transaction id; a send: amount = |amount|, fee = network.transaction_fee (none
        # on deposits), txid =
        # network.hash, network = network_id_to_code(network.network_name), address = to.address
        # (withdrawals); fiat: amount = subtotal or |amount|, fee = fee (withdrawals), txid = the
        # transaction id (ccxt falls back to it without a hash); status by parse_transaction_status;
        # timestamp = parse8601(created_at).
        status = render.STATUSES[transfer.status]
        fee = transfer.fee if transfer.kind == "withdrawal" else None
        network = None
        if transfer.network:
            crypto = market_data.crypto_assets(world)
            network = codes.ccxt_network(
                codes.network_name(transfer.network, world.catalog.assets[transfer.asset]), crypto
            )
        ident = self.transfer_id(world, account, transfer)
        return transfer_record(
            id=ident,
            currency=transfer.asset,
            amount=transfer.amount,
            fee=fee,
            network=network,
            address=(transfer.address or None)
            if transfer.kind == "withdrawal" and transfer.network
            else None,
            txid=(transfer.txid or ident) if transfer.network else ident,
            status=render.CCXT_STATUSES.get(status, status),
            timestamp=wire.ms_of(wire.rfc3339(render.credited_at(transfer))),
        )

    def ledger_truth(
        self, world: World, account: Account, entries: list[LedgerEntry]
    ) -> list[dict[str, Any]]:
        # ccxt coinbase.parse_ledger_entry: id = the transaction id, no referenceId and no balance
        # after, type = the native type (ccxt maps send/fiat_* to "transaction"), amount as shown
        # (signed here), fee = network.transaction_fee (sends out only), timestamp = created_at
        # (a deposit's is its creation, though it is booked when credited: the list stays in
        # booking order, so timestamps need not rise along it).
        return [
            ledger_record(
                id=render.tx_id(world, account, entry),
                refid=None,
                type=render.tx_type(entry),
                currency=entry.asset,
                amount=render.tx_amount(entry),
                fee=render.ccxt_fee(entry),
                balance=None,
                timestamp=wire.ms_of(render.tx_created(entry)),
            )
            for entry in entries
        ]


async def _not_found(request: web.Request) -> web.Response:
    return wire.v2_error(404, "not_found", "Not found")


def _public(world: World, handler: PublicHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        return await handler(world, request)

    return handle


def _private(world: World, route: Private, v2: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        signed = auth.authenticate(world, request, route.permission, v2)
        if isinstance(signed, web.Response):
            return signed
        try:
            if route.with_request:
                return await route.handler(world, signed, request)
            return await route.handler(world, signed)
        except ArgumentError as exc:
            if v2:
                return wire.v2_error(400, "invalid_request", f"invalid {exc}")
            return wire.v3_error(400, "INVALID_ARGUMENT", f"invalid {exc}")

    return handle

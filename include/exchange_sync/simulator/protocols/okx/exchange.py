"""OKX spot (API v5) under /okx, close enough to the real REST API for ccxt.okx.

Paths mirror OKX's (GET /okx/api/v5/account/balance is GET https://www.okx.com/api/v5/account/
balance: ccxt's `rest` URL https://{hostname} rebased onto {simulator}/okx). Every answer is JSON
{"code", "msg", "data": [...]}: code "0" on success, OKX's error code otherwise, with the HTTP
status of its error table (`wire`, `auth`). An unknown path answers HTTP 404 {"code":"404",
"data":[],"msg":"Not Found"} (simulator convention). Keys are UUIDs, secrets 32 upper-case hex
characters, passphrases 8-32 characters with upper and lower case, a digit and a symbol (the
shape OKX requires when a key is made). The account identity is account/config's `uid`.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator import edge
from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.ledger import LedgerEntry
from exchange_sync.simulator.model import Account, Trade, Transfer
from exchange_sync.simulator.protocol import ExchangeProtocol, RouteCost
from exchange_sync.simulator.protocols.okx import (
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
from exchange_sync.simulator.protocols.okx.auth import Signed
from exchange_sync.simulator.protocols.okx.ratelimits import BUCKETS, ROUTE_LIMITS
from exchange_sync.simulator.ratelimit import Bucket
from exchange_sync.simulator.truth import ledger_record, trade_record, transfer_record
from exchange_sync.simulator.venue import Venue

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

PublicHandler = Callable[["World", web.Request], Awaitable[web.Response]]
PrivateHandler = Callable[["World", Signed], Awaitable[web.Response]]
API = "/api/v5/"
_SYMBOLS = "!@#$%^&*"


@dataclass(frozen=True, slots=True)
class Private:
    handler: PrivateHandler
    permission: str | None  # None: no permission needed


PUBLIC: dict[str, PublicHandler] = {
    "public/time": market_data.server_time,
    "system/status": market_data.system_status,
    "public/instruments": market_data.instruments,
}
MAINTENANCE_EXEMPT = ("public/time", "system/status")
PRIVATE: dict[str, Private] = {
    "account/balance": Private(account.balance, auth.READ_ONLY),
    "account/config": Private(account.config, None),
    "trade/fills": Private(account.fills, auth.READ_ONLY),
    "trade/fills-history": Private(account.fills_history, auth.READ_ONLY),
    "account/bills": Private(account.bills, auth.READ_ONLY),
    "account/bills-archive": Private(account.bills_archive, auth.READ_ONLY),
    "asset/deposit-history": Private(funding.deposit_history, auth.READ_ONLY),
    "asset/withdrawal-history": Private(funding.withdrawal_history, auth.READ_ONLY),
    "asset/currencies": Private(funding.currencies, auth.READ_ONLY),
}


class OkxProtocol(ExchangeProtocol):
    name = "okx"
    prefix = auth.PREFIX
    permissions = auth.PERMISSIONS
    read_permissions = auth.READ_PERMISSIONS
    stream_permissions = {
        "balances": auth.READ_ONLY,
        "trades": auth.READ_ONLY,
        "deposits": auth.READ_ONLY,
        "withdrawals": auth.READ_ONLY,
        "ledger": auth.READ_ONLY,
    }
    settles = {kind: tuple(s for s in table if s != "pending") for kind, table in render.STATES.items()}
    buckets = BUCKETS
    has_ledger = True
    retention_days = {"trades": account.FILLS_HISTORY_DAYS, "ledger": account.BILLS_ARCHIVE_DAYS}
    export_names = exports.NAMES

    def build_venue(self, catalog: Catalog, seed: int) -> Venue:
        return listing.build_venue(catalog, seed)

    def mint_key(self) -> tuple[str, str]:
        return str(uuid.uuid4()), secrets.token_hex(16).upper()

    def mint_passphrase(self) -> str:
        # One of each class OKX requires, then 12 more, shuffled.
        alphabet = string.ascii_letters + string.digits + _SYMBOLS
        chars = [secrets.choice(group) for group in (string.ascii_uppercase, string.ascii_lowercase)]
        chars += [secrets.choice(string.digits), secrets.choice(_SYMBOLS)]
        chars += [secrets.choice(alphabet) for _ in range(12)]
        secrets.SystemRandom().shuffle(chars)
        return "".join(chars)

    def identity(self, account: Account) -> str:
        return ids.uid(f"{account.uid}:{account.id}")

    def add_routes(self, app: web.Application, world: World) -> None:
        app.router.add_route("*", self.prefix + API + "{path:.+}", _handle(world))

    def costs(self) -> dict[str, Any]:
        return {route: {"weight": 1, "buckets": [bucket.name]} for route, bucket in ROUTE_LIMITS.items()}

    # -- the middleware's view -----------------------------------------------------------------

    def cost(self, request: web.Request) -> RouteCost:
        route = request.path.removeprefix(self.prefix)
        bucket = ROUTE_LIMITS.get(route)
        return RouteCost(1, (bucket,), route) if bucket is not None else RouteCost(0, (), route)

    def presented_key(self, request: web.Request) -> str | None:
        return request.headers.get("OK-ACCESS-KEY") or None

    def maintenance_exempt(self, request: web.Request) -> bool:
        return request.path.removeprefix(self.prefix + API) in MAINTENANCE_EXEMPT

    def refused(self, response: web.StreamResponse) -> bool:
        # OKX refuses some requests with HTTP 200 and a non-zero code (wire writes "code" first).
        body = response.body if isinstance(response, web.Response) else None
        return response.status >= 400 or (isinstance(body, bytes) and not body.startswith(b'{"code":"0"'))

    def maintenance_response(self) -> web.Response:
        # docs-v5 error codes: 50001 "Service temporarily unavailable. Try again later" (HTTP 503),
        # what OKX answers while a system upgrade is "ongoing" (ccxt: OnMaintenance).
        return wire.error("50001", "Service temporarily unavailable. Try again later", 503)

    def rate_limited_response(self, bucket: Bucket, limit: int, retry_after_s: int) -> web.Response:
        response = wire.raw_reply(b'{"msg":"Too Many Requests","code":"50011"}', 429)
        response.headers["Retry-After"] = str(retry_after_s)
        return response

    def banned_response(self, bucket: Bucket, until_ms: int, retry_after_s: int) -> web.Response:
        return self.rate_limited_response(bucket, 0, retry_after_s)  # OKX has no bans: just 50011

    def server_error_response(self, status: int) -> web.Response:
        # 500: 50026 "System error" and 503: 50013 "System is busy" (ccxt: ExchangeNotAvailable);
        # 504: 50004 "API endpoint request timeout" (RequestTimeout); others: the edge's pages.
        known = {
            500: ("50026", "System error. Try again later"),
            503: ("50013", "Systems are busy. Please try again later"),
            504: ("50004", "API endpoint request timeout"),
        }
        if status in known:
            return wire.error(*known[status], status)
        page = edge.cloudflare_page(status) or edge.nginx_page(status)
        return page if page is not None else wire.error("50026", "System error. Try again later", status)

    def export(self, world: World, account: Account, name: str) -> str:
        return exports.export(world, account, name)

    def exports_show(self, transfer: Transfer) -> bool:
        # The funding history is the funding account's bills: a deposit appears once credited, a
        # withdrawal when debited (shown done until a refund line follows), so no pending state.
        return transfer.status != "pending"

    # -- ground truth ------------------------------------------------------------------------

    def trade_truth(self, world: World, account: Account, trade: Trade) -> dict[str, Any]:
        # ccxt okx.parse_trade: id = tradeId, order = ordId, timestamp = ts, fee = -fee in feeCcy,
        # cost = price x amount (exact here: tick x lot fit the booked decimals).
        market = world.venue(self.name).markets[trade.symbol]
        return trade_record(
            trade,
            market,
            id=render.trade_id(trade),
            order_id=render.order_id(world, trade),
            timestamp=trade.time,
        )

    def transfer_id(self, world: World, account: Account, transfer: Transfer) -> str:
        return render.transfer_id(transfer)

    def transfer_truth(self, world: World, account: Account, transfer: Transfer) -> dict[str, Any]:
        # ccxt okx.parse_transaction: id = wdId or depId, address = `to`, network from the chain's
        # part after the first "-", fee 0 on deposits, "" reads as None.
        return transfer_record(
            id=render.transfer_id(transfer),
            currency=transfer.asset,
            amount=transfer.amount,
            fee=transfer.fee if transfer.kind == "withdrawal" else transfer.fee * 0,
            network=codes.ccxt_network(transfer.network),
            address=transfer.address or None,
            txid=transfer.txid or None,
            status=render.STATES[transfer.kind][transfer.status][1],
            timestamp=transfer.time,
        )

    def ledger_truth(
        self, world: World, account: Account, entries: list[LedgerEntry]
    ) -> list[dict[str, Any]]:
        # ccxt okx.parse_ledger_entry: id = billId, referenceId = ordId (None on transfers),
        # amount = balChg (net of the fee), fee = -fee, after = bal, type: the bill's `type`.
        bill_ids = render.ledger_index(world, account).bill_ids  # by entry.seq
        records = []
        for entry in entries:
            source, bill = entry.source, bill_ids[entry.seq]
            fee = entry.fee if isinstance(source, Trade) else entry.fee * 0
            records.append(
                ledger_record(
                    id=str(bill),
                    refid=render.order_id(world, source) if isinstance(source, Trade) else None,  # type: ignore[arg-type]
                    type=render.bill_type(entry)[0],
                    currency=entry.asset,
                    amount=entry.amount - entry.fee,
                    fee=fee,
                    balance=entry.balance,
                    timestamp=entry.time,
                )
            )
        return records


def _handle(world: World) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        path = request.match_info["path"]
        try:
            public = PUBLIC.get(path)
            if public is not None:
                return await public(world, request)
            route = PRIVATE.get(path)
            if route is None:
                return wire.error("404", "Not Found", 404)
            signed = await auth.authenticate(world, request, route.permission)
            if isinstance(signed, web.Response):
                return signed
            return await route.handler(world, signed)
        except wire.ParamError as exc:
            return exc.response

    return handle

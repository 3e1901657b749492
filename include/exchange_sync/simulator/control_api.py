"""The /_sim/ control API: ground truth, accounts, keys, account states, faults and settings.

JSON in, JSON out, no authentication (the simulator is a local test double), the same for every
registered exchange. Unknown accounts, keys and transfers answer 404, malformed bodies 400, both
as {"error": message, "field": name}. Every mutating call persists the world when it has a state
file. Amounts are canonical decimal strings (no exponent, no trailing zeros), never floats.

Routes: GET /_sim/health; GET /_sim/exchanges (per exchange: prefix, permissions, read_permissions
(a new key's default), stream_permissions, has_ledger, retention_days (stream -> days the API
serves, where it forgets), settles, rate_limits, costs); GET/POST /_sim/accounts (POST {"id",
"exchange", "seed", "trades", "symbols", "deposits", "withdrawals", "days"}); GET
/_sim/accounts/{id}; GET .../history; POST .../activity {"trades", "deposits", "withdrawals",
"pending_deposits", "pending_withdrawals"}; POST .../conversions {"count", "kind": "convert"|"dust"}
or {"from_asset", "from_amount", "to_asset", "to_amount", "kind"} (booked now; only exchanges
without a ledger API, 409 elsewhere: conversions.py); POST .../transfers/{transfer_id} {"status":
"ok"|"failed"|"canceled"} (a pending transfer reaches its final status now: a deposit is credited, a
failed or canceled withdrawal refunded); POST .../status {"status"}; GET/POST .../keys (POST
{"permissions" in the exchange's own names, "ip_allowlist", "expires_at"}); GET/PATCH
/_sim/keys/{api_key}; POST /_sim/keys/{api_key}/revoke|delete|expire (a new key's answer carries
`passphrase` where the exchange's keys have one); POST /_sim/maintenance; GET/POST/DELETE
/_sim/faults; GET/POST /_sim/ratelimit; GET/POST /_sim/clock; GET /_sim/requests?since=N; GET/POST
/_sim/notifications.

Ground truth (GET .../history) is what ccxt's unified parse of the account's exchange returns,
so a warehouse filled through ccxt can be compared with it field by field. It is the complete
history; `retention_days` and `server_time` say which part of each stream the API still serves.

* trades (oldest first): `id` = Trade.id (Binance: the per-symbol trade id; Kraken: the txid,
  TradesHistory's key), `order_id` = Trade.order, `symbol` = Trade.symbol (unified, BTC/USD),
  `market_id` = the native market id (BTCUSDT, XXBTZUSD), `side`, `price`, `amount`, `cost`,
  `fee` = Trade.fee.cost, `fee_currency` = Trade.fee.currency, `timestamp` = Trade.timestamp
  (Kraken: int(float(time) * 1000) of its float seconds, as ccxt computes it), `is_maker`;
* deposits and withdrawals (by creation time; those the exchange's API shows: Coinbase lists a
  deposit once credited, and `unlisted` holds the others): `id` = Transaction.id (Binance id;
  Kraken refid),
  `currency` (unified code), `amount`, `fee` = Transaction.fee.cost (None where ccxt has none),
  `network` = Transaction.network, `address` = Transaction.address, `txid` = Transaction.txid,
  `status` = Transaction.status, the CURRENT status exactly as ccxt's parse_transaction_status
  maps the native one (ok, pending, failed, canceled; Kraken shows a canceled withdrawal as
  Failure, which ccxt calls failed), `timestamp` = Transaction.timestamp; `unexported` lists
  (by kind) the ids of those the exchange's export files cannot hold as they are now (Kraken's
  ledger: a deposit not credited, a withdrawal still pending);
* conversions (oldest first): `id`, `kind` (convert, dust), `from_currency`, `from_amount`,
  `to_currency`, `to_amount`, `timestamp`: balance changes that no API stream returns;
* balances: {asset: {"free", "locked"}} = Balance[code].free / .used;
* ledger (oldest first; [] for exchanges without a ledger stream): `id` = LedgerEntry.id,
  `refid` = LedgerEntry.referenceId (the trade's txid, the transfer's refid), `type` = the
  native type (Kraken: trade, deposit, withdrawal, staking; ccxt maps deposit/withdrawal to
  "transaction"), `currency`, `amount` signed as the exchange shows it (ccxt: amount unsigned,
  direction in/out), `fee` = LedgerEntry.fee.cost, `balance` = LedgerEntry.after,
  `timestamp` = LedgerEntry.timestamp; `refid`, `fee` and `balance` are null where ccxt's parse
  has none (Coinbase: no referenceId and no balance after; a fee only on crypto sends). Balances
  always equal sum(amount - fee) per asset, a null fee counting as 0, except where the exchange's
  amount is already net of the fee (OKX: `amount` = balChg, the balance's whole change): there
  they equal sum(amount).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from exchange_sync.simulator import truth
from exchange_sync.simulator.conversions import Requested
from exchange_sync.simulator.decimals import canonical
from exchange_sync.simulator.faults import BAD_BODY_VARIANTS, FAULT_KINDS
from exchange_sync.simulator.model import ACCOUNT_STATUSES, FINAL_STATUSES, Account, AccountSpec
from exchange_sync.simulator.state import ACTIVITY_COUNTS, World, WorldError

_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, separators=(",", ":")))


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    return _reply({"error": message, "field": field}, status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise WorldError(400, "request body is not valid JSON", "body") from None
    if not isinstance(data, dict):
        raise WorldError(400, "request body must be a JSON object", "body")
    return data


def _int(
    body: dict[str, Any], name: str, default: int, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WorldError(400, f"{name} must be an integer", name)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise WorldError(400, f"{name} must be between {minimum} and {maximum}", name)
    return value


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise WorldError(400, f"{name} must be true or false", name)
    return value


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise WorldError(400, f"{name} must be a string", name)
    return value


def _permissions(body: dict[str, Any], names: tuple[str, ...], default: tuple[str, ...] | None) -> list[str]:
    """The key's permissions in its exchange's own names (GET /_sim/exchanges lists them)."""
    value = body.get("permissions", None if default is None else list(default))
    if not isinstance(value, list) or any(p not in names for p in value):
        raise WorldError(400, f"permissions must be a list drawn from {list(names)}", "permissions")
    return sorted(set(value), key=names.index)


def _ip_allowlist(body: dict[str, Any]) -> list[str]:
    value = body.get("ip_allowlist", [])
    if not isinstance(value, list):
        raise WorldError(400, "ip_allowlist must be a list of IP addresses or CIDR ranges", "ip_allowlist")
    for entry in value:
        try:
            ipaddress.ip_network(str(entry), strict=False)
        except ValueError:
            raise WorldError(
                400, f"ip_allowlist entry {entry!r} is not an IP address or CIDR range", "ip_allowlist"
            ) from None
    return [str(entry) for entry in value]


def _expires_at(body: dict[str, Any]) -> int | None:
    value = body.get("expires_at")
    if value is None:
        return None
    if isinstance(value, bool):
        raise WorldError(400, "expires_at must be epoch milliseconds, ISO-8601 or null", "expires_at")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise WorldError(400, f"expires_at {value!r} is not ISO-8601", "expires_at") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    raise WorldError(400, "expires_at must be epoch milliseconds, ISO-8601 or null", "expires_at")


def _requested_conversion(body: dict[str, Any], kind: str) -> Requested:
    values: dict[str, Any] = {}
    for name in ("from_asset", "to_asset"):
        if not isinstance(body.get(name), str):
            raise WorldError(400, f"{name} must be an asset code", name)
        values[name] = body[name]
    for name in ("from_amount", "to_amount"):
        text = body.get(name)
        try:
            amount = Decimal(text) if isinstance(text, str) else None
        except ArithmeticError:
            amount = None
        if amount is None or not amount.is_finite() or canonical(amount) != text:
            raise WorldError(400, f'{name} must be a decimal string such as "0.5"', name)
        values[name] = amount
    return Requested(kind=kind, **values)


async def _in_the_past(world: World, account: Account) -> None:
    """Events follow everything the account has, so a burst of calls can stamp them a little
    ahead of the clock: answer once they are in the past, as a real exchange's would be."""
    ahead_ms = account.last_event_time - world.now_ms()
    if ahead_ms >= 0:
        await asyncio.sleep(min(ahead_ms + 1, 120_000) / 1000)


# -- views ------------------------------------------------------------------------------------


def account_view(world: World, account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "exchange": account.exchange,
        "uid": world.protocol(account.exchange).identity(account),
        "status": account.status,
        "counts": {
            "trades": account.trade_count(),
            "deposits": len(account.deposits),
            "withdrawals": len(account.withdrawals),
        },
        "markets": list(account.markets),
        "market_ids": [world.venue(account.exchange).markets[s].id for s in account.markets],
        "delisted": sorted(account.delisted),
    }


# -- routes -----------------------------------------------------------------------------------


def add_routes(app: web.Application, world: World) -> None:
    routes = web.RouteTableDef()

    @routes.get("/_sim/health")
    async def health(request: web.Request) -> web.Response:
        return _reply({"status": "ok"})

    # A notification inbox for the demo: Apprise's json:// service posts here (no real Slack or
    # mail server on a laptop), and GET shows what arrived. In memory only.
    inbox: list[dict[str, Any]] = []

    @routes.post("/_sim/notifications")
    async def receive_notification(request: web.Request) -> web.Response:
        inbox.append({"received_at": world.now_ms(), **(await _body(request))})
        return _reply({"received": len(inbox)})

    @routes.get("/_sim/notifications")
    async def list_notifications(request: web.Request) -> web.Response:
        return _reply({"notifications": inbox})

    @routes.get("/_sim/accounts")
    async def list_accounts(request: web.Request) -> web.Response:
        return _reply({"accounts": [account_view(world, a) for a in world.accounts.values()]})

    @routes.get("/_sim/exchanges")
    async def exchanges(request: web.Request) -> web.Response:
        return _reply({"exchanges": {name: p.describe(world) for name, p in world.protocols.items()}})

    @routes.post("/_sim/accounts")
    async def create_account(request: web.Request) -> web.Response:
        body = await _body(request)
        account_id = body.get("id")
        if not isinstance(account_id, str) or not _ACCOUNT_ID.match(account_id):
            raise WorldError(400, "id must be 1-64 characters from A-Z a-z 0-9 _ . -", "id")
        exchange = body.get("exchange", "binance")
        if not isinstance(exchange, str):
            raise WorldError(400, "exchange must be a string", "exchange")
        world.protocol(exchange)
        spec = AccountSpec(
            id=account_id,
            exchange=exchange,
            seed=_int(body, "seed", 0),
            trades=_int(body, "trades", 100, 0, 2_000_000),
            symbols=_int(body, "symbols", 5, 1, 100),
            deposits=_int(body, "deposits", 10, 0, 100_000),
            withdrawals=_int(body, "withdrawals", 5, 0, 100_000),
            days=_int(body, "days", 365, 1, 3650),
        )
        if spec.trades > 0 and spec.deposits == 0:
            raise WorldError(
                400, "an account with trades needs at least one deposit to fund them", "deposits"
            )
        return _reply(account_view(world, world.add_account(spec)), 201)

    @routes.get("/_sim/accounts/{account}")
    async def get_account(request: web.Request) -> web.Response:
        return _reply(account_view(world, world.account(request.match_info["account"])))

    @routes.get("/_sim/accounts/{account}/history")
    async def history(request: web.Request) -> web.Response:
        return _reply(truth.history(world, world.account(request.match_info["account"])))

    @routes.get("/_sim/accounts/{account}/exports/{name}")
    async def export(request: web.Request) -> web.Response:
        """One of the exchange's export files for the account, in the exchange's real format."""
        account = world.account(request.match_info["account"])
        protocol, name = world.protocol(account.exchange), request.match_info["name"]
        if name not in protocol.export_names:
            known = ", ".join(protocol.export_names) or "none"
            return _error(404, f"{account.exchange} has no export {name!r} (it has: {known})", "name")
        return web.Response(text=protocol.export(world, account, name), content_type="text/csv")

    @routes.post("/_sim/accounts/{account}/activity")
    async def activity(request: web.Request) -> web.Response:
        account = world.account(request.match_info["account"])
        body = await _body(request)
        limits = {name: 100_000 if name == "trades" else 10_000 for name in ACTIVITY_COUNTS}
        trades, deposits, withdrawals = world.add_activity(
            account.id, {name: _int(body, name, 0, 0, limit) for name, limit in limits.items()}
        )
        await _in_the_past(world, account)
        protocol = world.protocol(account.exchange)
        return _reply(
            {
                "trades": [protocol.trade_truth(world, account, t) for t in trades],
                "deposits": [protocol.transfer_truth(world, account, d) for d in deposits],
                "withdrawals": [protocol.transfer_truth(world, account, w) for w in withdrawals],
            },
            201,
        )

    @routes.post("/_sim/accounts/{account}/conversions")
    async def conversions(request: web.Request) -> web.Response:
        account = world.account(request.match_info["account"])
        body = await _body(request)
        kind = body.get("kind", "convert")
        if not isinstance(kind, str):
            raise WorldError(400, "kind must be a string", "kind")
        requested = _requested_conversion(body, kind) if "from_asset" in body else None
        made = world.add_conversions(account.id, _int(body, "count", 1, 1, 1000), kind, requested)
        await _in_the_past(world, account)
        return _reply({"conversions": [truth.conversion_record(c) for c in made]}, 201)

    @routes.post("/_sim/accounts/{account}/transfers/{transfer_id}")
    async def settle_transfer(request: web.Request) -> web.Response:
        account = world.account(request.match_info["account"])
        body = await _body(request)
        status = body.get("status")
        if status not in FINAL_STATUSES:
            raise WorldError(400, f"status must be one of {list(FINAL_STATUSES)}", "status")
        transfer = world.settle(account.id, request.match_info["transfer_id"], status)
        return _reply(world.protocol(account.exchange).transfer_truth(world, account, transfer))

    @routes.post("/_sim/accounts/{account}/delisted")
    async def delist(request: web.Request) -> web.Response:
        """A market delisted for the account: its trades there vanish from the API, not from its
        history or exports (a protocol without trade delisting ignores it)."""
        account_id = request.match_info["account"]
        world.account(account_id)
        symbol = (await _body(request)).get("symbol")
        if not isinstance(symbol, str) or not symbol:
            raise WorldError(400, "symbol must be a unified market symbol such as 'ETH/BTC'", "symbol")
        return _reply(account_view(world, world.delist(account_id, symbol)))

    @routes.post("/_sim/accounts/{account}/status")
    async def set_status(request: web.Request) -> web.Response:
        account_id = request.match_info["account"]
        world.account(account_id)
        body = await _body(request)
        status = body.get("status")
        if status not in ACCOUNT_STATUSES:
            raise WorldError(400, f"status must be one of {list(ACCOUNT_STATUSES)}", "status")
        return _reply(account_view(world, world.set_status(account_id, status)))

    @routes.post("/_sim/accounts/{account}/keys")
    async def create_key(request: web.Request) -> web.Response:
        account = world.account(request.match_info["account"])
        protocol = world.protocol(account.exchange)
        body = await _body(request)
        permissions = _permissions(body, protocol.permissions, protocol.read_permissions)
        key = world.create_key(account.id, permissions, _ip_allowlist(body), _expires_at(body))
        view = {
            "api_key": key.api_key,
            "secret": key.secret,
            "permissions": key.permissions,
            "ip_allowlist": key.ip_allowlist,
            "expires_at": key.expires_at,
            "state": key.state,
        }
        # The passphrase only where the exchange's keys have one (OKX), as its key page shows it.
        return _reply(view | ({"passphrase": key.passphrase} if key.passphrase else {}), 201)

    @routes.get("/_sim/accounts/{account}/keys")
    async def list_keys(request: web.Request) -> web.Response:
        account = world.account(request.match_info["account"])
        now = world.now_ms()
        return _reply({"keys": [k.public(now) for k in world.keys.values() if k.account_id == account.id]})

    @routes.get("/_sim/keys/{api_key}")
    async def get_key(request: web.Request) -> web.Response:
        return _reply(world.key(request.match_info["api_key"]).public(world.now_ms()))

    @routes.post("/_sim/keys/{api_key}/{action}")
    async def key_action(request: web.Request) -> web.Response:
        key = world.key(request.match_info["api_key"])
        action = request.match_info["action"]
        if action == "revoke":
            key.state = "revoked"
        elif action == "delete":
            key.state = "deleted"
        elif action == "expire":
            key.expires_at = world.now_ms() - 1000
        else:
            raise WorldError(404, f"unknown key action {action!r} (revoke, delete, expire)", "action")
        world.save()
        return _reply(key.public(world.now_ms()))

    @routes.patch("/_sim/keys/{api_key}")
    async def update_key(request: web.Request) -> web.Response:
        key = world.key(request.match_info["api_key"])
        body = await _body(request)
        unknown = set(body) - {"permissions", "ip_allowlist", "expires_at"}
        if unknown:
            raise WorldError(400, f"unknown field {sorted(unknown)[0]!r}", sorted(unknown)[0])
        if "permissions" in body:
            protocol = world.protocol(world.account(key.account_id).exchange)
            key.permissions = _permissions(body, protocol.permissions, None)
        if "ip_allowlist" in body:
            key.ip_allowlist = _ip_allowlist(body)
        if "expires_at" in body:
            key.expires_at = _expires_at(body)
        world.save()
        return _reply(key.public(world.now_ms()))

    @routes.post("/_sim/maintenance")
    async def maintenance(request: web.Request) -> web.Response:
        body = await _body(request)
        world.maintenance = _bool(body, "enabled")
        world.save()
        return _reply({"maintenance": world.maintenance})

    @routes.post("/_sim/faults")
    async def add_fault(request: web.Request) -> web.Response:
        body = await _body(request)
        kind = body.get("kind")
        if kind not in FAULT_KINDS:
            raise WorldError(400, f"kind must be one of {list(FAULT_KINDS)}", "kind")
        account = _optional_str(body, "account")
        if account is not None:
            world.account(account)
        variant = body.get("variant", "empty")
        if variant not in BAD_BODY_VARIANTS:
            raise WorldError(400, f"variant must be one of {list(BAD_BODY_VARIANTS)}", "variant")
        fault = world.faults.arm(
            kind,
            _int(body, "count", 1, 1, 1_000_000),
            status=_int(body, "status", 503, 500, 599),
            latency_ms=_int(body, "latency_ms", 1000, 0, 600_000),
            path_contains=_optional_str(body, "path_contains"),
            account=account,
            body=_optional_str(body, "body"),
            retry_after=_int(body, "retry_after", 10, 0, 86_400),
            variant=variant,
            skip=_int(body, "skip", 0, 0, 1_000_000),
        )
        return _reply(fault.to_json(), 201)

    @routes.get("/_sim/faults")
    async def list_faults(request: web.Request) -> web.Response:
        return _reply({"faults": [f.to_json() for f in world.faults.faults]})

    @routes.delete("/_sim/faults")
    async def clear_faults(request: web.Request) -> web.Response:
        return _reply({"cleared": world.faults.clear()})

    def ratelimit_view() -> dict[str, Any]:
        return {"enabled": world.ratelimit.enabled, "weight_per_minute": world.ratelimit.weight_per_minute}

    @routes.get("/_sim/ratelimit")
    async def get_ratelimit(request: web.Request) -> web.Response:
        return _reply(ratelimit_view())

    @routes.post("/_sim/ratelimit")
    async def set_ratelimit(request: web.Request) -> web.Response:
        body = await _body(request)
        if "enabled" in body:
            world.ratelimit.enabled = _bool(body, "enabled")
        if "weight_per_minute" in body:
            world.ratelimit.weight_per_minute = _int(body, "weight_per_minute", 6000, 1, 10**9)
        world.limiter.reset()  # a new setting starts from a clean window and lifts bans
        world.save()
        return _reply(ratelimit_view())

    @routes.get("/_sim/clock")
    async def get_clock(request: web.Request) -> web.Response:
        return _reply({"offset_ms": world.clock_offset_ms, "server_time": world.server_time_ms()})

    @routes.post("/_sim/clock")
    async def set_clock(request: web.Request) -> web.Response:
        body = await _body(request)
        world.clock_offset_ms = _int(body, "offset_ms", 0, -(10**12), 10**12)
        world.save()
        return _reply({"offset_ms": world.clock_offset_ms, "server_time": world.server_time_ms()})

    @routes.get("/_sim/requests")
    async def requests(request: web.Request) -> web.Response:
        since_text = request.query.get("since", "0")
        if not re.fullmatch(r"\d{1,20}", since_text):
            raise WorldError(400, "since must be a non-negative integer", "since")
        entries = world.requests.since(int(since_text))
        return _reply({"requests": [e.to_json() for e in entries], "last_seq": world.requests.last_seq})

    app.router.add_routes(routes)


@web.middleware
async def world_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn WorldError into the control API's JSON error bodies."""
    try:
        return await handler(request)
    except WorldError as exc:
        return _error(exc.status, str(exc), exc.field)

"""Kraken private requests: signature, nonce, key and account checks, with Kraken's error strings.

Private calls are POSTs to /0/private/<Method> with a form-encoded (or JSON) body holding `nonce`;
the `API-Key` header names the key and `API-Sign` is base64(HMAC-SHA512(base64decode(secret),
uri_path + SHA256(nonce + POST body))) (docs.kraken.com "Spot REST Authentication"; ccxt
kraken.sign). The nonce must be larger than the last one the key used (keys here have no nonce
window). The checks run in this order; the first failure answers with HTTP 200 and
{"error": [<string>]}; the last column is the class ccxt 4.5.90's kraken.handle_errors raises.

 #  scenario                                        error string                 ccxt class
 1  API-Key missing, unknown, deleted or revoked;   EAPI:Invalid key             AuthenticationError
    the account is closed
 2  nonce missing or not a number                   EAPI:Invalid nonce           InvalidNonce
 3  API-Sign missing or wrong (wrong secret)        EAPI:Invalid signature       ExchangeError (*)
 4  nonce not above the key's last nonce            EAPI:Invalid nonce           InvalidNonce
 5  caller IP not on the key's allow-list           EGeneral:Permission denied   PermissionDenied
 6  account suspended                               ETrade:User Locked           AccountSuspended
 7  key past its expiry                             EAPI:Invalid key             AuthenticationError
 8  key lacks the method's permission               EGeneral:Permission denied   PermissionDenied

GetApiKeyInfo needs no permission (docs.kraken.com "Get API Key Info"): it skips 7 and 8, so an
expired key still shows its `validUntil` in the past, and answers a suspended account with
EGeneral:Permission denied (6) like a refused IP (5).

(*) ccxt has no entry for EAPI:Invalid signature (reference/exchange-errors.md §0.5).

Sources: docs.kraken.com "Error messages" (EAPI:Invalid key: "missing, malformed, or refers to a
key that has been deleted or revoked"; EAPI:Invalid signature; EAPI:Invalid nonce: "less than or
equal to the last accepted nonce"), "API key permissions" ("Granting too few causes
EGeneral:Permission denied errors"), ccxt kraken.py exceptions ("ETrade:User Locked":
AccountSuspended). Simulator conventions (Kraken documents none of these): the check order,
EGeneral:Permission denied for a refused IP (what the project's diagnosis knowledge expects of
GetApiKeyInfo), EAPI:Invalid key for an expired key and for a closed account's keys, ETrade:User
Locked for a suspended account.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from aiohttp import web

from exchange_sync.simulator.keys import ip_allowed
from exchange_sync.simulator.model import Account, ApiKey
from exchange_sync.simulator.protocols.kraken import wire

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

PREFIX = "/kraken"

# The key permissions as GetApiKeyInfo names them (docs.kraken.com "API key permissions").
QUERY_FUNDS = "query-funds"
DEPOSIT_FUNDS = "deposit-funds"
WITHDRAW_FUNDS = "withdraw-funds"
QUERY_OPEN_TRADES = "query-open-trades"
QUERY_CLOSED_TRADES = "query-closed-trades"
MODIFY_TRADES = "modify-trades"
QUERY_LEDGER = "query-ledger"
EXPORT_DATA = "export-data"
PERMISSIONS = (
    QUERY_FUNDS,
    DEPOSIT_FUNDS,
    WITHDRAW_FUNDS,
    QUERY_OPEN_TRADES,
    QUERY_CLOSED_TRADES,
    MODIFY_TRADES,
    QUERY_LEDGER,
    EXPORT_DATA,
)
READ_PERMISSIONS = (QUERY_FUNDS, QUERY_OPEN_TRADES, QUERY_CLOSED_TRADES, QUERY_LEDGER)


@dataclass(slots=True)
class Signed:
    key: ApiKey
    account: Account
    params: dict[str, str]


async def form(request: web.Request) -> tuple[str, dict[str, str]]:
    """The body exactly as sent (what the signature covers) and its parameters."""
    body = await request.text() if request.can_read_body else ""
    if request.content_type == "application/json" and body:
        try:
            data = json.loads(body)
        except ValueError:
            return body, {}
        return body, {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return body, dict(parse_qsl(body, keep_blank_values=True))


def signature(secret: str, uri_path: str, nonce: str, body: str) -> str | None:
    """The API-Sign the key's secret makes for this request (None: the secret is not base64)."""
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        return None
    message = uri_path.encode() + hashlib.sha256((nonce + body).encode()).digest()
    return base64.b64encode(hmac.new(key, message, hashlib.sha512).digest()).decode()


async def authenticate(
    world: World, request: web.Request, permission: tuple[str, ...] | None
) -> Signed | web.Response:
    """Run the checks of the module table; `permission`: any of these lets the key in (None: the
    method needs none). A Response is the error to send back."""
    api_key = request.headers.get("API-Key")
    key = world.keys.get(api_key) if api_key else None
    if key is None or key.state in ("deleted", "revoked"):
        return wire.error(wire.INVALID_KEY)
    account = world.accounts[key.account_id]
    if account.status == "closed":
        return wire.error(wire.INVALID_KEY)
    body, params = await form(request)
    nonce = params.get("nonce", "")
    if not nonce.isdigit():
        return wire.error(wire.INVALID_NONCE)
    expected = signature(key.secret, request.path.removeprefix(PREFIX), nonce, body)
    presented = request.headers.get("API-Sign", "")
    if expected is None or not hmac.compare_digest(expected, presented):
        return wire.error(wire.INVALID_SIGNATURE)
    if int(nonce) <= key.last_nonce:
        return wire.error(wire.INVALID_NONCE)
    key.last_nonce = int(nonce)
    key.last_used = world.now_ms()
    if not ip_allowed(request.remote, key.ip_allowlist):
        return wire.error(wire.PERMISSION_DENIED)
    if account.status == "suspended":
        return wire.error(wire.USER_LOCKED if permission is not None else wire.PERMISSION_DENIED)
    if permission is not None:
        if key.expired(world.now_ms()):
            return wire.error(wire.INVALID_KEY)
        if not any(p in key.permissions for p in permission):
            return wire.error(wire.PERMISSION_DENIED)
    return Signed(key, account, params)

"""Binance signed-request checks, answered with the status codes and bodies Binance sends.

A signed (USER_DATA) request goes through these checks in order; the first failure answers.
"api" is /api/v3/*, "sapi" is /sapi/v1/*. The last column is the class ccxt 4.5.90 raises on a
fresh `ccxt.binance` instance whose URLs point at the simulator (see (*) below).

 #  scenario                                 family HTTP  code   ccxt class
 1  X-MBX-APIKEY missing / not 64 alnum      both   401  -2014   AuthenticationError
 2  key unknown, deleted or revoked          api    401  -2015   AuthenticationError
 2  key unknown, deleted or revoked          sapi   400  -2008   ExchangeError (*)
 4  account closed                           api    401  -2015   AuthenticationError
 4  account closed                           sapi   400  -4039   ExchangeError (*)
 5  caller IP not on the key's allow-list    both   401  -2015   AuthenticationError
 6  timestamp or signature parameter missing both   400  -1102   BadRequest
 6  recvWindow not a number, <= 0, > 60000   both   400  -1131   ExchangeError (code not in ccxt)
 7  timestamp >= server time + 1000 ms       both   400  -1021   InvalidNonce
 7  server time - timestamp > recvWindow     both   400  -1021   InvalidNonce
 8  signature wrong (wrong secret)           both   400  -1022   AuthenticationError
 9  key expired (data endpoints)             both   401  -2015   AuthenticationError
 9  key lacks "reading" (data endpoints)     both   401  -2015   AuthenticationError
10  account suspended (data endpoints)       both   401  -1002   AuthenticationError

Bodies are {"code": <code>, "msg": <message>} with these messages:
  -2014 "API-key format invalid."
  -2015 "Invalid API-key, IP, or permissions for action."
  -2008 "Invalid Api-Key ID."
  -4039 "The user does not exist."
  -1102 "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed." (or 'signature')
  -1131 "recvWindow must be less than 60000."
  -1021 "Timestamp for this request was 1000ms ahead of the server's time."
  -1021 "Timestamp for this request is outside of the recvWindow."
  -1022 "Signature for this request is not valid."
  -1002 "You are not authorized to execute this request."

Introspection endpoints (sapi/v1/account/status, sapi/v1/account/apiRestrictions) skip checks 9
and 10: a suspended account's key still authenticates there and account/status answers
{"data": "Suspended"} instead of {"data": "Normal"}; apiRestrictions reports enableReading false,
and for an expired key a tradingAuthorityExpirationTime in the past (Binance's expiry applies to
what a key may do, not to whether it exists). A revoked key is gone, like a deleted one.

(*) ccxt looks up Binance's spot-only codes (-2008, -4039, -3022, ...) in its "spot" table only
when the URL starts with https://api.binance.com/ (binance.py get_exceptions_by_url); against the
simulator's http://127.0.0.1 URLs it falls back to the global table, where these codes are
missing, so it raises ExchangeError. Against the real exchange the same bodies raise
AuthenticationError (-2008) and PermissionDenied (-4039). A diagnosis layer should match on the
code in the body, never only on the class.

Also: -2015 becomes DDoSProtection instead of AuthenticationError on a ccxt instance that has
already made one successful api/v3 private call (binance.py handle_errors, "hasAlreadyAuthenticated").

Sources: errors.md (-1002, -1021 both messages, -1022, -1102, -2014, -2015), CHANGELOG.md 2019
(-1131 "recvWindow must be less than 60000"), rest-api.md "Timing security" (recvWindow default
5000, max 60000, the 1000 ms ahead rule, timestamps in ms or us); HTTP 401 for -2015/-2014 and 400
for -1022 as seen in ccxt#18459, ccxt#3057, emmtte/Cryptocurrency-Portfolio#39; -2008 with HTTP 400
on sapi (ccxt#16616, ccxt#16777: "binance has recently deleted a lot of unsafe API KEY"); -4039
and its message from ccxt binance.py's spot table comment. Simulator conventions: the check order,
-2015 for expired keys (Binance has no "expired" code), revoked keys answering like deleted ones,
introspection still answering for expired keys, -1002 for a suspended account and
the "Suspended" account/status string (Binance documents only "Normal"), introspection endpoints
not requiring "reading" (real Binance keys always have it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from aiohttp import web

from exchange_sync.simulator.keys import ip_allowed
from exchange_sync.simulator.model import Account, ApiKey

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

API_KEY_RE = re.compile(r"^[A-Za-z0-9]{64}$")
DEFAULT_RECV_WINDOW = Decimal(5000)
MAX_RECV_WINDOW = Decimal(60000)

MSG_BAD_KEY_FORMAT = "API-key format invalid."
MSG_REJECTED_KEY = "Invalid API-key, IP, or permissions for action."
MSG_INVALID_KEY_ID = "Invalid Api-Key ID."
MSG_USER_NOT_EXIST = "The user does not exist."
MSG_UNAUTHORIZED = "You are not authorized to execute this request."
MSG_BAD_SIGNATURE = "Signature for this request is not valid."
MSG_TS_AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
MSG_TS_OUTSIDE = "Timestamp for this request is outside of the recvWindow."
MSG_BAD_RECV_WINDOW = "recvWindow must be less than 60000."
MSG_DUPLICATE = "Duplicate values for a parameter detected."

SUSPENDED_ACCOUNT_STATUS = "Suspended"
# Binance's key permissions, in the simulator's names (the API Management page's checkboxes).
READING = "reading"
TRADING = "spot_trading"
WITHDRAWALS = "withdrawals"
PERMISSIONS = (READING, TRADING, WITHDRAWALS)


def binance_error(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps({"code": code, "msg": msg}, separators=(",", ":"))
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def mandatory(name: str) -> web.Response:
    message = f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    return binance_error(400, -1102, message)


@dataclass(slots=True)
class Signed:
    key: ApiKey
    account: Account
    params: dict[str, str]


def query_pairs(request: web.Request) -> tuple[str, list[tuple[str, str]]] | web.Response:
    """The raw query string exactly as sent (what the signature covers) and its decoded pairs."""
    raw = request.raw_path.partition("?")[2]
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for part in raw.split("&") if raw else []:
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        if name in seen:
            return binance_error(400, -1101, MSG_DUPLICATE)
        seen.add(name)
        pairs.append((name, unquote_plus(value)))
    return raw, pairs


def presented_key(request: web.Request) -> str | None:
    return request.headers.get("X-MBX-APIKEY")


def _timestamp_ms(text: str) -> int | None:
    if not re.fullmatch(r"\d{1,20}", text):
        return None
    value = int(text)
    # rest-api.md: timestamps may be in milliseconds or microseconds.
    return value // 1000 if value >= 10**14 else value


async def authenticate(
    world: World, request: web.Request, family: str, *, introspection: bool = False
) -> Signed | web.Response:
    """Run the checks of the module table; a Response is the error to send back."""
    api_key = presented_key(request)
    if api_key is None or not API_KEY_RE.match(api_key):
        return binance_error(401, -2014, MSG_BAD_KEY_FORMAT)
    key = world.keys.get(api_key)
    if key is None or key.state in ("deleted", "revoked"):
        if family == "sapi":
            return binance_error(400, -2008, MSG_INVALID_KEY_ID)
        return binance_error(401, -2015, MSG_REJECTED_KEY)
    now = world.server_time_ms()
    account = world.accounts[key.account_id]
    if account.status == "closed":
        if family == "sapi":
            return binance_error(400, -4039, MSG_USER_NOT_EXIST)
        return binance_error(401, -2015, MSG_REJECTED_KEY)
    if not ip_allowed(request.remote, key.ip_allowlist):
        return binance_error(401, -2015, MSG_REJECTED_KEY)

    parsed = query_pairs(request)
    if isinstance(parsed, web.Response):
        return parsed
    raw_query, pairs = parsed
    body = await request.text() if request.can_read_body else ""
    params = dict(pairs)
    if body:
        for name, value in (p.partition("=")[::2] for p in body.split("&")):
            params.setdefault(unquote_plus(name), unquote_plus(value))
    if not params.get("timestamp"):
        return mandatory("timestamp")
    if not params.get("signature"):
        return mandatory("signature")
    recv_window = DEFAULT_RECV_WINDOW
    if "recvWindow" in params:
        try:
            recv_window = Decimal(params["recvWindow"])
        except InvalidOperation:
            return binance_error(400, -1131, MSG_BAD_RECV_WINDOW)
        if not recv_window.is_finite() or recv_window <= 0 or recv_window > MAX_RECV_WINDOW:
            return binance_error(400, -1131, MSG_BAD_RECV_WINDOW)
    timestamp = _timestamp_ms(params["timestamp"])
    if timestamp is None:
        return mandatory("timestamp")
    if timestamp >= now + 1000:
        return binance_error(400, -1021, MSG_TS_AHEAD)
    if now - timestamp > recv_window:
        return binance_error(400, -1021, MSG_TS_OUTSIDE)

    # The payload is the query string as sent (minus the signature) followed by the body.
    unsigned_query = "&".join(p for p in raw_query.split("&") if not p.startswith("signature="))
    unsigned_body = "&".join(p for p in body.split("&") if not p.startswith("signature=")) if body else ""
    payload = unsigned_query + unsigned_body
    expected = hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, params["signature"].lower()):
        return binance_error(400, -1022, MSG_BAD_SIGNATURE)

    if not introspection:
        if key.expired(world.now_ms()) or READING not in key.permissions:
            return binance_error(401, -2015, MSG_REJECTED_KEY)
        if account.status == "suspended":
            return binance_error(401, -1002, MSG_UNAUTHORIZED)
    return Signed(key, account, params)

"""OKX private requests: the OK-ACCESS-* headers, signature, clock window, key and account checks.

A private call carries OK-ACCESS-KEY (the API key, a UUID), OK-ACCESS-TIMESTAMP (ISO 8601 UTC with
milliseconds, "2020-12-08T09:08:57.715Z"), OK-ACCESS-PASSPHRASE (chosen when the key was made) and
OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + method + requestPath + body)), where
requestPath is the path with its query string ("/api/v5/account/balance?ccy=BTC") and body the
JSON body ("" for GET) (docs-v5 "REST Authentication"; ccxt okx.sign). "The request will expire
30 seconds after the timestamp" (docs-v5 "Making Requests"), checked here against the simulator's
clock (POST /_sim/clock shifts it). The checks run in this order; the first failure answers:

 #  scenario                                           code   HTTP  msg (below)  ccxt class
 1  OK-ACCESS-KEY missing                              50103  401   KEY_MISSING   AuthenticationError
 2  OK-ACCESS-SIGN missing                             50106  401   SIGN_MISSING  AuthenticationError
 3  OK-ACCESS-TIMESTAMP missing                        50107  401   TS_MISSING    AuthenticationError
 4  OK-ACCESS-PASSPHRASE missing                       50104  401   PASS_MISSING  AuthenticationError
 5  timestamp not ISO 8601 with ms and Z               50112  401   BAD_TS        AuthenticationError
 6  timestamp more than 30 s from server time          50102  401   EXPIRED_TS    InvalidNonce
 7  unknown API key                                    50111  401   INVALID_KEY   AuthenticationError
 8  key deleted, revoked or expired; account closed    50119  401   NO_SUCH_KEY   ExchangeError (*)
 9  wrong passphrase                                   50105  401   BAD_PASS      AuthenticationError
10  wrong signature (secret, path or body)             50113  401   BAD_SIGN      AuthenticationError
11  caller IP not on the key's allow-list              50110  401   IP            PermissionDenied
12  account suspended                                  50100  400   FROZEN        ExchangeError (*)
13  key lacks the endpoint's permission                50120  401   NO_PERM       ExchangeError (*)

msg: KEY_MISSING 'Request header "OK-ACCESS-KEY" can not be empty' (SIGN_, TS_, PASS_MISSING
likewise for OK-ACCESS-SIGN, -TIMESTAMP, -PASSPHRASE); BAD_TS "Invalid OK-ACCESS-TIMESTAMP";
EXPIRED_TS "Timestamp request expired"; INVALID_KEY "Invalid OK-ACCESS-KEY"; NO_SUCH_KEY "API key
doesn't exist"; BAD_PASS 'Request header "OK-ACCESS-PASSPHRASE" incorrect'; BAD_SIGN "Invalid
Sign"; IP "Your IP {ip} is not included in your API key's IP whitelist."; FROZEN "API frozen,
please contact customer service."; NO_PERM "API key doesn't have permission". Every body is
{"code": <code>, "data": [], "msg": <msg>}.

(*) ccxt 4.5.90's okx `exceptions` table has no entry for 50100, 50119 or 50120 (its 50100 is an
explicit ExchangeError; the other two fall through to handle_errors' final `raise ExchangeError`):
a client must read the code in the message to tell them apart.

Permissions as account/config's `perm` shows them: "read_only" (Read), "trade" (Trade),
"withdraw" (Withdraw) (docs-v5 "Get account configuration"). Every history endpoint here needs
Read ("Permission: Read" on each endpoint's docs); account/config needs none (simulator
convention, like Kraken's GetApiKeyInfo: a diagnosis can always read `perm`).

Sources: docs-v5 "Error Code" (REST, 501xx: "Timestamp request expired", "Request header
"OK-ACCESS-KEY" can not be empty", "Invalid OK-ACCESS-KEY", "Invalid OK-ACCESS-TIMESTAMP", "Your
IP {param0} is not included in your API key's IP whitelist", "API key doesn't exist", "API key
doesn't have permission", "API frozen, please contact customer service", all HTTP 401 but 50100's
400), field reports of {"msg":"API key doesn't exist","code":"50119"} with HTTP 401 and of
{"msg":"Invalid OK-ACCESS-KEY","code":"50111"} with HTTP 401, ccxt okx.py exceptions. (The HTTP
statuses of 50100 and 50120 are the docs table's as remembered; no stored copy of that part of
the table could be consulted.) Simulator conventions (OKX documents none of these): the check
order, 50119 for a key that existed but was deleted, revoked or expired (OKX keys only "expire"
by being deleted after 14 days unused), 50119 for every key of a closed account, 50100 (rather
than 50007 Account blocked) for a suspended one, msg "Invalid Sign" for 50113 as OKX sends it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from exchange_sync.simulator.keys import ip_allowed
from exchange_sync.simulator.model import Account, ApiKey
from exchange_sync.simulator.protocols.okx import wire

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

PREFIX = "/okx"
READ_ONLY = "read_only"
TRADE = "trade"
WITHDRAW = "withdraw"
PERMISSIONS = (READ_ONLY, TRADE, WITHDRAW)
READ_PERMISSIONS = (READ_ONLY,)
WINDOW_MS = 30_000

KEY_MISSING = ("50103", 'Request header "OK-ACCESS-KEY" can not be empty', 401)
SIGN_MISSING = ("50106", 'Request header "OK-ACCESS-SIGN" can not be empty', 401)
TIMESTAMP_MISSING = ("50107", 'Request header "OK-ACCESS-TIMESTAMP" can not be empty', 401)
PASSPHRASE_MISSING = ("50104", 'Request header "OK-ACCESS-PASSPHRASE" can not be empty', 401)
BAD_TIMESTAMP = ("50112", "Invalid OK-ACCESS-TIMESTAMP", 401)
EXPIRED_TIMESTAMP = ("50102", "Timestamp request expired", 401)
INVALID_KEY = ("50111", "Invalid OK-ACCESS-KEY", 401)
NO_SUCH_KEY = ("50119", "API key doesn't exist", 401)
BAD_PASSPHRASE = ("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect', 401)
BAD_SIGN = ("50113", "Invalid Sign", 401)
FROZEN = ("50100", "API frozen, please contact customer service.", 400)
NO_PERMISSION = ("50120", "API key doesn't have permission", 401)


def refuse(error: tuple[str, str, int]) -> web.Response:
    code, msg, status = error
    return wire.error(code, msg, status)


def ip_refused(remote: str | None) -> web.Response:
    msg = f"Your IP {remote or ''} is not included in your API key's IP whitelist."
    return wire.error("50110", msg, 401)


@dataclass(slots=True)
class Signed:
    key: ApiKey
    account: Account
    params: dict[str, str]


def signature(secret: str, timestamp: str, method: str, request_path: str, body: str) -> str:
    message = (timestamp + method.upper() + request_path + body).encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def parse_timestamp(text: str) -> int | None:
    """Epoch ms of an OK-ACCESS-TIMESTAMP ("2020-12-08T09:08:57.715Z"); None when malformed."""
    if len(text) != 24 or not text.endswith("Z") or text[19] != ".":
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def _headers_missing(request: web.Request) -> web.Response | None:
    for header, error in (
        ("OK-ACCESS-KEY", KEY_MISSING),
        ("OK-ACCESS-SIGN", SIGN_MISSING),
        ("OK-ACCESS-TIMESTAMP", TIMESTAMP_MISSING),
        ("OK-ACCESS-PASSPHRASE", PASSPHRASE_MISSING),
    ):
        if not request.headers.get(header):
            return refuse(error)
    return None


async def authenticate(world: World, request: web.Request, permission: str | None) -> Signed | web.Response:
    """Run the checks of the module table; `permission` None: the endpoint needs none. A Response
    is the error to send back."""
    missing = _headers_missing(request)
    if missing is not None:
        return missing
    headers = request.headers
    timestamp = headers["OK-ACCESS-TIMESTAMP"]
    sent_ms = parse_timestamp(timestamp)
    if sent_ms is None:
        return refuse(BAD_TIMESTAMP)
    if abs(world.server_time_ms() - sent_ms) > WINDOW_MS:
        return refuse(EXPIRED_TIMESTAMP)
    key = world.keys.get(headers["OK-ACCESS-KEY"])
    if key is None:
        return refuse(INVALID_KEY)
    account = world.accounts[key.account_id]
    if key.state in ("deleted", "revoked") or key.expired(world.now_ms()) or account.status == "closed":
        return refuse(NO_SUCH_KEY)
    if not hmac.compare_digest(headers["OK-ACCESS-PASSPHRASE"].encode(), key.passphrase.encode()):
        return refuse(BAD_PASSPHRASE)
    body = await request.text() if request.can_read_body else ""
    request_path = request.raw_path.removeprefix(PREFIX)
    expected = signature(key.secret, timestamp, request.method, request_path, body)
    if not hmac.compare_digest(expected.encode(), headers["OK-ACCESS-SIGN"].encode()):
        return refuse(BAD_SIGN)
    key.last_used = world.now_ms()
    if not ip_allowed(request.remote, key.ip_allowlist):
        return ip_refused(request.remote)
    if account.status == "suspended":
        return refuse(FROZEN)
    if permission is not None and permission not in key.permissions:
        return refuse(NO_PERMISSION)
    return Signed(key, account, dict(request.query))

"""Coinbase CDP API keys and the ES256 JWT every private request carries, with Coinbase's errors.

A CDP key is a name, `organizations/{org_id}/apiKeys/{key_id}`, and an EC P-256 private key in
PEM ("-----BEGIN EC PRIVATE KEY-----", SEC1, several lines) that never leaves the client
(docs.cdp.coinbase.com "Creating API keys": ECDSA keys for the Advanced Trade and App APIs). Each
request carries `Authorization: Bearer <JWT>`, a JWT signed ES256 with that key, header {"alg":
"ES256", "kid": key name, "nonce": random, "typ": "JWT"}, claims {"sub": key name, "iss": "cdp"
(ccxt 4.5.90 sends the older "coinbase-cloud", which Coinbase still takes), "nbf": now, "exp":
now + 120, "uri": "<METHOD> <host><path>"} (CDP "API key authentication", "JWTs expire after 2
minutes"; ccxt coinbase.py create_auth_token). ccxt builds `uri` as method + " " + its URL with
"https://" removed and the query cut off; on the plain-http simulator that leaves
"GET http://127.0.0.1:PORT/coinbase/api/v3/brokerage/accounts", so `uri` is checked against
method, Host (with port) and the full request path, with or without the "http://" ccxt leaves
(simulator convention: the real host is https only). The JWT's signature is checked with the
public half of the key's stored private key; a JWT living longer than 120 s is refused.

The checks run in this order; the first failure answers (the last column is the class ccxt
4.5.90's coinbase.handle_errors, or its httpExceptions for non-JSON bodies, raises):

 #  scenario                                   status  body                          ccxt class
 1  no Authorization: Bearer, a token that is  401     Unauthorized (text/plain)     AuthenticationError
    not a JWT, alg not ES256, kid != sub
 2  key name unknown, key revoked or deleted   401     Unauthorized                  AuthenticationError
 3  signature wrong (another private key)      401     Unauthorized                  AuthenticationError
 4  iss not cdp/coinbase-cloud, exp passed     401     Unauthorized                  AuthenticationError
    (world clock), nbf in the future, exp more
    than 120 s after nbf
 5  uri not this request's method+host+path    401     Unauthorized                  AuthenticationError
 6  account closed; key past its expires_at    401     Unauthorized                  AuthenticationError
 7  caller IP not on the key's allow-list      401     Unauthorized                  AuthenticationError
 8  account suspended, v3                      403     v3 PERMISSION_DENIED (a)      PermissionDenied
                       v2                      403     v2 unauthorized (b)           AuthenticationError
 9  key lacks the scope (can_view): v3         403     v3 PERMISSION_DENIED (c)      PermissionDenied
                                    v2         403     v2 invalid_scope (d)          AuthenticationError

(a) {"error":"PERMISSION_DENIED","error_details":"account is locked","message":"account is locked"}
(b) {"errors":[{"id":"unauthorized","message":"account is locked"}]}
(c) {"error":"PERMISSION_DENIED","error_details":"Missing required scopes","message":"Missing
    required scopes"}
(d) {"errors":[{"id":"invalid_scope","message":"Invalid scope"}]}

Sources: CDP "API key authentication" (invalid/expired JWT: 401 Unauthorized), the Advanced
Trade error example for a key without the trade or view scope ({"error":"PERMISSION_DENIED",
"error_details":"Missing required scopes","message":"Missing required scopes"}), Coinbase App
API errors (invalid_scope 403 "User hasn't authenticated necessary scope", unauthorized 401,
ccxt's exceptions.exact table mapping invalid_scope and unauthorized to AuthenticationError and
PERMISSION_DENIED to PermissionDenied). Simulator conventions (Coinbase documents none of these):
the check order, 401 for a closed account, an expired key and a refused IP (CDP IP allow-lists
refuse at the gateway like a bad JWT), the suspended-account bodies.

A PEM pasted with its line breaks turned into the two characters backslash-n is not a key: ccxt
cannot sign with it (cryptography refuses to load it) and a request without a valid JWT is row 1;
the simulator never repairs a key (normalising a pasted key is the client's job).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from exchange_sync.simulator.keys import ip_allowed
from exchange_sync.simulator.model import Account, ApiKey
from exchange_sync.simulator.protocols.coinbase import wire

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

PREFIX = "/coinbase"

# The scopes GET /api/v3/brokerage/key_permissions reports (CDP key "View", "Trade", "Transfer").
CAN_VIEW = "can_view"
CAN_TRADE = "can_trade"
CAN_TRANSFER = "can_transfer"
PERMISSIONS = (CAN_VIEW, CAN_TRADE, CAN_TRANSFER)
READ_PERMISSIONS = (CAN_VIEW,)
ISSUERS = ("cdp", "coinbase-cloud")
MAX_LIFETIME_S = 120
MISSING_SCOPES = "Missing required scopes"
LOCKED = "account is locked"


@dataclass(slots=True)
class Signed:
    key: ApiKey
    account: Account
    params: dict[str, str]


def mint_key() -> tuple[str, str]:
    """A CDP key: its name and a fresh P-256 private key in SEC1 PEM."""
    name = f"organizations/{uuid.uuid4()}/apiKeys/{uuid.uuid4()}"
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return name, pem.decode()


@lru_cache(maxsize=4096)
def _public_key(secret: str) -> ec.EllipticCurvePublicKey | None:
    try:
        private = serialization.load_pem_private_key(secret.encode(), None)
    except (ValueError, TypeError):
        return None
    return private.public_key() if isinstance(private, ec.EllipticCurvePrivateKey) else None


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass(frozen=True, slots=True)
class Token:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse_token(authorization: str | None) -> Token | None:
    """The JWT of an `Authorization: Bearer` header, unverified (None: not a JWT)."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    parts = authorization[len("Bearer ") :].strip().split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = json.loads(_b64(parts[0])), json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return Token(header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def presented_key(authorization: str | None) -> str | None:
    """The key name a request presents (its JWT's kid), without verifying anything."""
    token = parse_token(authorization)
    kid = token.header.get("kid") if token else None
    return kid if isinstance(kid, str) and kid else None


def _signature_ok(key: ApiKey, token: Token) -> bool:
    public = _public_key(key.secret)
    if public is None or len(token.signature) != 64:
        return False
    r, s = int.from_bytes(token.signature[:32]), int.from_bytes(token.signature[32:])
    try:
        public.verify(encode_dss_signature(r, s), token.signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _claims_ok(token: Token, now_s: int, request: web.Request) -> bool:
    claims = token.claims
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if claims.get("iss") not in ISSUERS or not isinstance(nbf, int) or not isinstance(exp, int):
        return False
    if exp <= now_s or nbf > now_s or exp - nbf > MAX_LIFETIME_S:
        return False
    target = f"{request.host}{request.path}"
    return claims.get("uri") in (f"{request.method} {target}", f"{request.method} http://{target}")


def authenticate(world: World, request: web.Request, permission: str, v2: bool) -> Signed | web.Response:
    """Run the checks of the module table for a route needing `permission`; `v2`: the route is
    the v2 API's (its refusals have the v2 shape)."""
    token = parse_token(request.headers.get("Authorization"))
    if token is None or token.header.get("alg") != "ES256":
        return wire.unauthorized()
    kid = token.header.get("kid")
    if not isinstance(kid, str) or token.claims.get("sub") != kid:
        return wire.unauthorized()
    key = world.keys.get(kid)
    if (
        key is None
        or key.state in ("deleted", "revoked")
        or world.accounts[key.account_id].exchange != "coinbase"
    ):
        return wire.unauthorized()
    if not _signature_ok(key, token) or not _claims_ok(token, world.server_time_ms() // 1000, request):
        return wire.unauthorized()
    account = world.accounts[key.account_id]
    now = world.server_time_ms()
    if account.status == "closed" or key.expired(now) or not ip_allowed(request.remote, key.ip_allowlist):
        return wire.unauthorized()
    key.last_used = now
    if account.status == "suspended":
        if v2:
            return wire.v2_error(403, "unauthorized", LOCKED)
        return wire.v3_error(403, "PERMISSION_DENIED", LOCKED)
    if permission not in key.permissions:
        if v2:
            return wire.v2_error(403, "invalid_scope", "Invalid scope")
        return wire.v3_error(403, "PERMISSION_DENIED", MISSING_SCOPES)
    return Signed(key, account, dict(request.query))

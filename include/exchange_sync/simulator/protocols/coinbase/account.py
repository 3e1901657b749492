"""Coinbase's account endpoints: wallets (v3 GET /api/v3/brokerage/accounts[/{uuid}], v2 GET
/v2/accounts[/{id}]), the key's scopes (GET /api/v3/brokerage/key_permissions) and the user
(GET /v2/user).

v3 accounts page by cursor: `limit` (default 49, max 250), `cursor` from the previous answer;
the answer is {"accounts", "has_next", "cursor", "size"}, `cursor` "" on the last page
(docs.cdp.coinbase.com "List Accounts"). One account (wallet) per currency, with uuid, currency,
available_balance {value, currency} and hold {value, currency}; `available_balance` is what is
free, `hold` what open orders lock (ccxt parse_custom_balance: free = available, used = hold).
v2 accounts page like every v2 list (`limit`, `starting_after` / `ending_before` = an account
id, `order`; answer {"pagination", "data"}), and show the total as `balance` (ccxt reads it as
free = total). ccxt's fetch_balance asks for 250 at once; v2 accepts up to 300 for accounts here
(simulator convention: Coinbase documents 100 for its lists but ccxt relies on more).
key_permissions answers {can_view, can_trade, can_transfer, portfolio_uuid, portfolio_type}
("Get API Key Permissions"); /v2/user answers the user, whose `id` is the user's uuid
(`identity`), also every fill's `user_id`.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.protocols.coinbase import render, wire
from exchange_sync.simulator.protocols.coinbase.auth import CAN_TRADE, CAN_TRANSFER, CAN_VIEW, Signed
from exchange_sync.simulator.protocols.coinbase.paging import ArgumentError, limit_of, v2_page

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

V3_DEFAULT_LIMIT = 49
V3_MAX_LIMIT = 250
V2_ACCOUNTS_MAX = 300


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ArgumentError("cursor") from None
    if not text.startswith("acct:") or not text[5:].isdigit():
        raise ArgumentError("cursor")
    return int(text[5:])


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"acct:{offset}".encode()).decode()


def _created(world: World) -> str:
    return wire.rfc3339(world.anchor_ms - 400 * 86_400_000)


def _v3_account(world: World, signed: Signed, code: str, free: Decimal, held: Decimal) -> dict[str, Any]:
    asset = world.catalog.assets[code]
    return {
        "uuid": render.wallet_id(signed.account, code),
        "name": f"{code} Wallet",
        "currency": code,
        "available_balance": {"value": render.amount(free), "currency": code},
        "default": code == "USD",
        "active": True,
        "created_at": _created(world),
        "updated_at": _created(world),
        "deleted_at": None,
        "type": "ACCOUNT_TYPE_FIAT" if asset.fiat else "ACCOUNT_TYPE_CRYPTO",
        "ready": True,
        "hold": {"value": render.amount(held), "currency": code},
        "retail_portfolio_id": render.portfolio_id(signed.account),
        "platform": "ACCOUNT_PLATFORM_CONSUMER",
    }


async def v3_accounts(world: World, signed: Signed) -> web.Response:
    limit = limit_of(signed.params, V3_DEFAULT_LIMIT, V3_MAX_LIMIT)
    cursor = signed.params.get("cursor", "")
    offset = _decode_cursor(cursor) if cursor else 0
    split = list(render.zero_split(world, signed.account).items())
    page = split[offset : offset + limit]
    more = offset + limit < len(split)
    return wire.reply(
        {
            "accounts": [_v3_account(world, signed, code, free, held) for code, (free, held) in page],
            "has_next": more,
            "cursor": _cursor(offset + limit) if more else "",
            "size": len(page),
        }
    )


def _v2_account(world: World, signed: Signed, code: str, total: Decimal) -> dict[str, Any]:
    asset = world.catalog.assets[code]
    ident = render.wallet_id(signed.account, code)
    currency: dict[str, Any] = {"code": code, "name": asset.name, "color": "#0052FF", "sort_index": 0}
    currency |= {"exponent": 2, "type": "fiat"} if asset.fiat else {"exponent": 8, "type": "crypto"}
    return {
        "id": ident,
        "name": f"{code} Wallet",
        "primary": code == "USD",
        "type": "fiat" if asset.fiat else "wallet",
        "currency": currency,
        "balance": {"amount": render.amount(total), "currency": code},
        "created_at": _created(world),
        "updated_at": _created(world),
        "resource": "account",
        "resource_path": f"/v2/accounts/{ident}",
        "allow_deposits": True,
        "allow_withdrawals": True,
    }


async def v3_account(world: World, signed: Signed, request: web.Request) -> web.Response:
    """GET /api/v3/brokerage/accounts/{account_uuid}: {"account": ...}; 404 NOT_FOUND otherwise."""
    for code, (free, held) in render.zero_split(world, signed.account).items():
        if render.wallet_id(signed.account, code) == request.match_info["account_uuid"]:
            return wire.reply({"account": _v3_account(world, signed, code, free, held)})
    return wire.v3_error(404, "NOT_FOUND", "account not found")


async def v2_account(world: World, signed: Signed, request: web.Request) -> web.Response:
    """GET /v2/accounts/{account_id} (a uuid or the currency code): {"data": ...}."""
    wanted = request.match_info["account_id"]
    for code, (free, held) in render.zero_split(world, signed.account).items():
        if wanted in (code, render.wallet_id(signed.account, code)):
            return wire.reply({"data": _v2_account(world, signed, code, free + held)})
    return wire.v2_error(404, "not_found", "Not found")


async def v2_accounts(world: World, signed: Signed) -> web.Response:
    split = render.zero_split(world, signed.account)
    rows = [
        (render.wallet_id(signed.account, code), code, free + held) for code, (free, held) in split.items()
    ]
    ids = [row[0] for row in rows]
    chosen, pagination = v2_page(
        signed.params, ids, "/v2/accounts", max_limit=V2_ACCOUNTS_MAX, newest_first=False
    )
    data = [_v2_account(world, signed, rows[i][1], rows[i][2]) for i in chosen]
    return wire.reply({"pagination": pagination, "data": data})


async def key_permissions(world: World, signed: Signed) -> web.Response:
    granted = set(signed.key.permissions)
    return wire.reply(
        {
            "can_view": CAN_VIEW in granted,
            "can_trade": CAN_TRADE in granted,
            "can_transfer": CAN_TRANSFER in granted,
            "portfolio_uuid": render.portfolio_id(signed.account),
            "portfolio_type": "DEFAULT",
        }
    )


async def v2_user(world: World, signed: Signed) -> web.Response:
    account = signed.account
    ident = render.user_id(account)
    return wire.reply(
        {
            "data": {
                "id": ident,
                "name": f"Simulated user {account.id}",
                "username": None,
                "profile_location": None,
                "profile_bio": None,
                "profile_url": None,
                "avatar_url": "",
                "resource": "user",
                "resource_path": "/v2/user",
            }
        }
    )

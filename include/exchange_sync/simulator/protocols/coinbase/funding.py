"""GET /v2/accounts/{account_id}/transactions: one wallet's transactions (its ledger).

docs.cdp.coinbase.com "List Transactions" (Coinbase App track API): per account (wallet), the
account given by its uuid or its currency code (as v2 accepts for wallets: "/v2/accounts/BTC"),
newest first by default, v2 paging (`paging`: limit 1..100 default 25, order, starting_after /
ending_before = a transaction id); answer {"pagination": {...}, "data": [...]}. Types and
amounts as `render` describes them. An account that is not the key's answers 404 not_found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from exchange_sync.simulator.protocols.coinbase import render, wire
from exchange_sync.simulator.protocols.coinbase.auth import Signed
from exchange_sync.simulator.protocols.coinbase.paging import v2_page

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World


def wallet_currency(world: World, signed: Signed, account_id: str) -> str | None:
    for code in render.wallet_currencies(world, signed.account):
        if account_id in (code, render.wallet_id(signed.account, code)):
            return code
    return None


async def transactions(world: World, signed: Signed, request: web.Request) -> web.Response:
    account_id = request.match_info["account_id"]
    code = wallet_currency(world, signed, account_id)
    if code is None:
        return wire.v2_error(404, "not_found", "Not found")
    wallet = render.wallet_ledgers(world, signed.account).get(code)
    entries = wallet.entries if wallet else []
    ids = [render.tx_id(world, signed.account, e) for e in entries]
    chosen, pagination = v2_page(signed.params, ids, f"/v2/accounts/{account_id}/transactions")
    data = [render.render_tx(world, signed.account, entries[i]) for i in chosen]
    return wire.reply({"pagination": pagination, "data": data})

"""A wallet's v2 lists: GET /v2/accounts/{account_id}/transactions (its ledger) and .../deposits,
.../withdrawals (its fiat transfers).

docs.cdp.coinbase.com "List Transactions" (Coinbase App track API): per account (wallet), the
account given by its uuid or its currency code (as v2 accepts for wallets: "/v2/accounts/BTC"),
newest first by default, v2 paging (`paging`: limit 1..100 default 25, order, starting_after /
ending_before = a transaction id); answer {"pagination": {...}, "data": [...]}. Types and
amounts as `render` describes them. An account that is not the key's answers 404 not_found.

"List Deposits" / "List Withdrawals" (Coinbase App transfer APIs): the wallet's fiat deposits and
withdrawals, every status (created = pending, completed, canceled, failed), each a resource with
its own id that names its transaction (`transaction.id`, the ground truth's transfer id; a
deposit has one once credited), amount = subtotal (without the fee), fee, payment_method,
committed, payout_at (the shape of ccxt's parse_transaction fiat example). ccxt's fetch_deposits
and fetch_withdrawals read these by default; ccxt's parse of them gives the resource's id, the
subtotal as amount and the fee (also 0), where the transaction's parse gives the transaction's
id and no fee on deposits: the ground truth follows the transaction (simulator convention for
which of Coinbase's two views is the truth).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.model import Transfer
from exchange_sync.simulator.protocols.coinbase import ids, render, wire
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
    wallet = render.wallet_ledgers(world, signed.account).get(code) or render.WalletLedger([], [], {})
    path = f"/v2/accounts/{account_id}/transactions"
    chosen, pagination = v2_page(signed.params, wallet.ids, path, index=wallet.by_id)
    data = [render.render_tx(world, signed.account, wallet.entries[i]) for i in chosen]
    return wire.reply({"pagination": pagination, "data": data})


# -- fiat deposits and withdrawals ------------------------------------------------------------------

RESOURCE_STATUSES = {"pending": "created", "ok": "completed", "failed": "failed", "canceled": "canceled"}


def render_fiat(world: World, signed: Signed, transfer: Transfer) -> dict[str, Any]:
    wallet = render.wallet_id(signed.account, transfer.asset)
    ident = render.fiat_resource_id(world, signed.account, transfer)
    plural = f"{transfer.kind}s"
    created = wire.rfc3339(transfer.time)
    updated = wire.rfc3339(transfer.resolved_at or transfer.time)
    method = ids.uuid(f"payment-method:{signed.account.uid}:{transfer.asset}")
    body: dict[str, Any] = {
        "id": ident,
        "status": RESOURCE_STATUSES[transfer.status],
        "payment_method": {
            "id": method,
            "resource": "payment_method",
            "resource_path": f"/v2/payment-methods/{method}",
        },
        "transaction": None,
        "user_reference": ident[:6].upper(),
        "created_at": created,
        "updated_at": updated,
        "resource": transfer.kind,
        "resource_path": f"/v2/accounts/{wallet}/{plural}/{ident}",
        "committed": True,
        "payout_at": updated,
        "instant": False,
        "fee": render.money(transfer.fee, transfer.asset),
        "amount": render.money(transfer.amount, transfer.asset),
        "subtotal": render.money(transfer.amount, transfer.asset),
    }
    # A deposit has its transaction once credited, a withdrawal from the start (render's docstring).
    if transfer.kind == "withdrawal" or transfer.status == "ok":
        tx = render.transfer_tx_id(world, signed.account, transfer)
        body["transaction"] = {
            "id": tx,
            "resource": "transaction",
            "resource_path": f"/v2/accounts/{wallet}/transactions/{tx}",
        }
    return body


async def _fiat_list(world: World, signed: Signed, request: web.Request, kind: str) -> web.Response:
    account_id = request.match_info["account_id"]
    code = wallet_currency(world, signed, account_id)
    if code is None:
        return wire.v2_error(404, "not_found", "Not found")
    transfers = [t for t in signed.account.transfers(kind) if t.asset == code and not t.network]
    ids_ = [render.fiat_resource_id(world, signed.account, t) for t in transfers]
    chosen, pagination = v2_page(signed.params, ids_, f"/v2/accounts/{account_id}/{kind}s")
    return wire.reply(
        {"pagination": pagination, "data": [render_fiat(world, signed, transfers[i]) for i in chosen]}
    )


async def deposits(world: World, signed: Signed, request: web.Request) -> web.Response:
    return await _fiat_list(world, signed, request, "deposit")


async def withdrawals(world: World, signed: Signed, request: web.Request) -> web.Response:
    return await _fiat_list(world, signed, request, "withdrawal")

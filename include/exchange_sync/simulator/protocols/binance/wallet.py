"""Binance's wallet history: sapi/v1/capital/deposit/hisrec and withdraw/history.

Shapes, windows and statuses follow the wallet docs on developers.binance.com ("Deposit History
(supporting network)", "Withdraw History (supporting network)"): startTime defaults to 90 days
before now, endTime to now, the window may not exceed 90 days, limit 1000 by default and at most,
`offset` pages inside a window, newest first. Native statuses (deposit: 0 pending, 1 success,
2 rejected, 6 credited but cannot withdraw, 7 wrong deposit, 8 waiting user confirm; withdrawal:
0 email sent, 1 cancelled, 2 awaiting approval, 3 rejected, 4 processing, 5 failure,
6 completed) and the words ccxt's parse_transaction_status_by_type makes of them.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.catalog import DAY_MS
from exchange_sync.simulator.decimals import canonical, fixed
from exchange_sync.simulator.model import Account, Transfer
from exchange_sync.simulator.protocols.binance.auth import authenticate, binance_error
from exchange_sync.simulator.protocols.binance.wire import ParamError, int_param, invalid, reply

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

MAX_WALLET_WINDOW_MS = 90 * DAY_MS
DEPOSIT_ID_BASE = 700_000_000_000_000_000
# neutral status -> (native code, what ccxt 4.5 binance.parse_transaction_status_by_type says).
# ccxt has no word for a rejected deposit (2) and passes the code through as "2".
STATUSES: dict[str, dict[str, tuple[int, str]]] = {
    "deposit": {"pending": (0, "pending"), "ok": (1, "ok"), "failed": (2, "2")},
    "withdrawal": {
        "pending": (4, "pending"),
        "ok": (6, "ok"),
        "failed": (5, "failed"),
        "canceled": (1, "canceled"),
    },
}
FAILURE_INFO = "The address is not valid. Please confirm with the recipient"


def transfer_id(world: World, account: Account, transfer: Transfer) -> str:
    """Deposit ids are 18-digit numbers, withdrawal ids 32 hex characters (the wallet docs' examples)."""
    if transfer.kind == "deposit":
        return str(DEPOSIT_ID_BASE + transfer.key)
    return hashlib.sha256(f"{world.seed}:{account.id}:wd:{transfer.key}".encode()).hexdigest()[:32]


def _window(params: dict[str, str], now: int) -> tuple[int, int] | web.Response:
    start = int_param(params, "startTime")
    end = int_param(params, "endTime")
    start = now - MAX_WALLET_WINDOW_MS if start is None else start
    end = now if end is None else end
    if end - start > MAX_WALLET_WINDOW_MS:
        # Simulator convention: Binance's exact body for this case is undocumented; -1127 is the
        # spot code for an oversized lookup interval, in its documented message form.
        return binance_error(400, -1127, "More than 2160 hours between startTime and endTime.")
    return start, end


def _page(
    params: dict[str, str],
    items: list[Transfer],
    now: int,
    extra: Callable[[Transfer], bool] | None = None,
) -> list[Transfer] | web.Response:
    window = _window(params, now)
    if isinstance(window, web.Response):
        return window
    start, end = window
    offset = int_param(params, "offset") or 0
    limit = int_param(params, "limit")
    limit = 1000 if limit is None else limit
    if offset < 0:
        return invalid("offset")
    if not 1 <= limit <= 1000:  # wallet docs: "Default: 1000, Max: 1000"
        return invalid("limit")
    times = [item.time for item in items]
    selected = items[bisect.bisect_left(times, start) : bisect.bisect_right(times, end)]
    coin = params.get("coin")
    status = int_param(params, "status")
    kind = items[0].kind if items else "deposit"
    selected = [
        i
        for i in selected
        if (coin is None or i.asset == coin)
        and (status is None or STATUSES[kind][i.status][0] == status)
        and (extra is None or extra(i))
    ]
    selected.reverse()  # newest first, as Binance answers (ccxt's withdrawal example is descending)
    return selected[offset : offset + limit]


def render_deposit(world: World, account: Account, deposit: Transfer) -> dict[str, Any]:
    """Wallet docs deposit item; amounts without padding ("0.001"); a pending deposit shows the
    confirmations it has so far."""
    seen = deposit.confirmations if not deposit.pending else max(0, deposit.confirmations // 3)
    return {
        "id": transfer_id(world, account, deposit),
        "amount": canonical(deposit.amount),
        "coin": deposit.asset,
        "network": deposit.network,
        "status": STATUSES["deposit"][deposit.status][0],
        "address": deposit.address,
        "addressTag": deposit.tag,
        "txId": deposit.txid,
        "insertTime": deposit.time,
        "transferType": 1 if deposit.internal else 0,
        "confirmTimes": f"{seen}/{deposit.confirmations}",
        "unlockConfirm": 0,
        "walletType": 0,
    }


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def render_withdrawal(world: World, account: Account, withdrawal: Transfer) -> dict[str, Any]:
    """Wallet docs withdrawal item: amount "8.91000000", fee "0.004", applyTime/completeTime as
    "YYYY-MM-DD HH:MM:SS" UTC; addressTag only when there is one, completeTime once completed,
    info the failure reason."""
    body: dict[str, Any] = {
        "id": transfer_id(world, account, withdrawal),
        "amount": fixed(withdrawal.amount),
        "transactionFee": canonical(withdrawal.fee),
        "coin": withdrawal.asset,
        "status": STATUSES["withdrawal"][withdrawal.status][0],
        "address": withdrawal.address,
    }
    if withdrawal.tag:
        body["addressTag"] = withdrawal.tag
    body.update(
        {
            "txId": withdrawal.txid,
            "applyTime": _utc(withdrawal.time),
            "network": withdrawal.network,
            "transferType": 1 if withdrawal.internal else 0,
            "info": FAILURE_INFO if withdrawal.status == "failed" else "",
            "confirmNo": withdrawal.confirmations if withdrawal.status == "ok" else 0,
            "walletType": 0,
            "txKey": "",
        }
    )
    if withdrawal.status == "ok" and withdrawal.resolved_at is not None:
        body["completeTime"] = _utc(withdrawal.resolved_at)
    return body


async def deposit_history(world: World, request: web.Request) -> web.Response:
    signed = await authenticate(world, request, "sapi")
    if isinstance(signed, web.Response):
        return signed
    tx_id = signed.params.get("txId")
    try:
        page = _page(
            signed.params,
            signed.account.deposits,
            world.server_time_ms(),
            (lambda d: d.txid == tx_id) if tx_id else None,
        )
    except ParamError as exc:
        return exc.response
    if isinstance(page, web.Response):
        return page
    return reply([render_deposit(world, signed.account, d) for d in page])


async def withdraw_history(world: World, request: web.Request) -> web.Response:
    signed = await authenticate(world, request, "sapi")
    if isinstance(signed, web.Response):
        return signed
    params, account = signed.params, signed.account
    if params.get("withdrawOrderId"):
        return reply([])  # simulated withdrawals are made without a client withdrawOrderId
    ids = {i for i in params.get("idList", "").split(",") if i}
    if len(ids) > 45:  # wallet docs: "idList supports up to 45 ids"
        return invalid("idList")
    try:
        page = _page(
            params,
            account.withdrawals,
            world.server_time_ms(),
            (lambda w: transfer_id(world, account, w) in ids) if ids else None,
        )
    except ParamError as exc:
        return exc.response
    if isinstance(page, web.Response):
        return page
    return reply([render_withdrawal(world, account, w) for w in page])

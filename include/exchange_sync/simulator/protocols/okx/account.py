"""OKX's trading-account endpoints: account/balance, account/config, trade/fills,
trade/fills-history, account/bills and account/bills-archive (GET /api/v5/...).

Paging as docs-v5 documents it for all four history endpoints: newest first; `after` "Pagination
of data to return records earlier than the requested billId", `before` "... newer than the
requested billId"; `begin` / `end` filter on `ts` (epoch ms; both inclusive here: simulator
convention); `limit` "The maximum is 100. The default is 100". Windows: trade/fills "last 3
days", trade/fills-history "last 3 months" (instType required), account/bills "last 7 days",
account/bills-archive "last 3 months" (docs-v5 "Get transaction details (last 3 days)" / "(last
3 months)", "Get bills details (last 7 days)" / "(last 3 months)"); 3 months are 90 days here.
Records older than the window are not served at all, whatever the cursor. Bills filter by
`ccy`, `type`, `subType`; `instType` SPOT keeps every bill (ccxt's fetch_ledger always sends it;
transfers count as the spot account's: simulator convention), other instrument types none.
With `before` alone a page is the `limit` records just newer than it (OKX returns the records
closest to the cursor; simulator convention for the exact choice), newest first.

account/balance answers the spot-mode trading account (`acctLv` "1"): per currency `eq` =
`cashBal` = the total, `availBal` free, `frozenBal` = `ordFrozen` what open orders hold,
`availEq` "" (spot mode has none, so ccxt's parse_trading_balance reads availBal/frozenBal).
account/config shows the account's `uid` (= `mainUid`: no sub-accounts here), the key's `perm`,
`ip` and `label`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.decimals import ZERO
from exchange_sync.simulator.model import Account
from exchange_sync.simulator.protocols.okx import render, wire
from exchange_sync.simulator.protocols.okx.auth import Signed
from exchange_sync.simulator.protocols.okx.wire import bad_param, missing_param

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

FILLS_DAYS = 3
FILLS_HISTORY_DAYS = 90
BILLS_DAYS = 7
BILLS_ARCHIVE_DAYS = 90
MAX_BALANCE_CCYS = 20


# -- balance and config -----------------------------------------------------------------------


async def balance(world: World, signed: Signed) -> web.Response:
    wanted = [c for c in signed.params.get("ccy", "").split(",") if c]
    if len(wanted) > MAX_BALANCE_CCYS:
        raise bad_param("ccy")
    updated = str(signed.account.update_time)  # when the balances last changed
    details = []
    for code, (free, locked) in sorted(world.balance_split(signed.account).items()):
        if wanted and code not in wanted:
            continue
        total = free + locked
        details.append(_detail(code, total, free, locked, updated))
    body = {
        "adjEq": "",
        "availEq": "",
        "borrowFroz": "",
        "details": details,
        "imr": "",
        "isoEq": "0",
        "mgnRatio": "",
        "mmr": "",
        "notionalUsd": "",
        "ordFroz": "",
        "totalEq": "",
        "uTime": updated,
        "upl": "",
    }
    return wire.reply([body])


def _detail(code: str, total: Decimal, free: Decimal, locked: Decimal, updated: str) -> dict[str, Any]:
    return {
        "availBal": wire.number(free),
        "availEq": "",
        "borrowFroz": "",
        "cashBal": wire.number(total),
        "ccy": code,
        "crossLiab": "",
        "disEq": "",
        "eq": wire.number(total),
        "eqUsd": "",
        "fixedBal": "0",
        "frozenBal": wire.number(locked),
        "imr": "",
        "interest": "",
        "isoEq": "0",
        "isoLiab": "",
        "isoUpl": "",
        "liab": "",
        "maxLoan": "",
        "mgnRatio": "",
        "mmr": "",
        "notionalLever": "",
        "ordFrozen": wire.number(locked),
        "spotInUseAmt": "",
        "stgyEq": "0",
        "twap": "0",
        "uTime": updated,
        "upl": wire.number(ZERO),
        "uplLiab": "",
    }


async def config(world: World, signed: Signed) -> web.Response:
    uid = world.protocol("okx").identity(signed.account)
    key = signed.key
    body = {
        "acctLv": "1",
        "acctStpMode": "cancel_maker",
        "autoLoan": False,
        "ctIsoMode": "automatic",
        "enableSpotBorrow": False,
        "greeksType": "PA",
        "ip": ",".join(key.ip_allowlist),
        "kycLv": "2",
        "label": f"key-{key.api_key[:8]}",
        "level": "Lv1",
        "levelTmp": "",
        "liquidationGear": "-1",
        "mainUid": uid,
        "mgnIsoMode": "automatic",
        "opAuth": "0",
        "perm": ",".join(key.permissions),
        "posMode": "net_mode",
        "roleType": "0",
        "spotBorrowAutoRepay": False,
        "spotOffsetType": "",
        "spotRoleType": "0",
        "spotTraderInsts": [],
        "traderInsts": [],
        "type": "0",
        "uid": uid,
    }
    return wire.reply([body])


# -- paging ---------------------------------------------------------------------------------------


def _window(
    world: World,
    signed: Signed,
    ids_: list[int],
    times: list[int],
    days: int,
) -> list[int]:
    """Positions (into ids_/times, ascending) of the page the request asks for."""
    params = signed.params
    limit = wire.limit_param(params)
    after, before = wire.int_param(params, "after"), wire.int_param(params, "before")
    begin, end = wire.int_param(params, "begin"), wire.int_param(params, "end")
    oldest = max(render.since(world, days), begin or 0)
    lo = bisect.bisect_left(times, oldest)
    hi = len(times) if end is None else bisect.bisect_right(times, end)
    return render.page(ids_, lo, hi, after, before, limit)


def _selected(
    account: Account, name: str, count: int, keep: Callable[[int], bool], ids_: list[int], times: list[int]
) -> tuple[list[int], list[int], list[int]]:
    """The positions that pass a filter, with their ids and times (cached per filter)."""

    def build() -> tuple[list[int], list[int], list[int]]:
        chosen = [i for i in range(count) if keep(i)]
        return chosen, [ids_[i] for i in chosen], [times[i] for i in chosen]

    return account.cached(name, build)


def _page(
    world: World,
    signed: Signed,
    name: str,
    ids_: list[int],
    times: list[int],
    days: int,
    keep: Callable[[int], bool] | None,
) -> list[int]:
    if keep is None:
        return _window(world, signed, ids_, times, days)
    chosen, chosen_ids, chosen_times = _selected(signed.account, name, len(ids_), keep, ids_, times)
    return [chosen[i] for i in _window(world, signed, chosen_ids, chosen_times, days)]


# -- fills ----------------------------------------------------------------------------------------


async def _fills(world: World, signed: Signed, days: int, inst_type_required: bool) -> web.Response:
    params = signed.params
    inst_type = params.get("instType", "")
    if inst_type_required and not inst_type:
        raise missing_param("instType")
    if inst_type and inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
        raise bad_param("instType")
    index = render.fill_index(world, signed.account)
    times = signed.account.cached("okx.fill_times", lambda: [t.time for t in index.trades])
    if inst_type not in ("", "SPOT"):
        return wire.reply([])  # spot trades only: nothing of any other instrument type
    inst_id, ord_id = params.get("instId", ""), params.get("ordId", "")
    keep = None
    if inst_id or ord_id:
        venue = world.venue("okx")

        def keep(i: int) -> bool:
            trade = index.trades[i]
            return (not inst_id or venue.markets[trade.symbol].id == inst_id) and (
                not ord_id or render.order_id(world, trade) == ord_id
            )

    name = f"okx.fills:{inst_id}:{ord_id}"
    chosen = _page(world, signed, name, index.bill_ids, times, days, keep)
    return wire.reply(
        [render.render_fill(world, signed.account, index.trades[i], index.bill_ids[i]) for i in chosen]
    )


async def fills(world: World, signed: Signed) -> web.Response:
    return await _fills(world, signed, FILLS_DAYS, inst_type_required=False)


async def fills_history(world: World, signed: Signed) -> web.Response:
    return await _fills(world, signed, FILLS_HISTORY_DAYS, inst_type_required=True)


# -- bills ----------------------------------------------------------------------------------------


async def _bills(world: World, signed: Signed, days: int) -> web.Response:
    params = signed.params
    index = render.ledger_index(world, signed.account)
    times = signed.account.cached("okx.bill_times", lambda: [e.time for e in index.entries])
    inst_type = params.get("instType", "")
    if inst_type not in ("", "SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
        raise bad_param("instType")
    ccy, kind, sub_type = params.get("ccy", ""), params.get("type", ""), params.get("subType", "")
    if kind and not kind.isdigit():
        raise bad_param("type")
    if inst_type not in ("", "SPOT"):
        return wire.reply([])  # a spot account: no bills of any other instrument type
    keep = None
    if ccy or kind or sub_type:

        def keep(i: int) -> bool:
            entry = index.entries[i]
            native, native_sub = render.bill_type(entry)
            return (
                (not ccy or entry.asset == ccy)
                and (not kind or native == kind)
                and (not sub_type or native_sub == sub_type)
            )

    name = f"okx.bills:{ccy}:{kind}:{sub_type}"
    chosen = _page(world, signed, name, index.bill_ids, times, days, keep)
    return wire.reply(
        [render.render_bill(world, signed.account, index.entries[i], index.bill_ids[i]) for i in chosen]
    )


async def bills(world: World, signed: Signed) -> web.Response:
    return await _bills(world, signed, BILLS_DAYS)


async def bills_archive(world: World, signed: Signed) -> web.Response:
    return await _bills(world, signed, BILLS_ARCHIVE_DAYS)

"""OKX's funding-account endpoints: asset/deposit-history, asset/withdrawal-history and
asset/currencies (GET /api/v5/...).

docs-v5 "Get deposit history" / "Get withdrawal history": records in reverse chronological
order, "The 100 most recent records are returned by default"; filters `ccy`, `depId` / `wdId`,
`txId`, `state`; `after` "Pagination of data to return records earlier than the requested ts",
`before` "... newer than the requested ts" (epoch ms); `limit` default 100, max 100. Today's docs
state no window for either, so every transfer is served (an older wording of "Get deposit
history", "up to 100 recent records in a year", as quoted by the JKorf/OKX.Net client, reads as a
page size, not a window). ccxt's fetch_deposits/fetch_withdrawals send
`before` = since - 1 and `after` = until; with `before` alone a page is the `limit` records just
newer than it (simulator convention, as for fills and bills), newest first.

asset/currencies lists one entry per currency and chain ("USDT-TRC20"), as ccxt's fetch_currencies
reads it once a key is set (it needs Read). Fiat (EUR) has no chain and is not listed (OKX moves
it through its fiat API).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.decimals import canonical
from exchange_sync.simulator.model import Transfer
from exchange_sync.simulator.protocols.okx import codes, render, wire
from exchange_sync.simulator.protocols.okx.auth import Signed

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World


def _matches(transfer: Transfer, params: dict[str, str], id_name: str) -> bool:
    state = render.STATES[transfer.kind][transfer.status][0]
    return (
        (not params.get("ccy") or transfer.asset == params["ccy"])
        and (not params.get(id_name) or render.transfer_id(transfer) == params[id_name])
        and (not params.get("txId") or transfer.txid == params["txId"])
        and (not params.get("state") or state == params["state"])
    )


async def _history(world: World, signed: Signed, kind: str, id_name: str) -> web.Response:
    params = signed.params
    limit = wire.limit_param(params)
    after, before = wire.int_param(params, "after"), wire.int_param(params, "before")
    transfers = [t for t in signed.account.transfers(kind) if _matches(t, params, id_name)]
    transfers.sort(key=lambda t: t.time)
    times = [t.time for t in transfers]
    chosen = render.page(times, 0, len(times), after, before, limit)
    return wire.reply([render.render_transfer(world, transfers[i]) for i in chosen])


async def deposit_history(world: World, signed: Signed) -> web.Response:
    return await _history(world, signed, "deposit", "depId")


async def withdrawal_history(world: World, signed: Signed) -> web.Response:
    return await _history(world, signed, "withdrawal", "wdId")


async def currencies(world: World, signed: Signed) -> web.Response:
    wanted = {c for c in signed.params.get("ccy", "").split(",") if c}
    entries: list[dict[str, Any]] = []
    for code, asset in world.venue("okx").assets.items():
        if wanted and code not in wanted:
            continue
        for position, network in enumerate(asset.networks):
            fee = world.catalog.withdraw_fee(code, network)
            entries.append(_currency(code, asset.name, network, position == 0, fee))
    return wire.reply(entries)


def _currency(code: str, name: str, network: str, main: bool, fee: Decimal) -> dict[str, Any]:
    return {
        "burningFeeRate": "",
        "canDep": True,
        "canInternal": True,
        "canWd": True,
        "ccy": code,
        "chain": codes.chain(code, network),
        "ctAddr": "",
        "depEstOpenTime": "",
        "depQuotaFixed": "",
        "depQuoteDailyLayer2": "",
        "fee": canonical(fee),
        "logoLink": "",
        "mainNet": main,
        "maxFee": canonical(fee),
        "maxFeeForCtAddr": "",
        "maxWd": "10000000",
        "minDep": "0.00000001",
        "minDepArrivalConfirm": "1",
        "minFee": canonical(fee),
        "minFeeForCtAddr": "",
        "minInternal": "0.0001",
        "minWd": canonical(fee * 2) if fee else "0.00000001",
        "minWdUnlockConfirm": "1",
        "name": name,
        "needTag": False,
        "usedDepQuotaFixed": "",
        "usedWdQuota": "0",
        "wdEstOpenTime": "",
        "wdQuota": "10000000",
        "wdTickSz": "8",
    }

"""Neutral records in OKX's shapes: fills (trade/fills, trade/fills-history), bills
(account/bills, account/bills-archive), deposits and withdrawals (asset/deposit-history,
asset/withdrawal-history), plus the indexes the paging handlers bisect. Field lists follow the
docs-v5 response examples; ccxt okx.py's parse_trade / parse_ledger_entry / parse_transaction
read the fields named in each function's comment.

Bills: a fill books one bill per currency it moves (type "2" trade, subType "1" buy / "2" sell),
with `balChg` the net change of the balance, fee included ("balChg" = size + fee, `fee` negative:
docs-v5 "Get bills details" example), `bal` the balance after it and `ordId`/`tradeId` of the
fill. A fill's `billId` is that of its first bill. Simulator convention: the account is OKX's
trading account and deposits and withdrawals move through it as transfers from and to the
funding account (type "1", subType "11" transfer in / "12" transfer out, `from`/`to` "6"
funding / "18" trading), the withdrawal fee included in the transfer out; such bills name no
order (ordId ""), so the ledger does not link them to the deposit or withdrawal.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exchange_sync.simulator.catalog import DAY_MS
from exchange_sync.simulator.ledger import TICKS_PER_MS, LedgerEntry, ledger
from exchange_sync.simulator.model import Account, Trade, Transfer
from exchange_sync.simulator.protocols.okx import codes, ids, wire
from exchange_sync.simulator.seed import OFFSET_MS

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

# neutral status -> (OKX state, ccxt 4.5 okx.parse_transaction_status's word). Deposits: "0"
# waiting for confirmation, "2" deposit successful; withdrawals: "1" withdrawing, "2" withdraw
# success, "-1" failed, "-2" canceled (docs-v5 "Get deposit history" / "Get withdrawal history").
STATES: dict[str, dict[str, tuple[str, str]]] = {
    "deposit": {"pending": ("0", "pending"), "ok": ("2", "ok")},
    "withdrawal": {
        "pending": ("1", "pending"),
        "ok": ("2", "ok"),
        "failed": ("-1", "failed"),
        "canceled": ("-2", "canceled"),
    },
}
TRANSFER_BILL = "1"
TRADE_BILL = "2"
TRANSFER_IN, TRANSFER_OUT = "11", "12"
FUNDING, TRADING = "6", "18"


def market_index(world: World, symbol: str) -> int:
    def build() -> dict[str, int]:
        return {m.symbol: i for i, m in enumerate(world.venue("okx").market_list)}

    cached = world.cache.get("okx.market_index")
    if cached is None:
        cached = world.cache["okx.market_index"] = build()
    return cached[symbol]


def trade_id(trade: Trade) -> str:
    return str(trade.seq)


def order_id(world: World, trade: Trade) -> str:
    return ids.order_id(trade.order_seq, market_index(world, trade.symbol))


def transfer_id(transfer: Transfer) -> str:
    return ids.deposit_id(transfer.key) if transfer.kind == "deposit" else ids.withdrawal_id(transfer.key)


# -- the ledger and its indexes ---------------------------------------------------------------


@dataclass(slots=True)
class LedgerIndex:
    entries: list[LedgerEntry]  # oldest first
    bill_ids: list[int]  # ascending, one per entry
    trade_bills: dict[int, int]  # id(trade) -> the bill id of its first entry


def ledger_index(world: World, account: Account) -> LedgerIndex:
    def build() -> LedgerIndex:
        entries = ledger(account)
        base = (world.anchor_ms - OFFSET_MS) * TICKS_PER_MS
        bill_ids: list[int] = []
        trade_bills: dict[int, int] = {}
        rank, last_tick = 0, None
        for entry in entries:
            rank = rank + 1 if entry.tick == last_tick else 0
            last_tick = entry.tick
            bill = ids.bill_id(entry.tick - base, rank, account.slot)
            bill_ids.append(bill)
            if isinstance(entry.source, Trade):
                trade_bills.setdefault(id(entry.source), bill)
        return LedgerIndex(entries, bill_ids, trade_bills)

    return account.cached("okx.ledger", build)


@dataclass(slots=True)
class FillIndex:
    trades: list[Trade]  # by bill id, ascending
    bill_ids: list[int]


def fill_index(world: World, account: Account) -> FillIndex:
    def build() -> FillIndex:
        bills = ledger_index(world, account).trade_bills
        pairs = sorted((bills[id(t)], t) for t in account.all_trades())
        return FillIndex([t for _, t in pairs], [b for b, _ in pairs])

    return account.cached("okx.fills", build)


def bill_amount(entry: LedgerEntry) -> tuple[str, str]:
    """(balChg, fee) as a bill shows them: the net change, and the fee charged (negative) on the
    trade bill that paid it ("0" on transfers: a withdrawal's fee is inside its transfer out)."""
    net = entry.amount - entry.fee
    fee = wire.negated(entry.fee) if isinstance(entry.source, Trade) else "0"
    return wire.number(net), fee


def render_bill(world: World, account: Account, entry: LedgerEntry, bill: int) -> dict[str, Any]:
    balance_change, fee = bill_amount(entry)
    source = entry.source
    body: dict[str, Any] = {
        "bal": wire.number(entry.balance),
        "balChg": balance_change,
        "billId": str(bill),
        "ccy": entry.asset,
        "clOrdId": "",
        "execType": "",
        "fee": fee,
        "fillFwdPx": "",
        "fillIdxPx": "",
        "fillMarkPx": "",
        "fillMarkVol": "",
        "fillPxUsd": "",
        "fillPxVol": "",
        "fillTime": "",
        "from": "",
        "instId": "",
        "instType": "",
        "interest": "0",
        "mgnMode": "",
        "notes": "",
        "ordId": "",
        "pnl": "0",
        "posBal": "0",
        "posBalChg": "0",
        "px": "",
        "subType": "",
        "sz": wire.number(abs(entry.amount)),
        "tag": "",
        "to": "",
        "tradeId": "",
        "ts": str(entry.time),
        "type": "",
    }
    if isinstance(source, Trade):
        market = world.venue("okx").markets[source.symbol]
        body |= {
            "execType": "M" if source.is_maker else "T",
            "fillTime": str(source.time),
            "instId": market.id,
            "instType": "SPOT",
            "mgnMode": "cash",
            "ordId": order_id(world, source),
            "px": wire.number(source.price),
            "subType": "1" if source.is_buyer else "2",
            "tradeId": trade_id(source),
            "type": TRADE_BILL,
        }
    else:
        incoming = entry.amount > 0
        body |= {
            "from": FUNDING if incoming else TRADING,
            "to": TRADING if incoming else FUNDING,
            "subType": TRANSFER_IN if incoming else TRANSFER_OUT,
            "type": TRANSFER_BILL,
        }
    return body


def bill_type(entry: LedgerEntry) -> tuple[str, str]:
    if isinstance(entry.source, Trade):
        return TRADE_BILL, "1" if entry.source.is_buyer else "2"
    return TRANSFER_BILL, TRANSFER_IN if entry.amount > 0 else TRANSFER_OUT


# -- fills --------------------------------------------------------------------------------------


def render_fill(world: World, account: Account, trade: Trade, bill: int) -> dict[str, Any]:
    venue = world.venue("okx")
    market, fees = venue.markets[trade.symbol], venue.fees
    return {
        "instType": "SPOT",
        "instId": market.id,
        "tradeId": trade_id(trade),
        "ordId": order_id(world, trade),
        "clOrdId": "",
        "billId": str(bill),
        "subType": "1" if trade.is_buyer else "2",
        "tag": "",
        "fillPx": wire.number(trade.price),
        "fillSz": wire.number(trade.qty),
        "fillIdxPx": "",
        "fillPnl": "0",
        "fillPxVol": "",
        "fillPxUsd": "",
        "fillMarkVol": "",
        "fillFwdPx": "",
        "fillMarkPx": "",
        "side": "buy" if trade.is_buyer else "sell",
        "posSide": "net",
        "execType": "M" if trade.is_maker else "T",
        "feeCcy": trade.fee_asset,
        "fee": wire.negated(trade.fee),
        "feeRate": wire.negated(fees.maker if trade.is_maker else fees.taker),
        "ts": str(trade.time),
        "fillTime": str(trade.time),
    }


# -- funding ------------------------------------------------------------------------------------


def render_transfer(world: World, transfer: Transfer) -> dict[str, Any]:
    state = STATES[transfer.kind][transfer.status][0]
    common = {
        "ccy": transfer.asset,
        "chain": codes.chain(transfer.asset, transfer.network),
        "amt": wire.number(transfer.amount),
        "txId": transfer.txid,
        "to": transfer.address,
        "areaCodeFrom": "",
        "ts": str(transfer.time),
        "state": state,
    }
    if transfer.kind == "deposit":
        confirmations = str(transfer.confirmations) if transfer.status == "ok" else "0"
        return common | {
            "depId": transfer_id(transfer),
            "from": "",
            "fromWdId": "",
            "actualDepBlkConfirm": confirmations,
        }
    return common | {
        "wdId": transfer_id(transfer),
        "clientId": "",
        "fee": wire.number(transfer.fee),
        "feeCcy": transfer.asset,
        "from": "",
        "tag": transfer.tag,
        "pmtId": "",
        "memo": "",
        "addrEx": None,
        "areaCodeTo": "",
        "nonTradableAsset": False,
    }


# -- windows and cursors ------------------------------------------------------------------------


def page(ids_: list[int], lo: int, hi: int, after: int | None, before: int | None, limit: int) -> list[int]:
    """Positions of one page, newest first, in the ascending `ids_` restricted to [lo, hi):
    `after` = records older than that id, `before` = newer; with `before` alone the page is the
    `limit` records just newer than it (so a client can walk forward), otherwise the newest."""
    if after is not None:
        hi = min(hi, bisect.bisect_left(ids_, after))
    if before is not None:
        lo = max(lo, bisect.bisect_right(ids_, before))
    if hi <= lo:
        return []
    if before is not None and after is None:
        return list(range(min(hi, lo + limit) - 1, lo - 1, -1))
    return list(range(hi - 1, max(lo, hi - limit) - 1, -1))


def since(world: World, days: int) -> int:
    """The oldest time (ms) an endpoint remembering `days` days serves now."""
    return world.server_time_ms() - days * DAY_MS

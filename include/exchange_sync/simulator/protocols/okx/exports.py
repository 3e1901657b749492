"""OKX's website exports of an account's whole history (also what the API no longer serves: fills
and bills older than 3 months), as the CSV files its "Download" of the account's bills writes.

OKX publishes no specification of these files; the layouts are those of real downloads as
parsers of them read them (BittyTax `conv/parsers/okx.py`; everytrade's OKX beans and their
tests, whose sample lines are real exports of 2023 and 2025). Two files:

* `trading-account-history.csv`, the trading account's bills, one line per bill, newest header
  version (2025): ``id,Order id,Time,Trade Type,Symbol,Action,Amount,Trading Unit,Filled Price,
  PnL,Fee,Fee Unit,Position Change,Position Balance,Balance Change,Balance,Balance Unit``. A fill
  is two lines (one per currency it moves) sharing the order id and time: `Action` "Buy" on the
  currency coming in, "Sell" on the one going out, `Amount` the gross size of that leg, `Fee`
  negative on the leg that paid it (in that leg's currency), `Balance Change` = Amount + Fee,
  signed, `Balance` after it. Assumed (the samples agree, OKX does not say): `id` is the bill's
  `billId`, the API's ledger id, and `Order id` its `ordId`; the export has no trade id. `Trading
  Unit` is the unit the order was sized in (the samples: the base on sells, the quote on
  market buys), which readers ignore. Transfers between the funding and the trading account are
  `Trade Type` "Transfer" lines (Action "Transfer in" / "Transfer out": assumed wording), with no
  order id.
* `funding-account-history.csv`, the funding account's bills: ``id,Time,Type,Amount,Before
  Balance,After Balance,Fee,Symbol`` (the version with `Fee`, BittyTax's; the 2025 sample has no
  `Fee` column, which would lose a withdrawal's fee, so the simulator writes the one with it).
  `id` is a funding-bill number, NOT the API's depId / wdId (the samples' ids of one account
  count up across deposits and withdrawals alike), so transfers from it are matched by content.
  Types "Deposit" (when credited), "Withdrawal" (Amount = -amount, Fee negative), and the refund
  of a withdrawal that ended canceled or failed, "Canceled withdrawal" / "Failed withdrawal"
  (assumed wording, type 13 of OKX's asset bills is "Canceled withdrawal"). Simulator
  conventions: the transfers to and from the trading account that follow each of them are not
  written (the trading-account file holds their trading side), so the funding balance of a line
  is only that flow's own; deposits are dated by their `ts` (as the API's deposit history).

Times: "YYYY-MM-DD HH:MM:SS" in UTC, whole seconds (the download offers the account's time zone;
UTC assumed). Amounts with 8 decimals, as the samples ("0.00000000", "95264.80000000").
Newest line first, as the website lists bills.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from exchange_sync.simulator.decimals import ZERO, canonical, quantum
from exchange_sync.simulator.ledger import LedgerEntry
from exchange_sync.simulator.model import Account, Trade, Transfer
from exchange_sync.simulator.protocols.okx import render

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

TRADING = "trading-account-history.csv"
FUNDING = "funding-account-history.csv"
NAMES = (TRADING, FUNDING)

TRADING_HEADER = ("id", "Order id", "Time", "Trade Type", "Symbol", "Action", "Amount", "Trading Unit",
                  "Filled Price", "PnL", "Fee", "Fee Unit", "Position Change", "Position Balance",
                  "Balance Change", "Balance", "Balance Unit")  # fmt: skip
FUNDING_HEADER = ("id", "Time", "Type", "Amount", "Before Balance", "After Balance", "Fee", "Symbol")
REFUND_TYPES = {"canceled": "Canceled withdrawal", "failed": "Failed withdrawal"}
# Funding-bill numbers: 11 digits like the samples' ("10021312314"), one counter per account.
FUNDING_BILL_BASE = 10_000_000_000


def export(world: World, account: Account, name: str) -> str:
    if name == TRADING:
        return _csv(TRADING_HEADER, reversed(list(_trading_lines(world, account))))
    if name == FUNDING:
        return _csv(FUNDING_HEADER, reversed(list(_funding_lines(account))))
    raise KeyError(name)


def _csv(header: tuple[str, ...], lines: Iterable[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return out.getvalue()


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _fixed(value: Decimal) -> str:
    """8 decimals, as OKX writes them ("0.00000000"); an amount with more keeps its digits."""
    padded = value.quantize(quantum(8))
    return f"{padded:f}" if padded == value else canonical(value)


def _trading_lines(world: World, account: Account) -> Iterable[list[str]]:
    index = render.ledger_index(world, account)
    for entry, bill in zip(index.entries, index.bill_ids, strict=True):
        yield _bill_line(world, entry, bill)


def _bill_line(world: World, entry: LedgerEntry, bill: int) -> list[str]:
    source, asset = entry.source, entry.asset
    change = entry.amount - entry.fee
    if isinstance(source, Trade):
        market = world.venue("okx").markets[source.symbol]
        base, quote = source.symbol.split("/")
        kind, order, symbol, price = "Spot", render.order_id(world, source), market.id, _fixed(source.price)
        action = "Buy" if entry.amount > 0 else "Sell"  # the currency coming in, or going out
        unit = base if not source.is_buyer else quote
        fee = -entry.fee
    else:
        kind, order, symbol, price = "Transfer", "", "", ""
        action = "Transfer in" if change > 0 else "Transfer out"
        unit, fee = asset, ZERO  # a withdrawal's fee leaves with its transfer out
    return [
        str(bill),
        order,
        _time(entry.time),
        kind,
        symbol,
        action,
        _fixed(abs(entry.amount) if isinstance(source, Trade) else abs(change)),
        unit,
        price,
        _fixed(ZERO),
        _fixed(fee),
        asset,
        _fixed(ZERO),
        _fixed(ZERO),
        _fixed(change),
        _fixed(entry.balance),
        asset,
    ]


def _funding_lines(account: Account) -> Iterable[list[str]]:
    """(time, line) of every flow with the outside, oldest first."""
    events: list[tuple[int, int, str, Transfer]] = []
    for transfer in account.deposits:
        if transfer.status == "ok":
            events.append((transfer.time, 0, "Deposit", transfer))
    for transfer in account.withdrawals:
        events.append((transfer.time, 0, "Withdrawal", transfer))
        if transfer.status in REFUND_TYPES:
            assert transfer.resolved_at is not None
            events.append((transfer.resolved_at, 1, REFUND_TYPES[transfer.status], transfer))
    events.sort(key=lambda e: (e[0], e[1], e[3].kind, e[3].key))
    for number, (time, _, kind, transfer) in enumerate(events):
        fee = transfer.fee if kind == "Withdrawal" else ZERO
        if kind == "Deposit":
            amount, before = transfer.amount, ZERO
        elif kind == "Withdrawal":
            amount, before = -transfer.amount, transfer.amount + transfer.fee
        else:
            amount, before = transfer.amount + transfer.fee, ZERO
        yield [
            str(FUNDING_BILL_BASE + account.slot * 10**8 + number),
            _time(time),
            kind,
            _fixed(amount),
            _fixed(before),
            _fixed(before + amount - fee),
            _fixed(-fee),
            transfer.asset,
        ]

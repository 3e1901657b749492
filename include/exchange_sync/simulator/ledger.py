"""An account's ledger: every balance change, derived from its journal in the order it happened.

A trade gives one entry per asset it moves (what was spent, what came in), with the fee on the
entry of the asset it was charged in (a separate zero-amount entry when that is a third asset, a
fee token); a credited deposit, a withdrawal (amount and fee), the refund of a failed or canceled
withdrawal and a staking reward give one entry each; a conversion two (what went out, what came
in). `balance` is the asset's balance after the entry, so summing `amount - fee` per asset over
the ledger gives the balances.

Entry times are kept non-decreasing in 1/10,000 s, the finest unit an exchange shows here (Kraken),
so exchanges that filter the ledger by time can bisect it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exchange_sync.simulator.decimals import ZERO, add, sub
from exchange_sync.simulator.model import Account, Conversion, Reward, Trade, Transfer

TICKS_PER_MS = 10  # ledger time unit: 1/10,000 s


@dataclass(slots=True)
class LedgerEntry:
    seq: int  # position in the account's ledger, from 0
    tick: int  # time in 1/10,000 s (non-decreasing along the ledger)
    type: str  # "trade", "deposit", "withdrawal", "refund", "reward", "conversion"
    asset: str
    amount: Decimal  # signed, before the fee
    fee: Decimal
    balance: Decimal  # after this entry
    source: Trade | Transfer | Reward | Conversion

    @property
    def time(self) -> int:
        """Epoch ms."""
        return self.tick // TICKS_PER_MS


def _legs(kind: str, record: Any) -> tuple[tuple[str, Decimal, Decimal], ...]:
    """(asset, amount, fee) per ledger entry of one journal entry."""
    if kind == "trade":
        trade: Trade = record
        base, quote = trade.symbol.split("/")
        if trade.is_buyer:
            spent, spent_amount, received, received_amount = quote, -trade.cost, base, trade.qty
        else:
            spent, spent_amount, received, received_amount = base, -trade.qty, quote, trade.cost
        fee, fee_asset = trade.fee, trade.fee_asset
        if fee_asset == spent:
            return (spent, spent_amount, fee), (received, received_amount, ZERO)
        if fee_asset == received:
            return (spent, spent_amount, ZERO), (received, received_amount, fee)
        return (spent, spent_amount, ZERO), (received, received_amount, ZERO), (fee_asset, ZERO, fee)
    if kind == "conversion":
        conversion: Conversion = record
        out = (conversion.from_asset, -conversion.from_amount, ZERO)
        return out, (conversion.to_asset, conversion.to_amount, ZERO)
    if kind == "deposit" or kind == "reward":
        return ((record.asset, record.amount, ZERO),)
    if kind == "withdrawal":
        return ((record.asset, -record.amount, record.fee),)
    return ((record.asset, add(record.amount, record.fee), ZERO),)  # refund


def ledger(account: Account) -> list[LedgerEntry]:
    """The account's ledger, oldest first (cached until the account changes)."""
    return account.cached("ledger", lambda: _derive(account))


def _derive(account: Account) -> list[LedgerEntry]:
    entries: list[LedgerEntry] = []
    running: dict[str, Decimal] = {}
    last_tick = 0
    for time, kind, record in account.journal:
        # Trades carry a sub-millisecond part in 1/10,000,000 s (see model.Trade.sub).
        fraction = record.sub // 1000 if kind == "trade" else 0
        tick = max(last_tick, time * TICKS_PER_MS + fraction)
        last_tick = tick
        for asset, amount, fee in _legs(kind, record):
            balance = sub(add(running.get(asset, ZERO), amount), fee)
            running[asset] = balance
            entries.append(LedgerEntry(len(entries), tick, kind, asset, amount, fee, balance, record))
    return entries


def sums(entries: list[LedgerEntry]) -> dict[str, Decimal]:
    """amount - fee per asset: what the balances must be."""
    totals: dict[str, Decimal] = {}
    for entry in entries:
        totals[entry.asset] = sub(add(totals.get(entry.asset, ZERO), entry.amount), entry.fee)
    return totals

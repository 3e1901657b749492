"""Binance's website exports of an account's WHOLE history (also what the API no longer serves):
the files a user downloads from Orders → Spot Order → Trade History, Wallet → Transaction
History → Deposit / Withdraw, and Account → Statements ("Generate all statements").

Headers are the newest versions (products.md §3, BittyTax's and rotki's Binance parsers):

* Spot Trade History `Date(UTC),Pair,Side,Price,Executed,Amount,Fee`: one line per fill, sides
  "BUY"/"SELL", Executed in the base asset and Amount in the quote asset, each value with its
  asset as suffix ("0.00100000BTC"), the fee with the asset it was charged in. Price and
  Executed are written with the market's own decimals (simulator convention: Binance pads them
  to the symbol's precision; unverified whether it ever trims).
* Deposit History `Date(UTC+0),Coin,Network,Amount,Address,TXID,Status` and Withdraw History
  (`Fee` after `Amount`): one line per transfer, the API's txId (internal transfers keep
  Binance's "Internal transfer <id>" text, as the API's txId does: an assumption), statuses in
  the website's words.
* Transaction History `User_ID,UTC_Time,Account,Operation,Coin,Change,Remark`: one line per
  balance change of the ledger (`simulator/ledger.py`), the Spot account's, with the change net
  of its fee (a withdrawal's line includes its fee, as Binance's does: "Withdraw fee is
  included"), a trade's fee on a line of its own ("Transaction Fee").

No file carries the API's trade or transfer ids (Binance's exports have none but the TXID), and
times are whole seconds in UTC.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exchange_sync.simulator.decimals import ZERO, canonical, fixed
from exchange_sync.simulator.ledger import LedgerEntry, ledger
from exchange_sync.simulator.model import Account, Trade, Transfer
from exchange_sync.simulator.protocols.binance import convert

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

TRADES = "spot_trade_history.csv"
DEPOSITS = "deposit_history.csv"
WITHDRAWALS = "withdraw_history.csv"
STATEMENT = "transaction_history.csv"
# The import reads the statement last in this order only by habit: its format never depends on
# what was imported before (its trade and transfer legs are always left to the other files).
EXPORT_NAMES = (TRADES, DEPOSITS, WITHDRAWALS, STATEMENT)

# neutral status -> what the website's history shows (the API's native codes' names, wallet.py).
STATUS_WORDS = {
    "deposit": {"pending": "Pending", "ok": "Completed", "failed": "Rejected"},
    "withdrawal": {"pending": "Processing", "ok": "Completed", "failed": "Failure", "canceled": "Cancelled"},
}
# Ledger entry types -> Binance's Operation names (rotki's and BittyTax's lists). A type not
# listed here (a flow added to the neutral model later) is written as its own name.
OPERATIONS = {
    "deposit": "Deposit",
    "withdrawal": "Withdraw",
    # A failed or canceled withdrawal given back. Simulator convention: Binance's name for the
    # refund line is undocumented; it is a leg of the Withdraw History's line either way.
    "refund": "Withdraw",
    "reward": "Simple Earn Flexible Interest",
}
# The neutral "conversion" flow's kinds (convert, dust) -> Binance's names.
CONVERSIONS = {"convert": convert.LEDGER_TYPE, "dust": "Small Assets Exchange BNB"}


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _csv(header: Sequence[str], lines: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return out.getvalue()


def export(world: World, account: Account, name: str) -> str:
    if name == TRADES:
        return spot_trade_history(world, account)
    if name in (DEPOSITS, WITHDRAWALS):
        return transfer_history(account, "deposit" if name == DEPOSITS else "withdrawal")
    if name == STATEMENT:
        return transaction_history(account)
    raise KeyError(name)


def spot_trade_history(world: World, account: Account) -> str:
    markets = world.venue("binance").markets

    def line(trade: Trade) -> list[str]:
        market = markets[trade.symbol]
        return [
            _when(trade.time),
            market.id,
            "BUY" if trade.is_buyer else "SELL",
            fixed(trade.price, market.price_decimals),
            fixed(trade.qty, market.qty_decimals) + market.base,
            canonical(trade.cost) + market.quote,
            canonical(trade.fee) + trade.fee_asset,
        ]

    # Newest first, as the website lists them.
    lines = [line(t) for t in reversed(account.all_trades())]
    return _csv(("Date(UTC)", "Pair", "Side", "Price", "Executed", "Amount", "Fee"), lines)


def transfer_history(account: Account, kind: str) -> str:
    def line(transfer: Transfer) -> list[str]:
        amount = [canonical(transfer.amount)]
        if kind == "withdrawal":
            amount.append(canonical(transfer.fee))
        return [
            _when(transfer.time),
            transfer.asset,
            transfer.network,
            *amount,
            transfer.address,
            transfer.txid,
            STATUS_WORDS[kind][transfer.status],
        ]

    header = ["Date(UTC+0)", "Coin", "Network", "Amount", "Address", "TXID", "Status"]
    if kind == "withdrawal":
        header.insert(4, "Fee")
    return _csv(header, [line(t) for t in reversed(account.transfers(kind))])


def operation(entry: LedgerEntry) -> str:
    """The Operation of a ledger entry's amount line (a trade's fee has its own line)."""
    if entry.type == "trade":
        trade = entry.source
        assert isinstance(trade, Trade)
        base = trade.symbol.split("/")[0]
        if trade.is_buyer:
            return "Transaction Buy" if entry.asset == base else "Transaction Spend"
        return "Transaction Sold" if entry.asset == base else "Transaction Revenue"
    if entry.type == "conversion":
        return CONVERSIONS.get(getattr(entry.source, "kind", ""), "Binance Convert")
    return OPERATIONS.get(entry.type, entry.type)


def statement_lines(account: Account) -> list[list[str]]:
    lines = []
    for entry in ledger(account):
        when = _when(entry.time)
        if entry.type == "trade":
            if entry.amount != ZERO:
                lines.append([when, operation(entry), entry.asset, canonical(entry.amount)])
            if entry.fee != ZERO:
                lines.append([when, "Transaction Fee", entry.asset, canonical(-entry.fee)])
        else:
            lines.append([when, operation(entry), entry.asset, canonical(entry.amount - entry.fee)])
    return lines


def transaction_history(account: Account) -> str:
    lines = [
        [str(account.uid), when, "Spot", op, coin, change, ""]
        for when, op, coin, change in statement_lines(account)
    ]
    return _csv(("User_ID", "UTC_Time", "Account", "Operation", "Coin", "Change", "Remark"), lines)

"""Coinbase's "Transaction report" (coinbase.com → Statements → Generate report, CSV), every
header version (products.md §3, BittyTax coinbase.py):

* v4: `ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at
  Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes`
  (newest; also without `ID`);
* v3: `Spot Price Currency`, `Spot Price at Transaction` instead of the two `Price` columns;
* v2: `Total (inclusive of fees)`, `Fees`;
* v1: currency-prefixed value columns (`USD Spot Price at Transaction`, `USD Subtotal`, ...).

A preamble precedes the header (the reader finds it). Times are whole seconds in UTC. Quantities
are in the line's asset (newer files sign them, older ones do not: the type gives the direction
here); the value columns are in the report's currency ("$441.45411", also "€1,234.56"), so a
trade's own amounts come from its Notes ("Bought 0.00424956 BTC for 446.7515585950032 USDC on
BTC-USDC at 103882.31 USDC/BTC": the quote amount that moved, fee included in a buy's, taken
from a sale's; fee = that difference from quantity x price).

What each line becomes, as the API import stores the same history (v3 fills → trades; v2
transactions → ledger, and their send / fiat_* entries → transfers):
* a trade (Advanced Trade Buy/Sell; Buy/Sell whose Notes name product and price): a trades row
  and the ledger rows of its two legs (`advanced_trade_fill`), all WITHOUT a native id: the
  report has no fill id, and its ID is one transaction's, so they are matched by content
  (matching.py) within the report's one-second precision;
* Send / Receive / Deposit / Withdrawal: a transfers row and a ledger row keyed by the line's ID
  (the v2 transaction id: the simulator's assumption, README "Coinbase"); files without an ID
  column give content ids;
* rewards, conversions and other balance changes: ledger rows of the v2 type (table below);
* moves between the user's own Coinbase wallets (staking, vaults): `not_a_balance_change`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from exchange_sync.csv_import.formats.base import (
    CsvFormat,
    ParseContext,
    Record,
    Rejection,
    ledger_entry,
    trade,
    transfer,
)
from exchange_sync.csv_import.values import Row, RowRejected, normalise

TIMES = ("%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z")
TRADES = {
    "advanced trade buy": "buy",
    "advance trade buy": "buy",
    "buy": "buy",
    "advanced trade sell": "sell",
    "advance trade sell": "sell",
    "sell": "sell",
}
# Report type -> (the v2 transaction type the API's ledger names it by, direction).
LEDGER_ONLY = {
    "staking income": ("staking_reward", 1),
    "rewards income": ("staking_reward", 1),
    "reward income": ("staking_reward", 1),
    "inflation reward": ("inflation_reward", 1),
    "coinbase earn": ("earn_payout", 1),
    "learning reward": ("earn_payout", 1),
    "interest payout": ("interest", 1),
    "subscription rebate": ("subscription_rebate", 1),
    "subscription rebates (24 hours)": ("subscription_rebate", 1),
    "send reversal": ("tx", 1),  # the simulator's refund of a send that did not complete
    "exchange withdrawal": ("exchange_withdrawal", 1),
    "pro withdrawal": ("pro_withdrawal", 1),
    "exchange deposit": ("exchange_deposit", -1),
    "pro deposit": ("pro_deposit", -1),
    "donation": ("donation", -1),
    "admin debit": ("admin_debit", -1),
    "card spend": ("card_spend", -1),
    "retail simple dust": ("retail_simple_dust", -1),
}
INTERNAL = ("retail staking transfer", "retail unstaking transfer", "vault withdrawal", "cash to savings")
# ccxt coinbase.py commonCurrencies, for files imported before any market list was stored.
CODES = {"CGLD": "CELO"}
_NUMBER = r"-?[\d,]*\.?\d+(?:[eE][+-]?\d+)?"
_TRADE_NOTES = re.compile(
    rf"^(?:Bought|Sold) (?P<qty>{_NUMBER}) (?P<base>\S+) for \D?(?P<moved>{_NUMBER}) (?P<quote>\S+) "
    rf"on (?P<product>\S+) at \D?(?P<price>{_NUMBER}) \S+$"
)
_CONVERT_NOTES = re.compile(rf"^Converted {_NUMBER} \S+ to (?P<amount>{_NUMBER}) (?P<asset>\S+)\s*$")
_REVERSAL_NOTES = re.compile(
    r"^Reversal of (?P<id>\S+): the (?:send|withdrawal) (?P<how>failed|was canceled)"
)
_SENT_TO = re.compile(r"^Sent .* to (?P<address>[^\s(]+)")
PENDING = "(pending)"  # a withdrawal not completed when the report was made (the simulator's mark)
_MONEY = re.compile(rf"^(?P<sign>-?)\D*?(?P<sign2>-?)(?P<number>{_NUMBER})$")


def _number(text: str, column: str) -> Decimal:
    """A number of the report's Notes or value columns: thousands commas allowed (they are
    quoted in the file), a currency sign before it ("$", "€", "-$")."""
    match = _MONEY.match(text.strip())
    if match is None:
        raise RowRejected("bad_amount", f"column {column!r}: {text!r} is not an amount")
    number = Decimal(match["number"].replace(",", ""))
    return -number if match["sign"] or match["sign2"] else number


class _Columns:
    """Where this file's version keeps the value columns, and in which currency they are (a
    column of its own from v2 on; v1 names it in the columns' prefix: "USD Subtotal")."""

    def __init__(self, header: Sequence[str]):
        columns = [normalise(c) for c in header]

        def find(*names: str) -> str | None:
            for name in names:
                if name in columns:
                    return name
            prefixed = (
                c for c in columns for name in names if re.fullmatch(rf"[a-z]{{3}} {re.escape(name)}", c)
            )
            return next(prefixed, None)

        self.price = find("price at transaction", "spot price at transaction")
        self.subtotal = find("subtotal")
        self.total = find("total (inclusive of fees and/or spread)", "total (inclusive of fees)")
        self.fees = find("fees and/or spread", "fees")
        self.currency = find("price currency", "spot price currency")
        # v1: the currency is the value columns' prefix
        self.prefix = None if self.currency or self.total is None else self.total[:3].upper()

    def currency_of(self, row: Row) -> str | None:
        return row.text(self.currency, optional=True) if self.currency else self.prefix


def _currency(context: ParseContext, native: str) -> str:
    unified = context.currency(native)
    return CODES.get(unified, unified)


@dataclass(frozen=True)
class _Line:
    """One data line with what every kind of line reads from it."""

    row: Row
    columns: _Columns
    context: ParseContext
    kind: str  # Transaction Type, normalised
    time: datetime
    asset: str  # unified
    ident: str | None  # the ID column (v4)
    notes: str

    @classmethod
    def read(cls, row: Row, columns: _Columns, context: ParseContext) -> _Line:
        return cls(
            row,
            columns,
            context,
            normalise(row.text("Transaction Type") or ""),
            row.time("Timestamp", TIMES),
            _currency(context, row.text("Asset") or ""),
            row.text("ID", optional=True),
            row.text("Notes", optional=True) or "",
        )

    def quantity(self) -> Decimal:
        """Unsigned: older versions do not sign it, so the type gives the direction."""
        return abs(self.row.amount("Quantity Transacted") or Decimal(0))

    def value(self, column: str | None) -> Decimal:
        """A value column's amount, unsigned."""
        if column is None:
            raise RowRejected("missing_value", "this version of the report has no such value column")
        return abs(_number(self.row.text(column) or "", column))

    def fee_in_asset(self) -> Decimal | None:
        """A transfer's fee in its asset: the report values it in its own currency, at the line's
        price (Fees / Price at Transaction; exact where the report wrote their exact product)."""
        columns = self.columns
        if columns.fees is None or self.row.text(columns.fees, optional=True) is None:
            return None
        fee = self.value(columns.fees)
        if not fee:
            return Decimal(0)
        price = self.value(columns.price)
        if not price:
            raise RowRejected("missing_value", "a fee without the price that values it")
        return fee / price

    def entry(self, type: str, currency: str, amount: Decimal, **values: Any) -> Record:
        return ledger_entry(
            self.row.line, type=type, currency=currency, amount=amount, occurred_at=self.time, **values
        )


def _trade(line: _Line, side: str) -> Iterator[Record]:
    notes = _TRADE_NOTES.match(line.notes)
    if notes is not None:
        qty, price, moved = (abs(_number(notes[k], "Notes")) for k in ("qty", "price", "moved"))
        base, quote = _currency(line.context, notes["base"]), _currency(line.context, notes["quote"])
        symbol = line.context.symbol(notes["product"]) or f"{base}/{quote}"
        cost = qty * price
        fee = moved - cost if side == "buy" else cost - moved
    else:
        # Notes like "Bought ETH": a trade against the report's currency, its amounts in the value
        # columns (Subtotal = quantity x price, Total = what the quote leg moved, fee in Fees).
        columns = line.columns
        qty, base, quote = (
            line.quantity(),
            line.asset,
            _currency(line.context, columns.currency_of(line.row) or ""),
        )
        if not quote:
            raise RowRejected("missing_value", "a trade whose Notes name no product and price")
        price, cost, moved, fee = (
            line.value(c) for c in (columns.price, columns.subtotal, columns.total, columns.fees)
        )
        symbol = f"{base}/{quote}"
    if fee < 0:
        raise RowRejected("bad_amount", f"{moved} {quote} is not quantity x price with a fee")
    yield trade(
        line.row.line,
        symbol=symbol,
        side=side,
        price=price,
        amount=qty,
        cost=cost,
        fee_cost=fee,
        fee_currency=quote,
        traded_at=line.time,
    )
    sign = 1 if side == "buy" else -1
    yield line.entry("advanced_trade_fill", base, sign * qty)
    yield line.entry("advanced_trade_fill", quote, -sign * moved)


def _simple_trade(line: _Line) -> Iterator[Record]:
    """A retail Buy or Sell (v2 type buy / sell), paid in the report's currency: the asset's leg
    and the payment's (Total: what was paid, fees included, or what a sale brought)."""
    currency = line.columns.currency_of(line.row)
    if not currency:
        raise RowRejected("missing_value", f"a {line.kind} without its Price Currency")
    sign = 1 if line.kind == "buy" else -1
    yield line.entry(line.kind, line.asset, sign * line.quantity())
    yield line.entry(line.kind, _currency(line.context, currency), -sign * line.value(line.columns.total))


def _convert(line: _Line) -> Iterator[Record]:
    converted = _CONVERT_NOTES.match(line.notes)
    if converted is None:
        raise RowRejected("missing_value", "a Convert whose Notes do not say what it became")
    yield line.entry("trade", line.asset, -line.quantity())
    yield line.entry(
        "trade", _currency(line.context, converted["asset"]), abs(_number(converted["amount"], "Notes"))
    )


def _transfer(line: _Line, status: str | None) -> Iterator[Record]:
    kind, quantity = line.kind, line.quantity()
    incoming = kind in ("receive", "deposit")
    fee = None if incoming else line.fee_in_asset()
    crypto = kind in ("send", "receive")
    if incoming:
        amount, change = quantity, quantity
    elif crypto:  # a send's quantity is what it sent; the network fee is beside it
        amount, change = quantity, -quantity
    else:  # a fiat withdrawal's quantity is what left the wallet, its fee included
        amount, change = quantity - (fee or 0), -quantity
    sent_to = _SENT_TO.match(line.notes) if kind == "send" else None
    yield transfer(
        line.row.line,
        kind="deposit" if incoming else "withdrawal",
        currency=line.asset,
        amount=amount,
        fee=fee,
        occurred_at=line.time,
        status=status or ("pending" if line.notes.endswith(PENDING) else "ok"),
        transfer_id=line.ident,
        address=sent_to["address"] if sent_to else None,
    )
    fee_shown = fee if kind == "send" else None  # the API shows a send's network fee only
    yield line.entry(
        "send" if crypto else f"fiat_{kind}", line.asset, change, fee=fee_shown, ledger_id=line.ident
    )


def _records(line: _Line, failed: dict[str, str]) -> Iterator[Record]:
    kind = line.kind
    if kind in INTERNAL:
        raise RowRejected("not_a_balance_change", f"{kind}: between the user's own wallets")
    if kind in TRADES and (kind.startswith("advance") or _TRADE_NOTES.match(line.notes)):
        yield from _trade(line, TRADES[kind])
    elif kind in ("buy", "sell"):
        yield from _simple_trade(line)
    elif kind == "convert":
        yield from _convert(line)
    elif kind in LEDGER_ONLY:
        ledger_type, direction = LEDGER_ONLY[kind]
        yield line.entry(ledger_type, line.asset, direction * line.quantity(), ledger_id=line.ident)
    elif kind in ("send", "receive", "deposit", "withdrawal"):
        yield from _transfer(line, failed.get(line.ident or ""))
    else:
        raise RowRejected("unknown_operation", f"Transaction Type {line.row.text('Transaction Type')!r}")


def parse(rows: Sequence[Row], context: ParseContext) -> Iterator[Record | Rejection]:
    if not rows:
        return
    columns = _Columns(list(rows[0].values))
    # A send that did not complete is followed by its reversal, which names it: its status.
    failed = {}
    for row in rows:
        reversal = _REVERSAL_NOTES.match(row.values.get("notes", ""))
        if reversal and normalise(row.values.get("transaction type", "")) == "send reversal":
            failed[reversal["id"]] = "failed" if reversal["how"] == "failed" else "canceled"
    for row in rows:
        try:
            records = list(_records(_Line.read(row, columns, context), failed))
        except RowRejected as rejected:
            yield Rejection(row.line, rejected.reason, rejected.detail, row.fields)
            continue
        yield from records


FORMAT = CsvFormat(
    name="coinbase-transactions",
    exchange="coinbase",
    title='Coinbase "Transaction report" (Statements → Generate report → CSV)',
    required=("Timestamp", "Transaction Type", "Asset", "Quantity Transacted", "Notes"),
    parse=parse,
    time_precision_ms=1000,
    notes=(
        "Trades have no id in the report: they and their two ledger legs are matched with the API's "
        "fills by content (symbol, side, price, amount, same second); transfers and other "
        "transactions by the line's ID."
    ),
)

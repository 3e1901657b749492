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
from datetime import datetime
from decimal import Decimal

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


def _fee_in_asset(row: Row, columns: _Columns) -> Decimal | None:
    """A transfer's fee in its asset: the report values it in its own currency, at the line's
    price (Fees / Price at Transaction; exact where the report wrote their exact product)."""
    fees = row.text(columns.fees, optional=True) if columns.fees else None
    if fees is None:
        return None
    value = abs(_number(fees, columns.fees or "fees"))
    if not value:
        return Decimal(0)
    price = row.text(columns.price, optional=True) if columns.price else None
    if price is None or not _number(price, columns.price or "price"):
        raise RowRejected("missing_value", "a fee without the price that values it")
    return value / abs(_number(price, columns.price or "price"))


def _trade(row: Row, side: str, columns: _Columns, time: datetime, context: ParseContext) -> Iterator[Record]:
    notes = _TRADE_NOTES.match(row.text("Notes", optional=True) or "")
    if notes is not None:
        qty, price, moved = (abs(_number(notes[k], "Notes")) for k in ("qty", "price", "moved"))
        base, quote = _currency(context, notes["base"]), _currency(context, notes["quote"])
        symbol = context.symbol(notes["product"]) or f"{base}/{quote}"
        cost = qty * price
        fee = moved - cost if side == "buy" else cost - moved
    else:
        # Notes like "Bought ETH": a trade against the report's currency, its amounts in the value
        # columns (Subtotal = quantity x price, Total = what the quote leg moved, fee in Fees).
        qty = abs(row.amount("Quantity Transacted") or Decimal(0))
        base, quote = (
            _currency(context, row.text("Asset") or ""),
            _currency(context, columns.currency_of(row) or ""),
        )
        if not quote or None in (columns.price, columns.subtotal, columns.total, columns.fees):
            raise RowRejected("missing_value", "a trade whose Notes name no product and price")
        price, cost, moved, fee = (
            abs(_number(row.text(c) or "", c))
            for c in (columns.price, columns.subtotal, columns.total, columns.fees)
        )
        symbol = f"{base}/{quote}"
    if fee < 0:
        raise RowRejected("bad_amount", f"{moved} {quote} is not quantity x price with a fee")
    yield trade(
        row.line,
        symbol=symbol,
        side=side,
        price=price,
        amount=qty,
        cost=cost,
        fee_cost=fee,
        fee_currency=quote,
        traded_at=time,
    )
    sign = 1 if side == "buy" else -1
    for currency, amount in ((base, sign * qty), (quote, -sign * moved)):
        yield ledger_entry(
            row.line, type="advanced_trade_fill", currency=currency, amount=amount, occurred_at=time
        )


def _simple_trade(
    row: Row,
    kind: str,
    columns: _Columns,
    asset: str,
    quantity: Decimal,
    time: datetime,
    context: ParseContext,
) -> Iterator[Record]:
    """A retail Buy or Sell (v2 type buy / sell), paid in the report's currency: the asset's leg
    and the payment's (Total: what was paid, fees included, or what a sale brought)."""
    total = row.text(columns.total, optional=True) if columns.total else None
    currency = columns.currency_of(row)
    if total is None or not currency:
        raise RowRejected("missing_value", f"a {kind} without its Total and Price Currency")
    paid = abs(_number(total, columns.total or "total"))
    sign = 1 if kind == "buy" else -1
    yield ledger_entry(row.line, type=kind, currency=asset, amount=sign * quantity, occurred_at=time)
    yield ledger_entry(
        row.line, type=kind, currency=_currency(context, currency), amount=-sign * paid, occurred_at=time
    )


def _line(row: Row, columns: _Columns, failed: dict[str, str], context: ParseContext) -> Iterator[Record]:
    kind = normalise(row.text("Transaction Type") or "")
    time = row.time("Timestamp", TIMES)
    asset = _currency(context, row.text("Asset") or "")
    ident = row.text("ID", optional=True)
    notes = row.text("Notes", optional=True) or ""
    if kind in INTERNAL:
        raise RowRejected(
            "not_a_balance_change", f"{row.text('Transaction Type')}: between the user's own wallets"
        )
    if kind in TRADES and (kind.startswith("advance") or _TRADE_NOTES.match(notes)):
        yield from _trade(row, TRADES[kind], columns, time, context)
        return
    quantity = abs(row.amount("Quantity Transacted") or Decimal(0))
    if kind == "convert":
        converted = _CONVERT_NOTES.match(notes)
        if converted is None:
            raise RowRejected("missing_value", "a Convert whose Notes do not say what it became")
        target = _currency(context, converted["asset"])
        yield ledger_entry(row.line, type="trade", currency=asset, amount=-quantity, occurred_at=time)
        yield ledger_entry(
            row.line,
            type="trade",
            currency=target,
            amount=abs(_number(converted["amount"], "Notes")),
            occurred_at=time,
        )
        return
    if kind in ("buy", "sell"):
        yield from _simple_trade(row, kind, columns, asset, quantity, time, context)
        return
    if kind in LEDGER_ONLY:
        ledger_type, direction = LEDGER_ONLY[kind]
        yield ledger_entry(
            row.line,
            type=ledger_type,
            currency=asset,
            amount=direction * quantity,
            occurred_at=time,
            ledger_id=ident,
        )
        return
    if kind in ("send", "receive", "deposit", "withdrawal"):
        yield from _transfer(row, kind, columns, asset, quantity, time, ident, notes, failed.get(ident or ""))
        return
    raise RowRejected("unknown_operation", f"Transaction Type {row.text('Transaction Type')!r}")


def _transfer(
    row: Row,
    kind: str,
    columns: _Columns,
    asset: str,
    quantity: Decimal,
    time: datetime,
    ident: str | None,
    notes: str,
    status: str | None,
) -> Iterator[Record]:
    incoming = kind in ("receive", "deposit")
    fee = None if incoming else _fee_in_asset(row, columns)
    crypto = kind in ("send", "receive")
    if incoming:
        amount, change = quantity, quantity
    elif crypto:  # a send's quantity is what it sent; the network fee is beside it
        amount, change = quantity, -quantity
    else:  # a fiat withdrawal's quantity is what left the wallet, its fee included
        amount, change = quantity - (fee or 0), -quantity
    sent_to = _SENT_TO.match(notes) if kind == "send" else None
    yield transfer(
        row.line,
        kind="deposit" if incoming else "withdrawal",
        currency=asset,
        amount=amount,
        fee=fee,
        occurred_at=time,
        status=status or ("pending" if notes.endswith(PENDING) else "ok"),
        transfer_id=ident,
        address=sent_to["address"] if sent_to else None,
    )
    ledger_type = "send" if crypto else f"fiat_{kind}"
    yield ledger_entry(
        row.line,
        type=ledger_type,
        currency=asset,
        amount=change,
        fee=fee if kind == "send" else None,
        occurred_at=time,
        ledger_id=ident,
    )


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
            records = list(_line(row, columns, failed, context))
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

"""OKX "Trading account history": the trading account's bills, as the website downloads them.

One line per bill (simulator/protocols/okx/exports.py describes the file and its sources). Read
versions, each a header of real downloads:

* 2025: ``id,Order id,Time,Trade Type,Symbol,Action,Amount,Trading Unit,Filled Price,PnL,Fee,
  Fee Unit,Position Change,Position Balance,Balance Change,Balance,Balance Unit``;
* 2023: the same with ``Filled Price Unit`` after Filled Price and ``Position Unit`` after
  Position Balance;
* older: ``id,Order id,Time,Trade Type,Instrument,Type,Amount,Unit,PL,Fee,Position Change,
  Position Balance,Balance Change,Balance,Unit`` (no price; the second `Unit` is the balance's).

Each line is a ledger row by its bill id (`id`, the API's billId: deduplicated by id), as ccxt's
parse_ledger_entry of the bill: type the bill type ("2" trade for `Trade Type` Spot, "1" transfer
for Transfer), refid the order id, amount = Balance Change (net of the fee), fee = -Fee, balance
after. The two lines of one fill (same order id, time and instrument; one per currency) also
make its trades row, as ccxt's parse_trade of the fill: side from the base currency's line
(Action Buy: it came in), amount its Amount, cost the quote line's, price Filled Price, fee
-Fee in the currency of the line that paid it. The export has no trade id, so trades get content
ids and the matching rule (1 s: the export's times are whole seconds).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from exchange_sync.csv_import.formats.base import (
    CsvFormat,
    ParseContext,
    Record,
    Rejection,
    ledger_entry,
    trade,
)
from exchange_sync.csv_import.values import Row, RowRejected

log = logging.getLogger(__name__)
# Whole seconds in UTC (the download's time zone setting: UTC assumed); a fraction is accepted.
TIMES = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")
# Trade Type -> the bill's `type` as the API names it (docs-v5 "Get bills details": 1 transfer,
# 2 trade), which is what the API's ledger rows store.
BILL_TYPES = {"spot": "2", "transfer": "1"}


@dataclass(frozen=True, slots=True)
class Leg:
    """One currency's bill of a fill."""

    row: Row
    currency: str
    amount: Decimal  # gross, unsigned (Amount)
    incoming: bool
    fee: Decimal  # charged, positive (-Fee)
    price: Decimal | None


def symbol_of(instrument: str, context: ParseContext) -> str | None:
    """A spot instId ("BTC-USDT") as ccxt's unified symbol, from the stored market list or, for
    an account never imported by API, from the id itself (OKX's spot codes are ccxt's)."""
    known = context.symbol(instrument)
    if known is not None:
        return known
    parts = instrument.split("-")
    if len(parts) != 2 or not all(parts):
        return None
    return "/".join(context.currency(p) for p in parts)


def _first(row: Row, *columns: str) -> str | None:
    for column in columns:
        value = row.text(column, optional=True)
        if value is not None:
            return value
    return None


def _signed_fee(row: Row) -> Decimal:
    fee = row.amount("Fee")
    assert fee is not None
    return -fee if fee else Decimal(0)  # OKX writes a charge negative; ccxt's fee is its cost


def _ledger(row: Row, context: ParseContext) -> tuple[Record, Leg | None]:
    kind = (row.text("Trade Type") or "").strip()
    bill_type = BILL_TYPES.get(kind.lower())
    if bill_type is None:
        known = ", ".join(k.title() for k in BILL_TYPES)
        raise RowRejected("unknown_operation", f"column 'Trade Type': {kind!r} is not one of {known}")
    currency = _first(row, "Balance Unit", "Unit", "Fee Unit")
    if currency is None:
        raise RowRejected("missing_value", "column 'Balance Unit' is empty")
    currency = context.currency(currency)
    occurred_at = row.time("Time", TIMES)
    change, balance, fee = row.amount("Balance Change"), row.amount("Balance"), _signed_fee(row)
    order_id = row.text("Order id", optional=True)
    record = ledger_entry(
        row.line,
        type=bill_type,
        currency=currency,
        amount=change,
        fee=fee,
        balance=balance,
        occurred_at=occurred_at,
        ledger_id=row.text("id"),
        refid=order_id,
    )
    if bill_type != "2":
        return record, None
    action = (_first(row, "Action", "Type") or "").lower()
    if action not in ("buy", "sell"):
        raise RowRejected("unknown_operation", f"column 'Action': {action!r} is neither Buy nor Sell")
    amount = row.amount("Amount")
    assert amount is not None and change is not None
    price = row.amount("Filled Price", optional=True)
    return record, Leg(row, currency, abs(amount), action == "buy", fee, price)


def _bill_order(leg: Leg) -> tuple[int, str]:
    bill = leg.row.text("id") or ""
    return len(bill), bill  # numeric ids of any length, without trusting them to be numbers


def _fills(legs: list[Leg], symbol: str) -> Iterator[tuple[Leg, Leg]]:
    """(base leg, quote leg) per fill of one order at one moment: a base leg pairs with the quote
    leg whose amount is its amount x price (exact: OKX books the fill's cost), else the next one
    in bill-id order."""
    base, quote = symbol.split("/")
    bases = sorted((leg for leg in legs if leg.currency == base), key=_bill_order)
    quotes = sorted((leg for leg in legs if leg.currency == quote), key=_bill_order)
    if len(bases) != len(quotes):
        # Each line is still a ledger row; a fill whose other line is missing (a file cut at a
        # moment's edge) has no trades row, which reconciliation then shows.
        lines = sorted(leg.row.line for leg in legs)
        counts = f"{len(bases)} {base} and {len(quotes)} {quote} lines"
        log.warning("OKX %s fills on lines %s: %s, not pairs", symbol, lines, counts)
    for leg in bases:
        if not quotes:
            return
        wanted = leg.amount * leg.price if leg.price is not None else None
        partner = next((q for q in quotes if q.amount == wanted and q.incoming != leg.incoming), None)
        partner = partner or next((q for q in quotes if q.incoming != leg.incoming), quotes[0])
        quotes.remove(partner)
        yield leg, partner


def _trade(base: Leg, quote: Leg, symbol: str, traded_at: datetime, order_id: str | None) -> Record:
    paid = base if base.fee else quote if quote.fee else (base if base.incoming else quote)
    price = base.price if base.price is not None else quote.amount / base.amount
    return trade(
        base.row.line,
        symbol=symbol,
        side="buy" if base.incoming else "sell",
        price=price,
        amount=base.amount,
        cost=quote.amount,
        fee_cost=paid.fee,
        fee_currency=paid.currency,
        traded_at=traded_at,
        order_id=order_id,
    )


def parse(rows: Sequence[Row], context: ParseContext) -> Iterator[Record | Rejection]:
    groups: dict[tuple[str, datetime, str], list[Leg]] = defaultdict(list)
    for row in rows:
        try:
            record, leg = _ledger(row, context)
            if leg is not None:
                instrument = _first(row, "Symbol", "Instrument") or ""
                symbol = symbol_of(instrument, context)
                if symbol is None:
                    raise RowRejected("unknown_market", f"column 'Symbol': {instrument!r} is not a spot pair")
                groups[(row.text("Order id") or "", record.values["occurred_at"], symbol)].append(leg)
        except RowRejected as rejected:
            yield Rejection(row.line, rejected.reason, rejected.detail, row.fields)
            continue
        yield record
    for (order_id, traded_at, symbol), legs in groups.items():
        for base, quote in _fills(legs, symbol):
            yield _trade(base, quote, symbol, traded_at, order_id or None)


FORMAT = CsvFormat(
    name="okx-trading",
    exchange="okx",
    title="OKX Trading account history (bills)",
    required=("id", "Order id", "Time", "Trade Type", "Amount", "Fee", "Balance Change", "Balance"),
    parse=parse,
    time_precision_ms=1000,
    notes="Assets > Bills > Trading account > Download (CSV); every month of the account's history.",
)

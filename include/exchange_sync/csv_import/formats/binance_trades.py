"""Binance "Spot Trade History" (Orders → Spot Order → Trade History → Export): one line per
fill, the trades table's rows as ccxt's binance parse of myTrades makes them.

Versions read (products.md §3; BittyTax, rotki #7647):
* newest `Date(UTC),Pair,Side,Price,Executed,Amount,Fee`: values with their asset as suffix,
  Executed in the base asset, Amount (the cost) in the quote asset, Fee in the asset charged;
* older `Date(UTC),Market,Type,Price,Amount,Total,Fee,Fee Coin`: plain numbers.
No trade or order id: rows get content ids and meet the API's by the matching rule (symbol,
side, price, amount, the time within the export's whole second).
"""

from __future__ import annotations

from collections.abc import Iterator

from exchange_sync.csv_import.formats.base import CsvFormat, ParseContext, Record, each_line, trade
from exchange_sync.csv_import.formats.binance_values import (
    TIME_PRECISION_MS,
    TIMES,
    currency,
    plain,
    with_asset,
)
from exchange_sync.csv_import.values import Row, RowRejected

# Binance's quote assets, longest first, to split an old file's market id where no stored market
# list knows it (BittyTax's QUOTE_ASSETS, the ones still or recently listed).
QUOTES = tuple(
    sorted(
        ("USDT", "FDUSD", "USDC", "BUSD", "TUSD", "DAI", "EUR", "GBP", "AUD", "TRY", "BRL", "JPY", "RUB",
         "UAH", "ZAR", "NGN", "PLN", "RON", "ARS", "MXN", "COP", "CZK", "IDRT", "BIDR", "BTC", "ETH", "BNB",
         "XRP", "TRX", "DOGE", "DOT", "SOL", "PAX", "USDP", "VAI", "AEUR", "EURI"),
        key=len,
        reverse=True,
    )
)  # fmt: skip


def _symbol(context: ParseContext, market_id: str, base: str, quote: str) -> str:
    return context.symbol(market_id) or f"{currency(context, base)}/{currency(context, quote)}"


def _side(row: Row, column: str) -> str:
    side = (row.text(column) or "").lower()
    if side not in ("buy", "sell"):
        raise RowRejected("unknown_operation", f"column {column!r}: {side!r} is neither BUY nor SELL")
    return side


def _newest(row: Row, context: ParseContext) -> Record:
    pair = (row.text("Pair") or "").upper()
    executed, amount = (row.text("Executed") or "").upper(), (row.text("Amount") or "").upper()
    # The pair is base + quote; Executed ends with the base, Amount with the quote.
    split = next(
        (k for k in range(1, len(pair)) if executed.endswith(pair[:k]) and amount.endswith(pair[k:])), None
    )
    if split is None:
        raise RowRejected(
            "bad_amount", f"Executed {executed!r} and Amount {amount!r} do not name the assets of {pair!r}"
        )
    base, quote = pair[:split], pair[split:]
    qty, _ = with_asset(row, "Executed", (base,))
    cost, _ = with_asset(row, "Amount", (quote,))
    fee, fee_asset = with_asset(row, "Fee", (base, quote, "BNB"))
    return trade(
        row.line,
        symbol=_symbol(context, pair, base, quote),
        side=_side(row, "Side"),
        price=plain(row, "Price"),
        amount=qty,
        cost=cost,
        fee_cost=fee,
        fee_currency=currency(context, fee_asset),
        traded_at=row.time("Date(UTC)", TIMES),
    )


def _older(row: Row, context: ParseContext) -> Record:
    market = (row.text("Market") or "").upper()
    symbol = context.symbol(market)
    if symbol is None:
        quote = next((q for q in QUOTES if market.endswith(q) and len(market) > len(q)), None)
        if quote is None:
            raise RowRejected("missing_value", f"column 'Market': {market!r} is no market Binance lists")
        symbol = _symbol(context, market, market[: -len(quote)], quote)
    return trade(
        row.line,
        symbol=symbol,
        side=_side(row, "Type"),
        price=plain(row, "Price"),
        amount=plain(row, "Amount"),
        cost=plain(row, "Total"),
        fee_cost=plain(row, "Fee"),
        fee_currency=currency(context, (row.text("Fee Coin") or "").upper()),
        traded_at=row.time("Date(UTC)", TIMES),
    )


def _line(row: Row, context: ParseContext) -> Iterator[Record]:
    yield _newest(row, context) if "executed" in row.values else _older(row, context)


FORMAT = CsvFormat(
    name="binance_trades",
    exchange="binance",
    title="Binance Spot Trade History",
    required=("Date(UTC)", "Price", "Amount", "Fee"),
    parse=each_line(_line),
    time_precision_ms=TIME_PRECISION_MS,
    notes="Orders → Spot Order → Trade History → Export (newest and older header).",
)

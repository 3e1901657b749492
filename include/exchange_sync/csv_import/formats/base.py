"""What an export format is: the columns that identify it, and how its lines become rows.

A format module (one per export: binance_*.py, kraken.py, ...) defines one `CsvFormat`. Its
`parse` turns the file's lines into `Record`s (rows for trades, transfers or ledger, without the
account, exchange, import time and source, which the import adds) and `Rejection`s; it never
drops a line: every line ends as records or as one rejection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from exchange_sync.csv_import.values import Row, RowRejected, normalise

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True, slots=True)
class Record:
    """One warehouse row from one or more lines of the file.

    `native_id`: the row's id is the exchange's own (the API delivers the same id), so it is
    deduplicated by id; otherwise the import gives it a content id and the matching rule
    (matching.py) recognises the API's twin."""

    table: str  # "trades" | "transfers" | "ledger"
    values: dict[str, Any]
    line: int
    native_id: bool


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    reason: str
    detail: str
    raw: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a format may need beyond the file: the exchange's own currency and market ids as
    ccxt's unified codes (from the exchange's stored market list, hooks/shared.py)."""

    currency: Callable[[str], str] = lambda native: native
    symbol: Callable[[str], str | None] = lambda native: None  # "BTCUSDT" -> "BTC/USDT"
    # The ledger type the exchange's API rows of a conversion have (Binance: "Binance Convert",
    # profiles.py `ledger_type`), so the generic template's `convert` lines match them.
    convert_type: str = "convert"


@dataclass(frozen=True)
class CsvFormat:
    name: str  # --format NAME
    exchange: str | None  # None: any exchange (the generic template)
    title: str  # what the user exports, in the exchange's words
    required: tuple[str, ...]  # columns that identify it (a subset: other columns may follow)
    parse: Callable[[Sequence[Row], ParseContext], Iterable[Record | Rejection]]
    time_precision_ms: int  # how exact its times are: the matching rule's window
    forbidden: tuple[str, ...] = ()  # columns whose presence means another format
    notes: str = ""  # README: anything the user must know about this export
    # Its ledger entries are the exchange's record of transfers too (Kraken: ledger_transfers.py)
    derives_transfers: bool = False
    # Looks again at its rejections once the stored rows can be read (in the import's transaction):
    # (connection, account id, the file's rows, rejections) -> rejections. Binance's Transaction
    # History names the stored trade or transfer each of its legs belongs to.
    review: Callable[[Connection, str, Sequence[Row], list[Rejection]], list[Rejection]] | None = None
    keys: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(normalise(c) for c in self.required))

    def knows(self, header: Sequence[str]) -> bool:
        columns = {normalise(c) for c in header}
        return self.keys <= columns and not any(normalise(c) in columns for c in self.forbidden)


def each_line(
    parse_line: Callable[[Row, ParseContext], Iterable[Record]],
) -> Callable[[Sequence[Row], ParseContext], Iterator[Record | Rejection]]:
    """A format whose lines stand alone: each becomes its records, or its rejection."""

    def parse(rows: Sequence[Row], context: ParseContext) -> Iterator[Record | Rejection]:
        for row in rows:
            try:
                records = list(parse_line(row, context))
            except RowRejected as rejected:
                yield Rejection(row.line, rejected.reason, rejected.detail, row.fields)
                continue
            if not records:  # a format must say why a line holds nothing
                raise AssertionError(f"line {row.line} gave neither records nor a reason")
            yield from records

    return parse


def trade(
    line: int,
    *,
    symbol: str,
    side: str,
    price: Any,
    amount: Any,
    cost: Any,
    fee_cost: Any,
    fee_currency: str | None,
    traded_at: datetime,
    trade_id: str | None = None,
    order_id: str | None = None,
    taker_or_maker: str | None = None,
) -> Record:
    """A trades row (trade_id None: the export has no id; the import gives it one)."""
    values = {
        "symbol": symbol,
        "trade_id": trade_id,
        "order_id": order_id,
        "side": side,
        "price": price,
        "amount": amount,
        "cost": cost,
        "fee_cost": fee_cost,
        "fee_currency": fee_currency,
        "taker_or_maker": taker_or_maker,
        "traded_at": traded_at,
    }
    return Record("trades", values, line, native_id=trade_id is not None)


def transfer(
    line: int,
    *,
    kind: str,
    currency: str,
    amount: Any,
    fee: Any,
    occurred_at: datetime,
    status: str | None = "ok",
    transfer_id: str | None = None,
    network: str | None = None,
    address: str | None = None,
    txid: str | None = None,
) -> Record:
    values = {
        "kind": kind,
        "transfer_id": transfer_id,
        "currency": currency,
        "amount": amount,
        "fee": fee,
        "network": network,
        "address": address,
        "txid": txid,
        "status": status,
        "occurred_at": occurred_at,
    }
    return Record("transfers", values, line, native_id=transfer_id is not None)


def ledger_entry(
    line: int,
    *,
    type: str,
    currency: str,
    amount: Any,
    occurred_at: datetime,
    fee: Any = None,
    balance: Any = None,
    ledger_id: str | None = None,
    refid: str | None = None,
) -> Record:
    """A ledger row: `amount` signed (negative leaves the balance), `fee` apart from it."""
    values = {
        "ledger_id": ledger_id,
        "refid": refid,
        "type": type,
        "currency": currency,
        "amount": amount,
        "fee": fee,
        "balance": balance,
        "occurred_at": occurred_at,
    }
    return Record("ledger", values, line, native_id=ledger_id is not None)

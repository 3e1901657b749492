"""Every export format the CSV import reads, and how a file's header picks one."""

from __future__ import annotations

from collections.abc import Sequence

from exchange_sync.csv_import.formats import (
    binance_statement,
    binance_trades,
    binance_transfers,
    coinbase_report,
    generic,
    kraken_ledgers,
    kraken_trades,
    okx_funding,
    okx_trading,
)
from exchange_sync.csv_import.formats.base import CsvFormat, ParseContext, Record, Rejection

# One entry per format module; the most specific match wins (most identifying columns).
FORMATS: tuple[CsvFormat, ...] = (
    generic.FORMAT,
    binance_trades.FORMAT,
    binance_transfers.DEPOSITS,
    binance_transfers.WITHDRAWALS,
    binance_statement.FORMAT,
    coinbase_report.FORMAT,
    kraken_ledgers.FORMAT,
    kraken_trades.FORMAT,
    okx_trading.FORMAT,
    okx_funding.FORMAT,
)

__all__ = ["FORMATS", "CsvFormat", "ParseContext", "Record", "Rejection", "for_exchange", "identify"]


def for_exchange(exchange: str, name: str = "auto") -> tuple[CsvFormat, ...]:
    """The formats an account of `exchange` may import: its exchange's and the generic template
    (or the one named, which must be one of them)."""
    allowed = tuple(f for f in FORMATS if f.exchange in (None, exchange))
    if name == "auto":
        return allowed
    chosen = tuple(f for f in allowed if f.name == name)
    if not chosen:
        names = ", ".join(f.name for f in allowed)
        raise ValueError(f"--format {name!r} is not a format for {exchange} accounts; choose from: {names}")
    return chosen


def identify(header: Sequence[str], formats: Sequence[CsvFormat]) -> CsvFormat | None:
    matching = [f for f in formats if f.knows(header)]
    return max(matching, key=lambda f: len(f.required), default=None)


def describe(formats: Sequence[CsvFormat]) -> str:
    return "; ".join(f"{f.name} ({f.title}: {', '.join(f.required)})" for f in formats)

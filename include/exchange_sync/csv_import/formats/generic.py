"""exchange-sync's own template, for any exchange whose export has no format here (README "CSV
import": the columns, one example per kind). One line per trade, transfer or other balance change."""

from __future__ import annotations

from collections.abc import Iterator

from exchange_sync.csv_import.formats.base import (
    CsvFormat,
    ParseContext,
    Record,
    each_line,
    ledger_entry,
    trade,
    transfer,
)
from exchange_sync.csv_import.values import Row, RowRejected

COLUMNS = ("kind", "time", "id", "symbol", "side", "price", "amount", "cost", "currency", "fee",
           "fee_currency", "txid", "note")  # fmt: skip
# ISO 8601; a time without an offset is UTC.
TIMES = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f",
         "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f")  # fmt: skip
# Other balance changes, stored as ledger entries of that type (amount signed).
LEDGER_KINDS = ("reward", "staking", "interest", "airdrop", "distribution", "convert", "dust", "fee",
                "rebate", "adjustment")  # fmt: skip


def _line(row: Row, context: ParseContext) -> Iterator[Record]:
    kind = (row.text("kind") or "").lower()
    time = row.time("time", TIMES)
    native_id = row.text("id", optional=True)
    if kind == "trade":
        side = (row.text("side") or "").lower()
        if side not in ("buy", "sell"):
            raise RowRejected("unknown_operation", f"column 'side': {side!r} is neither buy nor sell")
        symbol = row.text("symbol") or ""
        if symbol.count("/") != 1:
            raise RowRejected(
                "missing_value", f"column 'symbol': {symbol!r} is not BASE/QUOTE, e.g. BTC/USDT"
            )
        yield trade(
            row.line,
            symbol=symbol.upper(),
            side=side,
            price=row.amount("price"),
            amount=row.amount("amount"),
            cost=row.amount("cost", optional=True),
            fee_cost=row.amount("fee", optional=True),
            fee_currency=row.text("fee_currency", optional=True),
            traded_at=time,
            trade_id=native_id,
        )
    elif kind in ("deposit", "withdrawal"):
        yield transfer(
            row.line,
            kind=kind,
            currency=(row.text("currency") or "").upper(),
            amount=row.amount("amount"),
            fee=row.amount("fee", optional=True),
            occurred_at=time,
            transfer_id=native_id,
            txid=row.text("txid", optional=True),
        )
    elif kind in LEDGER_KINDS:
        yield ledger_entry(
            row.line,
            type=context.convert_type if kind == "convert" else kind,
            currency=(row.text("currency") or "").upper(),
            amount=row.amount("amount"),
            fee=row.amount("fee", optional=True),
            occurred_at=time,
            ledger_id=native_id,
        )
    else:
        known = ", ".join(("trade", "deposit", "withdrawal", *LEDGER_KINDS))
        raise RowRejected("unknown_operation", f"column 'kind': {kind!r} is not one of {known}")


FORMAT = CsvFormat(
    name="generic",
    exchange=None,
    title="exchange-sync's generic template",
    required=("kind", "time", "amount"),
    parse=each_line(_line),
    time_precision_ms=1000,
)

"""Which stored trade or transfer a Binance Transaction History leg belongs to.

The statement's trade and transfer lines are never stored (binance_statement.py); this names, for
each, the row that holds it whole: an API row makes the line `duplicate_of_api`, a row another
export stored keeps it `covered_by_export` with that row named, and a line no stored row explains
says so (the Spot Trade History or Deposit / Withdraw History is still to be imported). A leg
pairs with a row when the coin, the signed change and the second agree: a buy's base and quote
legs ("Transaction Buy" +amount, "Transaction Spend" -cost), a sell's ("Transaction Sold"
-amount, "Transaction Revenue" +cost), a fee (-fee in its asset), a deposit (+amount), a
withdrawal (-(amount + fee)). Each leg of a row pairs once, so two identical fills in one second
explain two sets of lines, not four. Legs Binance aggregated over several fills pair with none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from exchange_sync.csv_import.formats.base import Rejection
from exchange_sync.csv_import.formats.binance_values import COMMON_CURRENCIES, TIMES
from exchange_sync.csv_import.matching import describe, parse_source
from exchange_sync.csv_import.values import Row, RowRejected
from exchange_sync.warehouse import schema
from exchange_sync.warehouse.bulk import API_SOURCE

SECOND = timedelta(seconds=1)
FEES = frozenset({"Transaction Fee", "Fee"})
# (leg kind, coin, signed change, the second; None for transfers) -> the rows it may belong to
Key = tuple[str, str, Decimal, datetime | None]
Twin = tuple[datetime, str]  # (the row's time, "api:<row>" or "csv:<row>, stored from ...")


def _trade_legs(row: Mapping[str, Any]) -> Iterator[tuple[str, str, Decimal]]:
    base, quote = row["symbol"].split("/")
    sign = 1 if row["side"] == "buy" else -1
    yield "trade", base, sign * row["amount"]
    if row["cost"] is not None:
        yield "trade", quote, -sign * row["cost"]
    if row["fee_cost"]:
        yield "fee", row["fee_currency"], -row["fee_cost"]


def _transfer_legs(row: Mapping[str, Any]) -> Iterator[tuple[str, str, Decimal]]:
    if row["kind"] == "deposit":
        yield "transfer", row["currency"], row["amount"]
    else:
        yield "transfer", row["currency"], -(row["amount"] + (row["fee"] or 0))


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _stored(conn: Connection, account_id: str, start: datetime, end: datetime) -> dict[Key, list[Twin]]:
    """Every leg of the account's stored trades in [start, end) and transfers before `end`, by
    its key (a transfer's by coin and change alone: a deposit is credited, and so on the
    statement, any time after it was made), each list oldest first."""
    found: dict[Key, list[Twin]] = defaultdict(list)
    for name, table, time_column, legs in (
        ("trades", schema.trades, "traded_at", _trade_legs),
        ("transfers", schema.transfers, "occurred_at", _transfer_legs),
    ):
        moment = table.c[time_column]
        window = and_(table.c.account_id == account_id, moment < end)
        if name == "trades":
            window = and_(window, moment >= start)
        for row in conn.execute(select(table).where(window).order_by(moment)).mappings():
            for kind, coin, change in legs(row):
                second = _second(row[time_column]) if name == "trades" else None
                found[(kind, coin, change, second)].append((row[time_column], _origin(name, row)))
    return found


def _pop_twin(stored: dict[Key, list[Twin]], key: Key) -> str | None:
    """The stored row a leg belongs to (removed: each leg of a row explains one line)."""
    kind, coin, change, second = key
    if kind != "transfer":
        twins = stored.get(key)
        return twins.pop(0)[1] if twins else None
    twins = stored.get((kind, coin, change, None), [])
    # The latest transfer made before the line's second ends: the one it credited or debited.
    for index in range(len(twins) - 1, -1, -1):
        if twins[index][0] < second + SECOND:
            return twins.pop(index)[1]
    return None


def _origin(name: str, row: Mapping[str, Any]) -> str:
    where = parse_source(row["source"])
    if row["source"] == API_SOURCE or where is None:
        return "api:" + describe(name, row)
    return f"csv:{describe(name, row)}, stored from import {where[0]} line {where[1]}"


def _key(row: Row) -> Key | None:
    operation = row.text("Operation", optional=True) or ""
    try:
        change = row.amount("Change")
        moment = row.time("UTC_Time", TIMES)
    except RowRejected:
        return None
    assert change is not None
    if operation == "Withdraw" and change > 0:
        return None  # a failed withdrawal's refund: the warehouse keeps no time to find it by
    coin = (row.text("Coin", optional=True) or "").upper()
    kind = "fee" if operation in FEES else "transfer" if operation in ("Deposit", "Withdraw") else "trade"
    return kind, COMMON_CURRENCIES.get(coin, coin), change, _second(moment)


def review(
    conn: Connection, account_id: str, rows: Sequence[Row], rejections: list[Rejection]
) -> list[Rejection]:
    covered = {r.line for r in rejections if r.reason == "covered_by_export"}
    keys = {row.line: key for row in rows if row.line in covered and (key := _key(row)) is not None}
    if not keys:
        return rejections
    moments = [key[3] for key in keys.values()]
    stored = _stored(conn, account_id, min(moments), max(moments) + SECOND)
    reviewed = []
    for rejection in rejections:
        key = keys.get(rejection.line)
        if key is None:
            reviewed.append(rejection)
            continue
        twin = _pop_twin(stored, key)
        if twin is None:
            detail = f"{rejection.detail}; none is stored yet"
            reviewed.append(Rejection(rejection.line, rejection.reason, detail, rejection.raw))
            continue
        origin, row = twin.split(":", 1)
        if origin == "api":
            detail = f"the API delivered it as part of {row}"
            reviewed.append(Rejection(rejection.line, "duplicate_of_api", detail, rejection.raw))
        else:
            detail = f"part of {row}"
            reviewed.append(Rejection(rejection.line, "covered_by_export", detail, rejection.raw))
    return reviewed

"""Recognising one entry delivered twice, once by the API and once by an export (both ways).

Where the export carries the exchange's own id (Kraken's txid, Coinbase's ID, ...), the row is
keyed by it like the API's row, and an id is an id. Where it carries none (Binance), the row gets
a content id, `csv-<hash>`, and the **matching rule** pairs it with an API row when all of these
agree: the account; the table's match columns exactly (trades: symbol, side, price, amount;
transfers: kind, currency, amount, and the txid when both have one; ledger: type, currency,
amount); and the time, the API's lying in [export's time, export's time + the export's precision)
(exports truncate: Binance writes whole seconds). Pairs are one to one, in time order, so two
genuinely different but identical-looking fills (same second, same price and amount) stay two:
each needs its own twin.

The rule runs when an export is imported (its rows the API already delivered are rejected as
`duplicate_of_api`, naming the API row) and whenever the API later delivers a page
(`supersede_csv_twins`, in the page's transaction: the CSV row is deleted and recorded as
`superseded`). Identical lines of one file get content ids numbered by occurrence, so importing
a file again, or an overlapping export, finds its own rows and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, delete, select, tuple_
from sqlalchemy.engine import Connection

from exchange_sync.warehouse import schema
from exchange_sync.warehouse.bulk import API_SOURCE
from exchange_sync.warehouse.types import canonical_decimal

TIME_COLUMN = {"trades": "traded_at", "transfers": "occurred_at", "ledger": "occurred_at"}
KEY_COLUMNS = {
    "trades": ("symbol", "trade_id"),
    "transfers": ("kind", "transfer_id"),
    "ledger": ("ledger_id",),
}
ID_COLUMN = {"trades": "trade_id", "transfers": "transfer_id", "ledger": "ledger_id"}
MATCH_COLUMNS = {
    "trades": ("symbol", "side", "price", "amount"),
    "transfers": ("kind", "currency", "amount"),
    "ledger": ("type", "currency", "amount"),
}
CONTENT_ID_PREFIX = "csv-"
TABLES: dict[str, Table] = {"trades": schema.trades, "transfers": schema.transfers, "ledger": schema.ledger}


def csv_source(import_id: int, line: int) -> str:
    return f"csv:{import_id}:{line}"


def parse_source(source: str) -> tuple[int, int] | None:
    """(import id, line) of a CSV row's source; None for the API's."""
    if not source.startswith("csv:"):
        return None
    _, import_id, line = source.split(":")
    return int(import_id), int(line)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str):
        return canonical_decimal(value)
    return value


def match_key(table: str, values: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(_text(values[c]) for c in MATCH_COLUMNS[table])


def assign_content_ids(table: str, account_id: str, records: Iterable[dict[str, Any]]) -> None:
    """Give each id-less row `csv-<hash of its content and occurrence>`: the same line content
    gets the same id in any file, the n-th identical one the n-th id."""
    seen: dict[str, int] = defaultdict(int)
    id_column = ID_COLUMN[table]
    for values in records:
        if values[id_column] is not None:
            continue
        content = json.dumps(
            [account_id, table, *match_key(table, values), _text(values[TIME_COLUMN[table]])]
        )
        occurrence = seen[content]
        seen[content] += 1
        digest = hashlib.sha256(f"{content}#{occurrence}".encode()).hexdigest()[:32]
        values[id_column] = CONTENT_ID_PREFIX + digest


def describe(table: str, row: Mapping[str, Any]) -> str:
    """The stored row a rejection names, as the user finds it in the warehouse."""
    keys = ", ".join(f"{c}={row[c]}" for c in KEY_COLUMNS[table])
    return f"{table} row {keys} at {row[TIME_COLUMN[table]].isoformat()}"


def _window(table: Table, name: str, account_id: str, times: Sequence[datetime], slack: timedelta) -> Any:
    time = table.c[TIME_COLUMN[name]]
    return and_(table.c.account_id == account_id, time >= min(times) - slack, time <= max(times) + slack)


def key_in(name: str, account_id: str, keys: Sequence[tuple]) -> Any:
    """The account's rows with these primary keys (a tuple IN: no deep OR chains for SQLite)."""
    table = TABLES[name]
    columns = [table.c[k] for k in KEY_COLUMNS[name]]
    if len(columns) == 1:
        return and_(table.c.account_id == account_id, columns[0].in_([k[0] for k in keys]))
    return and_(table.c.account_id == account_id, tuple_(*columns).in_(keys))


def _same_twin(name: str, mine: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    if name == "transfers" and mine.get("txid") and other.get("txid"):
        return mine["txid"] == other["txid"]
    return True


class Classified:
    """An import's records by what becomes of them."""

    def __init__(self) -> None:
        self.new: list[dict[str, Any]] = []
        self.unchanged = 0
        self.duplicates: list[tuple[dict[str, Any], str]] = []  # (record, the API row it repeats)


def classify(
    conn: Connection, name: str, account_id: str, records: list[dict[str, Any]], precision: timedelta
) -> Classified:
    """Which records are new, which stored already (from an export), which the API holds."""
    result = Classified()
    if not records:
        return result
    table = TABLES[name]
    keys, time_column = KEY_COLUMNS[name], TIME_COLUMN[name]
    times = [r[time_column] for r in records]
    stored_rows = (
        conn.execute(select(table).where(_window(table, name, account_id, times, precision))).mappings().all()
    )
    stored = {tuple(r[k] for k in keys): r for r in stored_rows}
    # Rows stored outside the window can still share an id with a record (a native id's time
    # differs between API and export only within precision; this is for safety, it is cheap).
    wanted = [tuple(r[k] for k in keys) for r in records if tuple(r[k] for k in keys) not in stored]
    for chunk in range(0, len(wanted), 500):
        query = select(table).where(key_in(name, account_id, wanted[chunk : chunk + 500]))
        stored.update({tuple(r[k] for k in keys): r for r in conn.execute(query).mappings()})
    api_twins: dict[tuple[str, ...], list[Mapping[str, Any]]] = defaultdict(list)
    for row in sorted(stored_rows, key=lambda r: r[time_column]):
        if row["source"] == API_SOURCE:
            api_twins[match_key(name, row)].append(row)
    paired: set[tuple] = set()
    for record in sorted(records, key=lambda r: r[time_column]):
        key = tuple(record[k] for k in keys)
        found = stored.get(key)
        if found is not None:
            if found["source"] == API_SOURCE:
                result.duplicates.append((record, describe(name, found)))
            else:
                result.unchanged += 1
            continue
        if record[ID_COLUMN[name]].startswith(CONTENT_ID_PREFIX):
            twin = _twin(name, record, api_twins[match_key(name, record)], paired, precision)
            if twin is not None:
                result.duplicates.append((record, describe(name, twin)))
                continue
        result.new.append(record)
    return result


def _twin(
    name: str,
    record: Mapping[str, Any],
    candidates: list[Mapping[str, Any]],
    paired: set[tuple],
    precision: timedelta,
) -> Mapping[str, Any] | None:
    start = record[TIME_COLUMN[name]]
    for candidate in candidates:
        key = tuple(candidate[k] for k in KEY_COLUMNS[name])
        moment = candidate[TIME_COLUMN[name]]
        if key in paired or not (start <= moment < start + precision):
            continue
        if _same_twin(name, record, candidate):
            paired.add(key)
            return candidate
    return None


# -- the API's side: a page that delivers what an export stored ------------------------------------


def supersede_csv_twins(
    conn: Connection, name: str, account_id: str, api_rows: Sequence[Mapping[str, Any]]
) -> int:
    """Delete the id-less CSV rows this API page delivers (the matching rule), recording each as
    `superseded`; 0 at once for an account that never imported an export."""
    if not api_rows or name not in TABLES:
        return 0
    imports = schema.csv_imports.c
    precisions = dict(
        conn.execute(
            select(imports.id, imports.time_precision_ms).where(imports.account_id == account_id)
        ).all()
    )
    if not precisions:
        return 0
    table = TABLES[name]
    time_column, id_column = TIME_COLUMN[name], ID_COLUMN[name]
    slack = timedelta(milliseconds=max(precisions.values()))
    times = [r[time_column] for r in api_rows]
    query = select(table).where(
        _window(table, name, account_id, times, slack),
        table.c.source != API_SOURCE,
        table.c[id_column].startswith(CONTENT_ID_PREFIX),
    )
    csv_rows = conn.execute(query).mappings().all()
    if not csv_rows:
        return 0
    by_key: dict[tuple[str, ...], list[Mapping[str, Any]]] = defaultdict(list)
    for row in sorted(api_rows, key=lambda r: r[time_column]):
        by_key[match_key(name, row)].append(row)
    paired: set[tuple] = set()
    gone: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    for row in sorted(csv_rows, key=lambda r: r[time_column]):
        origin = parse_source(row["source"])
        precision = timedelta(milliseconds=precisions.get(origin[0], 1) if origin else 1)
        twin = _twin(name, row, by_key[match_key(name, row)], paired, precision)
        if twin is not None:
            gone.append((row, twin))
    if not gone:
        return 0
    keys = KEY_COLUMNS[name]
    doomed = [tuple(row[k] for k in keys) for row, _ in gone]
    for chunk in range(0, len(doomed), 500):
        conn.execute(delete(table).where(key_in(name, account_id, doomed[chunk : chunk + 500])))
    from exchange_sync.csv_import.rejects import record_superseded

    record_superseded(conn, account_id, [(row, describe(name, twin)) for row, twin in gone])
    return len(gone)

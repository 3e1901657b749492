"""`exchange-sync import-csv`: one export file into one account's history, in one transaction.

Read (reader.py) → pick the format by its header (formats/) → parse every line into rows or a
rejection → keep out what lies before the account's history_start → recognise what is stored
already (matching.py) → store the new rows, the rejections and the import's record together. A
file that cannot be read at all changes nothing; a bad line is a rejection, never a lost line.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from exchange_sync.csv_import import matching
from exchange_sync.csv_import.context import context_for
from exchange_sync.csv_import.formats import ParseContext, Record, Rejection, describe, for_exchange, identify
from exchange_sync.csv_import.reader import read_csv
from exchange_sync.csv_import.rejects import record_rejections
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Warehouse, schema
from exchange_sync.warehouse.upsert import upsert

log = logging.getLogger(__name__)


@dataclass
class CsvImportReport:
    import_id: int
    file: str
    format: str
    rows_read: int
    stored: dict[str, int]  # per table
    unchanged: int
    rejected: dict[str, int]  # per reason
    first_rejects: list[dict[str, Any]] = field(default_factory=list)  # up to 20, for the summary

    def summary(self) -> str:
        stored = ", ".join(f"{n} {t}" for t, n in self.stored.items() if n) or "nothing new"
        lines = [
            f"{self.file} ({self.format}): {self.rows_read} lines read; stored {stored}; "
            f"{self.unchanged} already stored; {sum(self.rejected.values())} rejected"
        ]
        lines += [f"  {n} x {reason}" for reason, n in sorted(self.rejected.items())]
        lines += [f"  line {r['line']}: {r['reason']}: {r['detail']}" for r in self.first_rejects]
        if sum(self.rejected.values()) > len(self.first_rejects):
            lines.append(f"  (all of them: exchange-sync csv-rejects ACCOUNT --import {self.import_id})")
        return "\n".join(lines)


def import_csv(
    warehouse: Warehouse,
    account: AccountConfig,
    path: Path,
    format_name: str = "auto",
    context: ParseContext | None = None,
) -> CsvImportReport:
    formats = for_exchange(account.exchange, format_name)
    csv_file = read_csv(path, lambda header: identify(header, formats) is not None, describe(formats))
    chosen = identify(csv_file.header, formats)
    assert chosen is not None  # read_csv found the header by it
    rejections: list[Rejection] = [
        Rejection(row.line, why.reason, why.detail, row.fields) for row, why in csv_file.bad_lines
    ]
    records: list[Record] = []
    # What the account's exchange calls things (its stored market list, its conversions' type).
    context = context or context_for(warehouse, account.exchange)
    for item in chosen.parse(csv_file.rows, context):
        (records if isinstance(item, Record) else rejections).append(item)
    raw = {row.line: row.fields for row in csv_file.rows}
    records = _inside_history(account, records, rejections, raw)
    now = datetime.now(UTC)
    precision = timedelta(milliseconds=chosen.time_precision_ms)
    with warehouse.engine.begin() as conn:
        import_id = conn.execute(
            schema.csv_imports.insert().values(
                account_id=account.id,
                exchange=account.exchange,
                file_name=path.name,
                sha256=csv_file.sha256,
                format=chosen.name,
                time_precision_ms=chosen.time_precision_ms,
                imported_at=now,
                rows_read=len(csv_file.rows) + len(csv_file.bad_lines),
                rows_stored=0,
                rows_unchanged=0,
                rows_rejected=0,
            )
        ).inserted_primary_key[0]
        stored: dict[str, int] = {}
        unchanged = 0
        for table in matching.TABLES:
            rows = [_row(r, account, now, import_id) for r in records if r.table == table]
            matching.assign_content_ids(table, account.id, rows)
            outcome = matching.classify(conn, table, account.id, rows, precision)
            if outcome.new:
                upsert(conn, matching.TABLES[table], outcome.new, keep_stored=True)
            stored[table] = len(outcome.new)
            unchanged += outcome.unchanged
            rejections += [_duplicate(r, what, raw) for r, what in outcome.duplicates]
        if chosen.derives_transfers:
            derive = [r for r in records if r.table == "ledger"]
            from exchange_sync.warehouse.ledger_transfers import derive_transfers

            derive_transfers(conn, account.id, (r.values["refid"] for r in derive))
        if chosen.review is not None:
            rejections = chosen.review(conn, account.id, csv_file.rows, rejections)
        rejections.sort(key=lambda r: r.line)
        record_rejections(conn, import_id, account.id, rejections)
        conn.execute(
            update(schema.csv_imports)
            .where(schema.csv_imports.c.id == import_id)
            .values(rows_stored=sum(stored.values()), rows_unchanged=unchanged, rows_rejected=len(rejections))
        )
    report = CsvImportReport(
        import_id=import_id,
        file=path.name,
        format=chosen.name,
        rows_read=len(csv_file.rows) + len(csv_file.bad_lines),
        stored=stored,
        unchanged=unchanged,
        rejected=dict(Counter(r.reason for r in rejections)),
        first_rejects=[{"line": r.line, "reason": r.reason, "detail": r.detail} for r in rejections[:20]],
    )
    log.info("%s", report.summary())
    return report


def _row(record: Record, account: AccountConfig, now: datetime, import_id: int) -> dict[str, Any]:
    return {
        **record.values,
        "account_id": account.id,
        "exchange": account.exchange,
        "imported_at": now,
        "source": matching.csv_source(import_id, record.line),
    }


def _duplicate(row: dict[str, Any], api_row: str, raw: dict[int, Any]) -> Rejection:
    origin = matching.parse_source(row["source"])
    assert origin is not None
    line = origin[1]
    return Rejection(line, "duplicate_of_api", f"the API delivered it as {api_row}", raw.get(line, ()))


def _inside_history(
    account: AccountConfig, records: list[Record], rejections: list[Rejection], raw: dict[int, Any]
) -> list[Record]:
    """The records from the account's history_start on; older ones become rejections."""
    start = account.history_start
    kept = []
    for record in records:
        moment = record.values[matching.TIME_COLUMN[record.table]]
        if moment < start:
            detail = f"{moment.isoformat()} is before the account's history_start {start.isoformat()}"
            rejections.append(
                Rejection(record.line, "outside_history_window", detail, raw.get(record.line, ()))
            )
        else:
            kept.append(record)
    return kept

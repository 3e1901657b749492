"""Reads and writes against the warehouse. Every write commits rows and their cursor together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.engine import URL, Connection, Engine

from exchange_sync import streams
from exchange_sync.csv_import.matching import supersede_csv_twins
from exchange_sync.streams import Cursor
from exchange_sync.warehouse import schema
from exchange_sync.warehouse.accounts import Accounts
from exchange_sync.warehouse.client_state import ClientState
from exchange_sync.warehouse.engine import make_engine, warehouse_url
from exchange_sync.warehouse.incidents import Incidents
from exchange_sync.warehouse.key_history import KeyHistory
from exchange_sync.warehouse.ledger_transfers import derive_transfers
from exchange_sync.warehouse.migrations import migrate
from exchange_sync.warehouse.outbox import Outbox
from exchange_sync.warehouse.upsert import upsert

# The table each stream's rows land in, and the columns that identify a row.
STREAM_TABLES: dict[str, Table] = {
    streams.BALANCES: schema.balance_snapshots,
    streams.TRADES: schema.trades,
    streams.DEPOSITS: schema.transfers,
    streams.WITHDRAWALS: schema.transfers,
    streams.LEDGER: schema.ledger,
    streams.CONVERSIONS: schema.ledger,
}
TRANSFER_KIND = {streams.DEPOSITS: "deposit", streams.WITHDRAWALS: "withdrawal"}


def ledger_filter(stream: str, ledger_types: Mapping[str, str]) -> ColumnElement[bool] | None:
    """Which ledger rows are `stream`'s, where some streams are stored as ledger rows of one type
    (`ledger_types`, profiles.py: conversions): that type's for those, the rest for the ledger;
    None: every row (no stream is typed, or a stream of another table)."""
    if stream in ledger_types:
        return schema.ledger.c.type == ledger_types[stream]
    if stream == streams.LEDGER and ledger_types:
        return schema.ledger.c.type.not_in(list(ledger_types.values()))
    return None


class Warehouse:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.accounts = Accounts(engine)
        self.incidents = Incidents(engine)
        self.outbox = Outbox(engine)
        self.keys = KeyHistory(engine)
        self.clients = ClientState(engine)

    @classmethod
    def open(cls, url: str | URL | None = None) -> Warehouse:
        """Connect (to the configured warehouse unless a URL is given) and migrate the schema."""
        warehouse = cls(make_engine(url or warehouse_url()))
        migrate(warehouse.engine)
        return warehouse

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes ------------------------------------------------------------------------------

    def commit_page(
        self,
        stream: str,
        rows: Sequence[Mapping[str, Any]],
        cursor: Cursor,
        transfers_from_ledger: bool = False,
        transfers: Sequence[Mapping[str, Any]] = (),
    ) -> int:
        """Upsert one page of rows and advance the stream's cursor in a single transaction; for a
        ledger that is the exchange's record of transfers, derive those too (ledger_transfers.py),
        and store `transfers` the same answer held (Coinbase's transactions are both)."""
        with self.engine.begin() as conn:
            if rows:
                upsert(conn, STREAM_TABLES[stream], rows)
            if transfers_from_ledger and rows:
                derive_transfers(conn, cursor.account_id, (r["refid"] for r in rows))
            if transfers:
                upsert(conn, schema.transfers, transfers)
            # Rows an earlier CSV import stored without the exchange's id, now the API's.
            supersede_csv_twins(conn, STREAM_TABLES[stream].name, cursor.account_id, rows)
            if transfers:
                supersede_csv_twins(conn, "transfers", cursor.account_id, transfers)
            upsert(conn, schema.cursors, [_cursor_row(cursor)])
        return len(rows)

    def record_attempt(
        self,
        account_id: str,
        exchange: str,
        *,
        ok: bool,
        error: str | None = None,
        requests: int | None = None,
    ) -> None:
        now = datetime.now(UTC)
        row: dict[str, Any] = {
            "account_id": account_id,
            "exchange": exchange,
            "last_attempt_at": now,
            "last_error": error,
            "last_requests": requests,
        }
        if ok:
            row["last_success_at"] = now
        with self.engine.begin() as conn:
            upsert(conn, schema.account_sync, [row])

    # -- reads -------------------------------------------------------------------------------

    def cursor(self, account_id: str, stream: str, scope: str = "") -> Cursor | None:
        c = schema.cursors.c
        query = select(schema.cursors).where(c.account_id == account_id, c.stream == stream, c.scope == scope)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _cursor_from_row(row) if row else None

    def cursors(self, account_id: str, stream: str | None = None) -> list[Cursor]:
        c = schema.cursors.c
        query = select(schema.cursors).where(c.account_id == account_id)
        if stream is not None:
            query = query.where(c.stream == stream)
        with self.engine.connect() as conn:
            return [_cursor_from_row(r) for r in conn.execute(query.order_by(c.stream, c.scope)).mappings()]

    def row_counts(self, account_id: str, ledger_types: Mapping[str, str] | None = None) -> dict[str, int]:
        """Rows per stream; balances count the assets in the latest snapshot; streams stored as
        ledger rows of one type (`ledger_types`: conversions) count those, the ledger the rest."""
        counts = {}
        with self.engine.connect() as conn:
            t = schema.trades.c
            counts[streams.TRADES] = conn.scalar(select(func.count()).where(t.account_id == account_id))
            x = schema.transfers.c
            for stream, kind in TRANSFER_KIND.items():
                query = select(func.count()).where(x.account_id == account_id, x.kind == kind)
                counts[stream] = conn.scalar(query)
            ledger = schema.ledger.c
            typed = dict(ledger_types or {})
            for stream in (*typed, streams.LEDGER):
                query = select(func.count()).where(ledger.account_id == account_id)
                if (rows_of := ledger_filter(stream, typed)) is not None:
                    query = query.where(rows_of)
                counts[stream] = conn.scalar(query)
            counts[streams.BALANCES] = len(self._latest_balances(conn, account_id))
        return counts

    def oldest_pending_transfer(
        self, account_id: str, kind: str | None = None, currency: str | None = None
    ) -> datetime | None:
        """When the oldest transfer stored as pending happened (its status may change later); of
        one kind and currency, or of any."""
        x = schema.transfers.c
        query = select(func.min(x.occurred_at)).where(x.account_id == account_id, x.status == "pending")
        if kind is not None:
            query = query.where(x.kind == kind)
        if currency is not None:
            query = query.where(x.currency == currency)
        with self.engine.connect() as conn:
            return conn.scalar(query)

    def transfer_currencies(self, account_id: str) -> set[str]:
        x = schema.transfers.c
        query = select(x.currency).where(x.account_id == account_id).distinct()
        with self.engine.connect() as conn:
            return set(conn.scalars(query))

    def latest_balances(self, account_id: str) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            return self._latest_balances(conn, account_id)

    def balance_totals_at(self, account_id: str, moment: datetime) -> dict[str, Any] | None:
        """asset -> total of the latest snapshot taken at or before `moment` (None: there is none)."""
        b = schema.balance_snapshots.c
        taken = (
            select(func.max(b.taken_at)).where(b.account_id == account_id, b.taken_at <= moment)
        ).scalar_subquery()
        query = select(b.asset, b.total, b.taken_at).where(b.account_id == account_id, b.taken_at == taken)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return {asset: total for asset, total, _ in rows} if rows else None

    def account_sync(self, account_id: str) -> dict[str, Any] | None:
        query = select(schema.account_sync).where(schema.account_sync.c.account_id == account_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    def rows(self, table: Table, account_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            query = select(table).where(table.c.account_id == account_id)
            return [dict(r) for r in conn.execute(query).mappings()]

    @staticmethod
    def _latest_balances(conn: Connection, account_id: str) -> dict[str, dict[str, Any]]:
        b = schema.balance_snapshots.c
        latest = select(func.max(b.taken_at)).where(b.account_id == account_id).scalar_subquery()
        query = select(schema.balance_snapshots).where(b.account_id == account_id, b.taken_at == latest)
        return {r["asset"]: dict(r) for r in conn.execute(query).mappings()}


def _cursor_row(cursor: Cursor) -> dict[str, Any]:
    return {
        "account_id": cursor.account_id,
        "stream": cursor.stream,
        "scope": cursor.scope,
        "position": cursor.position,
        "synced_until": cursor.synced_until,
        "updated_at": datetime.now(UTC),
    }


def _cursor_from_row(row: Mapping[str, Any]) -> Cursor:
    return Cursor(
        account_id=row["account_id"],
        stream=row["stream"],
        scope=row["scope"],
        position=row["position"],
        synced_until=row["synced_until"],
    )

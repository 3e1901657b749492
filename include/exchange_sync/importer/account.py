"""Import one account: every configured stream, page by page, each page committed with its cursor.

Which ccxt call fetches a stream and how it is paged comes from the exchange's profile; this
module only runs the strategy (importer/paging.py), turns records into rows (importer/rows.py) and
commits. A run that dies anywhere resumes from the last committed page on the next run: nothing is
lost, and exchange-native ids make the re-read of a partly committed page an upsert, not a
duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from exchange_sync import streams
from exchange_sync.hooks.answers import bad_record, unparseable, value_at
from exchange_sync.importer.discovery import candidate_symbols
from exchange_sync.importer.fast_rows import FastPath, RawAnswer
from exchange_sync.importer.paging import Fetch, Page, StreamRun
from exchange_sync.importer.quiet_symbols import moved_assets, plan_symbols
from exchange_sync.importer.rows import ROWS, balance_rows, conversion_rows, transfer_row
from exchange_sync.importer.writer import PageWriter
from exchange_sync.profiles import ExchangeProfile, StreamSource, identity_in
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Cursor, Warehouse
from exchange_sync.warehouse.store import TRANSFER_KIND

log = logging.getLogger(__name__)

# Where a fetched row carries the transfer its record also is, until the page is committed.
TRANSFER_OF = "_transfer"

# What identifies a stream's row and when it happened, in the warehouse's words.
ROW_ID = {
    streams.TRADES: "trade_id",
    streams.DEPOSITS: "transfer_id",
    streams.WITHDRAWALS: "transfer_id",
    streams.LEDGER: "ledger_id",
    streams.CONVERSIONS: "ledger_id",
}
ROW_TIME = {
    streams.TRADES: "traded_at",
    streams.DEPOSITS: "occurred_at",
    streams.WITHDRAWALS: "occurred_at",
    streams.LEDGER: "occurred_at",
    streams.CONVERSIONS: "occurred_at",
}


@dataclass
class StreamReport:
    requests: int = 0
    rows: int = 0
    pages: int = 0


@dataclass
class ImportReport:
    account_id: str
    exchange: str
    streams: dict[str, StreamReport] = field(default_factory=dict)
    symbols_queried: int = 0
    symbols_skipped: int = 0  # candidate symbols left unasked: their assets' balances did not move
    exchange_uid: str | None = None  # who the key belongs to at the exchange (where it says)
    # Per stream, history the exchange's API no longer serves and the warehouse lacks: [from, to).
    unreachable: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.streams.values())

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.streams.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "exchange": self.exchange,
            "requests": self.requests,
            "rows": self.rows,
            "symbols_queried": self.symbols_queried,
            "symbols_skipped": self.symbols_skipped,
            "exchange_uid": self.exchange_uid,
            "streams": {name: asdict(report) for name, report in self.streams.items()},
            "unreachable": {s: [a.isoformat(), b.isoformat()] for s, (a, b) in self.unreachable.items()},
        }


class AccountImporter:
    def __init__(self, account: AccountConfig, client: Any, warehouse: Warehouse, profile: ExchangeProfile):
        self.account = account
        self.client = client
        self.warehouse = warehouse
        self.profile = profile
        self.report = ImportReport(account.id, account.exchange)
        self.label = f"{account.exchange}/{account.id}"
        self.writer: PageWriter | None = None
        self.sweep = True
        # Balance totals that moved since the last successful run (None: unknown), and when that was.
        self.moved: set[str] | None = None
        self.compared_with: datetime | None = None

    def run(
        self, only: tuple[str, ...] | None = None, symbols: list[str] | None = None, sweep: bool = True
    ) -> ImportReport:
        """Import the account's streams (or `only` these; per-symbol streams for `symbols` only).
        Without `sweep`, symbols whose assets' balances did not move are left unasked until their
        sweep is due (quiet_symbols.py): what scheduled runs do."""
        self.sweep = sweep
        self.writer = PageWriter(self.warehouse)
        try:
            self._import_streams(only, symbols)
        except BaseException:
            # Pages fetched before the failure are still committed; the import's error is the one
            # to report.
            self.writer.close(raise_error=False)
            raise
        self.writer.close()
        log.info(
            "%s: imported %d rows with %d requests (%s)",
            self.label,
            self.report.rows,
            self.report.requests,
            ", ".join(f"{name} {r.rows} rows/{r.requests} req" for name, r in self.report.streams.items()),
        )
        return self.report

    def candidate_symbols(self, balance: dict[str, Any] | None = None) -> list[str]:
        """The symbols that can hold this account's trades (see discovery.py); [] where the
        exchange answers for every symbol at once. From `balance` where the caller has a fresh
        one, else from a balance read now."""
        if not self.profile.needs_symbols:
            return []
        self.report.streams.setdefault(streams.TRADES, StreamReport())
        return self._candidates(balance if balance is not None else self._fetch_balance())

    def _import_streams(self, only: tuple[str, ...] | None, symbols: list[str] | None) -> None:
        wanted = [
            s for s in self.profile.streams if s in self.account.streams and (only is None or s in only)
        ]
        for stream in wanted:
            self.report.streams[stream] = StreamReport()
        sources = [self.profile.sources[s] for s in wanted if s in self.profile.sources]
        # Symbols and currencies are found from the balance answer (unless the symbols are given).
        needs_balance = any(
            (source.paging.per_symbol and symbols is None) or source.paging.per_currency for source in sources
        )
        balance = None
        if streams.BALANCES in wanted or needs_balance:
            balance = self._fetch_balance()
            self.report.exchange_uid = self._identity(balance)
            if not self.sweep:  # only a run that may skip quiet symbols compares balances
                self.moved, self.compared_with = self._balance_moves(balance)
        if streams.BALANCES in wanted:
            self._store_balance(balance)
        for stream in wanted:
            if stream == streams.BALANCES:
                continue
            source = self.profile.sources[stream]
            for scope in self._scopes(stream, source, balance, symbols):
                self._import(stream, source, scope)

    def _scopes(
        self, stream: str, source: StreamSource, balance: dict[str, Any] | None, symbols: list[str] | None
    ) -> list[str | None]:
        """What one stream is asked about, one request series each: its symbols, its currencies,
        or the whole account at once."""
        if source.paging.per_symbol:
            return list(symbols) if symbols is not None else self._symbols_to_ask(balance)
        if source.paging.per_currency:
            return list(self._currencies(stream, balance or {}))
        return [None]

    # -- balances --------------------------------------------------------------------------

    def _fetch_balance(self) -> dict[str, Any]:
        balance = self._counted(streams.BALANCES, self.client.fetch_balance)
        if self.profile.accounts_in_balance:
            listed = value_at(balance, self.profile.accounts_in_balance)
            self.client.accounts = self._parsed(self.client.parse_accounts, listed or [])
            self.client.accountsById = self.client.index_by(self.client.accounts, "id")
        return balance

    def _identity(self, balance: dict[str, Any]) -> str | None:
        """Who the key belongs to at the exchange: from the balance answer where it says, else
        asked once (while the warehouse does not know the account's identity yet)."""
        identity = self.profile.identity
        if identity is None:
            return None
        if identity.method == "fetch_balance":
            return identity_in(identity, balance)
        state = self.warehouse.accounts.get(self.account.id)
        if state is not None and state.exchange_uid:
            return None
        return identity_in(
            identity, self._counted(streams.BALANCES, getattr(self.client, identity.method), {})
        )

    def _store_balance(self, balance: dict[str, Any]) -> None:
        taken_at = datetime.now(UTC)
        rows = balance_rows(balance, self.account.id, self.account.exchange, taken_at)
        cursor = Cursor(self.account.id, streams.BALANCES, synced_until=taken_at)
        self._commit(streams.BALANCES, rows, cursor)
        log.info("%s balances: snapshot of %d assets", self.label, len(rows))

    # -- paged streams -----------------------------------------------------------------------

    def _import(self, stream: str, source: StreamSource, scope: str | None) -> None:
        cursor = self.warehouse.cursor(self.account.id, stream, scope or "")
        run = StreamRun(
            account_id=self.account.id,
            stream=stream,
            fetch=self._fetcher(stream, source),
            cursor=cursor,
            start=self._start(stream, source, cursor, scope),
            until=datetime.now(UTC),
            time_of=lambda row: row[ROW_TIME[stream]],
            id_of=lambda row: row[ROW_ID[stream]],
            scope=scope,
            last_answer=lambda: self.client.request_log.last_answer,
            lookback=source.lookback,
        )
        fetched = 0
        for page in source.paging.pages(run):
            fetched += self._commit_page(stream, page)
        where = f" {scope}" if scope else ""
        if fetched or scope is None:
            log.info("%s %s%s: %d rows (from %s)", self.label, stream, where, fetched, run.start.isoformat())

    def _start(self, stream: str, source: StreamSource, cursor: Cursor | None, scope: str | None) -> datetime:
        """Where this run asks from: the history start, or the cursor minus the look-back, or the
        oldest transfer still pending (its status may have changed since)."""
        start = self.account.history_start
        if cursor is not None:
            start = max(start, cursor.synced_until - source.lookback)
        if source.refresh_pending:
            pending = self.warehouse.oldest_pending_transfer(
                self.account.id, TRANSFER_KIND.get(stream), scope if source.paging.per_currency else None
            )
            if pending is not None:
                start = max(self.account.history_start, min(start, pending))
        served_from = source.served_from(datetime.now(UTC))
        if served_from is not None and start < served_from:
            self._unreachable(stream, start, served_from)
            start = served_from
        return start

    def _unreachable(self, stream: str, start: datetime, served_from: datetime) -> None:
        """History the API no longer serves: said once in the report and the log, never asked for."""
        self.report.unreachable[stream] = (start, served_from)
        log.warning(
            "%s %s: the exchange's API no longer serves %s before %s; %s → %s cannot be imported from "
            "it: import the exchange's CSV export for that period",
            self.label,
            stream,
            stream,
            served_from.isoformat(),
            start.isoformat(),
            served_from.isoformat(),
        )

    def _fetcher(self, stream: str, source: StreamSource) -> Fetch:
        method = getattr(self.client, source.method)
        to_row = ROWS[stream] if source.ledger_type is None else None  # conversions: below

        def fetch(symbol: str | None, since: int | None, limit: int | None, params: dict) -> list[dict]:
            if source.fast_rows is not None:
                return self._fast_fetch(stream, source.fast_rows, method, symbol, since, limit, params)
            records = self._counted(stream, method, symbol, since, limit, params)
            imported_at = datetime.now(UTC)
            if source.ledger_type is not None:  # a conversion is two ledger rows
                account_id, exchange = self.account.id, self.account.exchange
                return [
                    row
                    for r in records
                    for row in conversion_rows(r, account_id, exchange, imported_at, source.ledger_type)
                ]
            rows = [to_row(r, self.account.id, self.account.exchange, imported_at) for r in records]
            if source.transfer_types:
                for row, record in zip(rows, records, strict=True):
                    row[TRANSFER_OF] = self._transfer_in(source, record, imported_at)
            return rows

        return fetch

    def _fast_fetch(self, stream: str, fast: FastPath, method: Callable[..., Any], *args: Any) -> list[dict]:
        """One call of the stream's ccxt method whose answer the exchange's fast path turns into
        rows; a page it does not know goes through ccxt's parser and rows.py as always."""
        with RawAnswer(self.client, fast.parser) as raw:
            records = self._counted(stream, method, *args)
        imported_at = datetime.now(UTC)
        account_id, exchange = self.account.id, self.account.exchange
        rows = raw.rows(fast, account_id, exchange, imported_at)
        if rows is not None:
            return rows
        if raw.args is not None:  # else the method answered without its parser: its answer stands
            records = self._parsed(raw.parsed)
        return [ROWS[stream](r, account_id, exchange, imported_at) for r in records]

    def _transfer_in(
        self, source: StreamSource, record: dict[str, Any], imported_at: datetime
    ) -> dict | None:
        """The deposit or withdrawal a record of another stream also is (None: it is none)."""
        info = record.get("info") or {}
        if info.get("type") not in source.transfer_types:
            return None
        transfer = self._parsed(self.client.parse_transaction, info)
        kind = source.transfer_types[info["type"]] or transfer.get("type")
        if kind not in ("deposit", "withdrawal"):
            raise bad_record("transfer", "type", kind, info)
        return transfer_row(transfer, kind, self.account.id, self.account.exchange, imported_at)

    def _commit_page(self, stream: str, page: Page) -> int:
        transfers = [t for r in page.rows if (t := r.pop(TRANSFER_OF, None))]
        start = self.account.history_start
        rows = [r for r in page.rows if r[ROW_TIME[stream]] >= start]
        derive = stream == streams.LEDGER and self.profile.transfers_from_ledger
        self.writer.submit(
            stream, rows, page.cursor, derive, [t for t in transfers if t["occurred_at"] >= start]
        )
        self._counted_rows(stream, len(rows))
        return len(rows)

    # -- trades' symbols -------------------------------------------------------------------------

    def _candidates(self, balance: dict[str, Any]) -> list[str]:
        totals = balance.get("total") or {}
        held_assets = {asset for asset, total in totals.items() if total and Decimal(total)}
        markets = self._counted(streams.TRADES, self.client.load_markets)
        if self.writer is not None:
            self.writer.flush()  # discovery reads the transfers just imported
        assets = held_assets | self.warehouse.transfer_currencies(self.account.id)
        known = [c.scope for c in self.warehouse.cursors(self.account.id, streams.TRADES) if c.position]
        symbols = candidate_symbols(markets, assets, self.account.symbols, known)
        self.report.symbols_queried = len(symbols)
        log.info(
            "%s trades: %d candidate symbols of %d markets (assets held or transferred: %s)",
            self.label,
            len(symbols),
            len(markets),
            ", ".join(sorted(assets)),
        )
        return symbols

    def _symbols_to_ask(self, balance: dict[str, Any] | None) -> list[str]:
        candidates = self._candidates(balance or {})
        if self.sweep:
            return candidates
        cursors = self.warehouse.cursors(self.account.id, streams.TRADES)
        asked_until = {c.scope: c.synced_until for c in cursors}
        plan = plan_symbols(
            candidates,
            self.client.markets or {},
            self.moved,
            asked_until,
            timedelta(hours=self.account.trade_sweep_hours),
            datetime.now(UTC),
            self.compared_with,
        )
        self.report.symbols_queried = len(plan.ask)
        self.report.symbols_skipped = len(plan.skipped)
        if plan.skipped:
            log.info(
                "%s trades: asking %d of %d candidate symbols (%s); skipped, their assets' balances "
                "unchanged: %s; every symbol is asked again by %s (trade_sweep_hours %g)",
                self.label,
                len(plan.ask),
                len(candidates),
                plan.why,
                ", ".join(plan.skipped),
                f"{plan.next_sweep:%Y-%m-%d %H:%M} UTC" if plan.next_sweep else "-",
                self.account.trade_sweep_hours,
            )
        return plan.ask

    def _balance_moves(self, balance: dict[str, Any]) -> tuple[set[str] | None, datetime | None]:
        """Assets whose balance moved since the snapshot of the last successful run, and when."""
        sync = self.warehouse.account_sync(self.account.id)
        last_success = sync["last_success_at"] if sync else None
        if last_success is None:
            return None, None
        before = self.warehouse.balance_totals_at(self.account.id, last_success)
        now = {
            row["asset"]: row["total"]
            for row in balance_rows(balance, self.account.id, self.account.exchange, datetime.now(UTC))
        }
        return moved_assets(before, now), last_success

    def _currencies(self, stream: str, balance: dict[str, Any]) -> list[str]:
        """Every currency the exchange keeps an account (and so a history) of for this account:
        the balance answer lists them all, empty ones included, and currencies imported before stay."""
        listed = set((balance.get("total") or {}).keys())
        known = {c.scope for c in self.warehouse.cursors(self.account.id, stream) if c.scope}
        return sorted(listed | known)

    # -- plumbing --------------------------------------------------------------------------

    def _counted(self, stream: str, call: Callable[..., Any], *args: Any) -> Any:
        before = self.client.request_log.count
        try:
            return self._parsed(call, *args)
        finally:
            report = self.report.streams.setdefault(stream, StreamReport())
            report.requests += self.client.request_log.count - before

    def _parsed(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError, ArithmeticError) as exc:
            # ccxt's parser choked on an answer that passed the shape check: a bad answer, not a bug
            # of ours to crash on, and nothing of it is stored.
            raise unparseable(self.client, exc) from exc

    def _commit(self, stream: str, rows: list[dict], cursor: Cursor) -> None:
        self.writer.submit(stream, rows, cursor)
        self._counted_rows(stream, len(rows))

    def _counted_rows(self, stream: str, rows: int) -> None:
        report = self.report.streams[stream]
        report.rows += rows
        report.pages += 1

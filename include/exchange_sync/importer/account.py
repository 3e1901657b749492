"""Import one account: every configured stream, page by page, each page committed with its cursor.

A run that dies anywhere resumes from the last committed page on the next run: nothing is lost,
and exchange-native ids make the re-read of a partly committed page an upsert, not a duplicate.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exchange_sync import streams
from exchange_sync.hooks.answers import bad_record, unparseable
from exchange_sync.importer.discovery import candidate_symbols
from exchange_sync.importer.rows import balance_rows, from_ms, to_ms, trade_row, transfer_row
from exchange_sync.importer.writer import PageWriter
from exchange_sync.profiles import ExchangeProfile
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Cursor, Warehouse
from exchange_sync.warehouse.store import TRANSFER_KIND

log = logging.getLogger(__name__)

# Transfers first: the assets they touch feed symbol discovery for trades.
IMPORT_ORDER = (streams.BALANCES, streams.DEPOSITS, streams.WITHDRAWALS, streams.TRADES)


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
    exchange_uid: str | None = None  # who the key belongs to at the exchange

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
            "exchange_uid": self.exchange_uid,
            "streams": {name: asdict(report) for name, report in self.streams.items()},
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

    def run(self, only: tuple[str, ...] | None = None, symbols: list[str] | None = None) -> ImportReport:
        """Import the account's streams (or `only` these; trades of the given `symbols` only)."""
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

    def candidate_symbols(self) -> list[str]:
        """The symbols that can hold this account's trades (see discovery.py)."""
        self.report.streams.setdefault(streams.TRADES, StreamReport())
        balance = self._counted(streams.BALANCES, self.client.fetch_balance)
        return self._candidates(balance)

    def _import_streams(self, only: tuple[str, ...] | None, symbols: list[str] | None) -> None:
        wanted = [s for s in IMPORT_ORDER if s in self.account.streams and (only is None or s in only)]
        for stream in wanted:
            self.report.streams[stream] = StreamReport()
        balance = None
        if streams.BALANCES in wanted or (streams.TRADES in wanted and symbols is None):
            balance = self._counted(streams.BALANCES, self.client.fetch_balance)
            self.report.exchange_uid = self._uid(balance)
        if streams.BALANCES in wanted:
            self._store_balance(balance)
        for stream in (streams.DEPOSITS, streams.WITHDRAWALS):
            if stream in wanted:
                self._import_transfers(stream)
        if streams.TRADES in wanted:
            for symbol in symbols if symbols is not None else self._candidates(balance):
                self._import_symbol_trades(symbol)

    def _uid(self, balance: dict[str, Any]) -> str | None:
        if not self.profile.account_uid_field:
            return None
        uid = (balance.get("info") or {}).get(self.profile.account_uid_field)
        return None if uid in (None, "") else str(uid)

    # -- balances --------------------------------------------------------------------------

    def _store_balance(self, balance: dict[str, Any]) -> None:
        taken_at = datetime.now(UTC)
        rows = balance_rows(balance, self.account.id, self.account.exchange, taken_at)
        cursor = Cursor(self.account.id, streams.BALANCES, synced_until=taken_at)
        self._commit(streams.BALANCES, rows, cursor)
        log.info("%s balances: snapshot of %d assets", self.label, len(rows))

    # -- deposits and withdrawals: bounded time windows, offset pages inside each -------------

    def _import_transfers(self, stream: str) -> None:
        fetch = self.client.fetch_deposits if stream == streams.DEPOSITS else self.client.fetch_withdrawals
        kind = TRANSFER_KIND[stream]
        window = self.profile.transfer_window
        limit = self.profile.transfer_page_limit
        previous = self.warehouse.cursor(self.account.id, stream)
        start = self.account.history_start
        if previous is not None:
            start = max(start, previous.synced_until - self.profile.transfer_lookback)
        until = datetime.now(UTC)
        while start < until:
            end = min(start + window, until)
            offset, fetched = 0, 0
            while True:
                params = {"until": to_ms(end), "offset": offset}
                # The answer is a checked JSON list (hooks/answers.py), but Binance sends no total
                # or end marker: an empty list is taken as "nothing in this window" on its word.
                page = self._counted(stream, fetch, None, to_ms(start), limit, params)
                imported_at = datetime.now(UTC)
                rows = [
                    transfer_row(t, kind, self.account.id, self.account.exchange, imported_at) for t in page
                ]
                last_page = len(page) < limit
                # The cursor moves only once the whole window is in.
                synced = (
                    end if last_page else (previous.synced_until if previous else self.account.history_start)
                )
                self._commit(stream, rows, Cursor(self.account.id, stream, synced_until=synced))
                fetched += len(page)
                if last_page:
                    break
                offset += limit
            log.info(
                "%s %s %s → %s: %d rows", self.label, stream, start.isoformat(), end.isoformat(), fetched
            )
            # Binance windows are inclusive at both ends; the next one starts a millisecond later.
            start = from_ms(to_ms(end) + 1)

    # -- trades: per symbol, paged by trade id -------------------------------------------------

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

    def _import_symbol_trades(self, symbol: str) -> None:
        limit = self.profile.trades_page_limit
        cursor = self.warehouse.cursor(self.account.id, streams.TRADES, symbol)
        last_id = cursor.position if cursor else None
        fetched = 0
        while True:
            from_id = int(last_id) + 1 if last_id is not None else 0
            requested_at = datetime.now(UTC)
            page = self._counted(
                streams.TRADES, self.client.fetch_my_trades, symbol, None, limit, {"fromId": from_id}
            )
            imported_at = datetime.now(UTC)
            parsed = [trade_row(t, self.account.id, self.account.exchange, imported_at) for t in page]
            rows = [r for r in parsed if r["traded_at"] >= self.account.history_start]
            if parsed:
                last_id = str(max(_numeric_id(r) for r in parsed))
            last_page = len(page) < limit
            synced = requested_at if last_page else max(r["traded_at"] for r in parsed)
            self._commit(
                streams.TRADES,
                rows,
                Cursor(self.account.id, streams.TRADES, synced, scope=symbol, position=last_id),
            )
            fetched += len(rows)
            if last_page:
                break
        if fetched:
            log.info("%s trades %s: %d new rows (up to trade id %s)", self.label, symbol, fetched, last_id)

    # -- plumbing --------------------------------------------------------------------------

    def _counted(self, stream: str, call: Any, *args: Any) -> Any:
        before = self.client.request_log.count
        try:
            return call(*args)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError, ArithmeticError) as exc:
            # ccxt's parser choked on an answer that passed the shape check: a bad answer, not a bug
            # of ours to crash on, and nothing of it is stored.
            raise unparseable(self.client, exc) from exc
        finally:
            report = self.report.streams.setdefault(stream, StreamReport())
            report.requests += self.client.request_log.count - before

    def _commit(self, stream: str, rows: list[dict], cursor: Cursor) -> None:
        self.writer.submit(stream, rows, cursor)
        report = self.report.streams[stream]
        report.rows += len(rows)
        report.pages += 1


def _numeric_id(row: dict[str, Any]) -> int:
    """Binance trade ids are integers that `fromId` pages by."""
    try:
        return int(row["trade_id"])
    except ValueError:
        raise bad_record("trade", "id", row["trade_id"], row) from None

"""Paging strategies: how one stream's pages are requested, and how far each page moves its cursor.

A strategy is chosen per stream by the exchange's profile (profiles.py) and knows nothing about
exchanges, ccxt methods or the warehouse: it asks `run.fetch` for rows (ccxt's records already
converted, validated and shape-checked) and yields `Page`s, each with the cursor that holds once
the page is committed. The importer commits a page and its cursor in one transaction, so a run
killed anywhere resumes from the last committed page.

- `TradeIdPages`: per symbol, by the last trade id (Binance `fromId`); the id is the cursor.
- `TimeWindows`: bounded since..until windows, offset pages inside each (Binance transfers).
- `NarrowingWindows`: bounded since..until windows without any offset or id parameter, the rest
  of a full window asked for by ending it at the page's oldest row (Binance convert's `moreData`).
- `OffsetPages`: offset pages over one since..until window whose answers carry a total count
  (Kraken `ofs` with `count`, newest first); the window and offset are the cursor until it is
  done, so a resumed run finishes the same window. Entries that land in the window meanwhile
  (the count grows) are read from the top at the end.
- `RecentWindow`: one request for what an endpoint keeps of the recent past (Kraken's deposit
  and withdrawal status calls); anything older must come from a complete stream.
- `CursorPages`: newest first, each answer naming where the next (older) page starts (Coinbase's
  `cursor` and `starting_after`, OKX's `after` = the last row's bill id), back to the window's
  start; the window and the exchange's cursor are the stream's cursor until it is done.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from exchange_sync.hooks.answers import bad_record, value_at
from exchange_sync.streams import Cursor

Row = dict[str, Any]
# fetch(symbol, since_ms, limit, params) -> rows: the stream's ccxt call, counted and checked.
Fetch = Callable[[str | None, int | None, int | None, dict[str, Any]], list[Row]]


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def whole_second(moment: datetime) -> datetime:
    """Exchanges that take times in seconds (Kraken) compare them exclusively: start on a whole
    second so ccxt's own millisecond filter drops nothing the exchange sent."""
    return moment.replace(microsecond=0)


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    cursor: Cursor  # where the stream stands once this page is committed
    note: str = ""  # what was asked, for the task log


@dataclass
class StreamRun:
    """One (stream, scope) to import in this run: everything a strategy may use."""

    account_id: str
    stream: str
    fetch: Fetch
    cursor: Cursor | None  # as stored before this run
    start: datetime  # nothing older is asked for (history start, cursor minus look-back, ...)
    until: datetime  # the run's "now": what this run covers
    time_of: Callable[[Row], datetime]
    id_of: Callable[[Row], str]
    # The symbol (per-symbol streams) or currency (per-currency streams) this run asks about;
    # it is the ccxt call's first argument and the cursor's scope.
    scope: str | None = None
    last_answer: Callable[[], Any] = field(default=lambda: None)  # the raw JSON of the last answer
    # How far back a run re-reads before where the stream stood (entries recorded late).
    lookback: timedelta = timedelta(0)

    def synced(self) -> datetime:
        """How far the stream was imported before this run (history start when never)."""
        return self.cursor.synced_until if self.cursor else self.start

    def cursor_at(self, synced_until: datetime, position: str | None = None) -> Cursor:
        # A re-read of older windows (pending transfers) never moves a cursor backwards.
        synced = max(synced_until, self.cursor.synced_until) if self.cursor else synced_until
        return Cursor(self.account_id, self.stream, synced, scope=self.scope or "", position=position)


class Paging(Protocol):
    per_symbol: bool  # does each request need a symbol (and the account symbol discovery)?
    per_currency: bool  # ... or a currency (Coinbase: one ledger per currency account)?

    def pages(self, run: StreamRun) -> Iterator[Page]: ...


@dataclass(frozen=True)
class TradeIdPages:
    limit: int
    param: str  # the exchange's "from this id on" parameter, e.g. fromId
    per_symbol: bool = True
    per_currency: bool = False

    def pages(self, run: StreamRun) -> Iterator[Page]:
        last_id = run.cursor.position if run.cursor else None
        while True:
            requested_at = datetime.now(UTC)
            from_id = int(last_id) + 1 if last_id is not None else 0
            rows = run.fetch(run.scope, None, self.limit, {self.param: from_id})
            if rows:
                last_id = str(max(_numeric_id(run, row) for row in rows))
            last_page = len(rows) < self.limit
            synced = requested_at if last_page else max(run.time_of(row) for row in rows)
            yield Page(rows, run.cursor_at(synced, last_id), f"from id {from_id}")
            if last_page:
                return


@dataclass(frozen=True)
class TimeWindows:
    window: timedelta  # the widest since..until one request may ask for
    limit: int  # page size inside a window (offset paging)
    per_symbol: bool = False
    per_currency: bool = False

    def pages(self, run: StreamRun) -> Iterator[Page]:
        for start, end in _windows(run, self.window):
            offset = 0
            while True:
                # Binance sends no total or end marker: a short (or empty) page is taken as the
                # end of the window on the exchange's word.
                rows = run.fetch(None, to_ms(start), self.limit, {"until": to_ms(end), "offset": offset})
                last_page = len(rows) < self.limit
                # The cursor moves only once the whole window is in.
                cursor = run.cursor_at(end) if last_page else run.cursor_at(run.synced())
                yield Page(rows, cursor, f"{start.isoformat()} → {end.isoformat()} offset {offset}")
                if last_page:
                    break
                offset += self.limit


@dataclass(frozen=True)
class NarrowingWindows:
    window: timedelta  # the widest since..until one request may ask for
    limit: int  # page size (the exchange's maximum)
    more_path: str  # where the answer says the window holds more than it served, e.g. moreData
    per_symbol: bool = False
    per_currency: bool = False

    def pages(self, run: StreamRun) -> Iterator[Page]:
        for start, end in _windows(run, self.window):
            asked_end = end
            while True:
                rows = run.fetch(None, to_ms(start), self.limit, {"until": to_ms(asked_end)})
                more = value_at(run.last_answer(), self.more_path) is True
                # The rest of the window lies at or before the oldest row served (newest first):
                # asked again with that end, inclusive, so rows sharing its millisecond are re-read
                # (an upsert), never skipped. A full page within one millisecond moves on by one.
                oldest = min((to_ms(run.time_of(row)) for row in rows), default=None)
                done = not more or oldest is None or oldest <= to_ms(start)
                cursor = run.cursor_at(end) if done else run.cursor_at(run.synced())
                yield Page(rows, cursor, f"{start.isoformat()} → {asked_end.isoformat()}")
                if done:
                    break
                asked_end = from_ms(oldest if oldest < to_ms(asked_end) else oldest - 1)


def _windows(run: StreamRun, width: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """start..until in windows at most `width` wide. Binance's windows are inclusive at both
    ends: each starts a millisecond after the last one ended."""
    start = run.start
    while start < run.until:
        end = min(start + width, run.until)
        yield start, end
        start = from_ms(to_ms(end) + 1)


@dataclass(frozen=True)
class OffsetPages:
    limit: int  # the exchange's fixed page size
    count_path: str  # where the answer says how many entries the window holds, e.g. result.count
    per_symbol: bool = False
    per_currency: bool = False

    def pages(self, run: StreamRun) -> Iterator[Page]:
        now = whole_second(run.until)
        resumed = _resumed_window(run)
        if resumed is None:
            yield from self._window(run, (whole_second(run.start), now, 0, None))
            return
        # Finish what a killed run left, then go on to now like any run: from its end, minus the
        # look-back (entries recorded late there were not in it when it was read).
        yield from self._window(run, resumed)
        if resumed[1] < now:
            yield from self._window(run, (whole_second(resumed[1] - run.lookback), now, 0, None))

    def _window(self, run: StreamRun, window: tuple[datetime, datetime, int, int | None]) -> Iterator[Page]:
        since, until, offset, first_count = window
        while True:
            rows = self._page(run, since, until, offset)
            offset += len(rows)
            count = _count(run.last_answer(), self.count_path)
            first_count = count if first_count is None else first_count
            done = not rows or (offset >= count if count is not None else len(rows) < self.limit)
            if done and count is not None and count > first_count:
                rows += self._newest(run, since, until, count - first_count)
            state = {"since": to_ms(since), "until": to_ms(until), "ofs": offset, "count": first_count}
            cursor = run.cursor_at(until if done else run.synced(), None if done else json.dumps(state))
            yield Page(rows, cursor, f"{since.isoformat()} → {until.isoformat()} offset {offset - len(rows)}")
            if done:
                return

    def _page(self, run: StreamRun, since: datetime, until: datetime, offset: int) -> list[Row]:
        return run.fetch(None, to_ms(since), None, {"ofs": offset, "until": to_ms(until)})

    def _newest(self, run: StreamRun, since: datetime, until: datetime, grown: int) -> list[Row]:
        """Entries that landed in the window while it was paged: newest first, they pushed every
        offset down (so nothing older was missed, some re-read) and sit at the top, unread."""
        rows: list[Row] = []
        while len(rows) < grown:
            page = self._page(run, since, until, len(rows))
            if not page:
                break
            rows += page
        return rows


@dataclass(frozen=True)
class RecentWindow:
    keeps: timedelta  # how far back the endpoint answers (documented look-back)
    per_symbol: bool = False
    per_currency: bool = False

    def pages(self, run: StreamRun) -> Iterator[Page]:
        since = whole_second(max(run.start, run.until - self.keeps))
        rows = run.fetch(None, to_ms(since), None, {})
        yield Page(rows, run.cursor_at(run.until), f"since {since.isoformat()}")


@dataclass(frozen=True)
class CursorPages:
    limit: int  # the page size asked for (and the exchange's maximum)
    param: str  # the request parameter that carries the cursor, e.g. cursor, starting_after, after
    next_cursor: str  # where an answer says the next page starts: a dotted path, `-1` = last item
    per_symbol: bool = False
    per_currency: bool = False
    # The exchange filters by time itself (since/until reach the request); otherwise pages are
    # walked until one reaches past the window's start, and older rows are dropped here.
    filters_time: bool = True
    # Cursors that are times, compared exclusively ("older than ts", OKX's transfer history):
    # step back one millisecond less, so rows sharing the last row's millisecond are re-read
    # (an upsert) rather than skipped. 0 for ids, which never repeat.
    overlap_ms: int = 0
    # Where the cursor is made from the page's last row (OKX), a short page is the last; where
    # the exchange states the next cursor itself (Coinbase), only a missing one ends the list,
    # whatever a page's size (it may serve fewer than asked).
    short_page_ends: bool = True

    def pages(self, run: StreamRun) -> Iterator[Page]:
        # Exchanges paged by cursors take times in milliseconds: no rounding to the second.
        now = run.until
        if run.cursor is None or not run.cursor.position:
            yield from self._window(run, run.start, now, None)
            return
        # Finish the window a killed run left (from its last cursor), then go on to now like any
        # run: from its end, minus the look-back (entries recorded late there were not in it).
        state = json.loads(run.cursor.position)
        since, until = from_ms(state["since"]), from_ms(state["until"])
        yield from self._window(run, since, until, state["cursor"])
        if until < now:
            yield from self._window(run, until - run.lookback, now, None)

    def _window(self, run: StreamRun, since: datetime, until: datetime, cursor: str | None) -> Iterator[Page]:
        while True:
            params = {"until": to_ms(until)} if self.filters_time else {}
            if cursor:
                params[self.param] = cursor
            page = run.fetch(run.scope, to_ms(since) if self.filters_time else None, self.limit, params)
            cursor = self._next(run.last_answer(), cursor) if page else None
            older = any(run.time_of(row) < since for row in page)
            # Newer than the window: arrived during the run, imported by the next one.
            rows = [row for row in page if since <= run.time_of(row) <= until + timedelta(seconds=1)]
            done = not cursor or older or (self.short_page_ends and len(page) < self.limit)
            state = {"since": to_ms(since), "until": to_ms(until), "cursor": cursor}
            position = None if done else json.dumps(state)
            yield Page(rows, run.cursor_at(until if done else run.synced(), position), f"cursor {cursor}")
            if done:
                return

    def _next(self, answer: Any, previous: str | None) -> str | None:
        cursor = _at(answer, self.next_cursor)
        if cursor is None or not self.overlap_ms or not cursor.isdigit():
            return cursor
        overlapped = str(int(cursor) + self.overlap_ms)
        # A whole page within one millisecond would be asked for again and again: move on.
        return cursor if overlapped == previous else overlapped


def _at(answer: Any, path: str) -> str | None:
    """The value at a dotted path, as text; None where there is none."""
    value = value_at(answer, path)
    return None if value in (None, "") else str(value)


def _resumed_window(run: StreamRun) -> tuple[datetime, datetime, int, int | None] | None:
    """The window a killed run left unfinished (OffsetPages keeps it in the cursor's position)."""
    if run.cursor is None or not run.cursor.position:
        return None
    state = json.loads(run.cursor.position)
    return from_ms(state["since"]), from_ms(state["until"]), int(state["ofs"]), state.get("count")


def _count(answer: Any, path: str) -> int | None:
    value = _at(answer, path)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _numeric_id(run: StreamRun, row: Row) -> int:
    """Trade-id paging needs integer ids (Binance's are)."""
    try:
        return int(run.id_of(row))
    except ValueError:
        raise bad_record("trade", "id", run.id_of(row), row) from None

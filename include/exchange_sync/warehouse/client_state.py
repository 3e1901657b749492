"""What the ccxt clients of one exchange share across task processes and workers: the market list
(loaded once, handed to later clients), one request budget (reserved request by request), and the
per-account budgets of endpoints limited on their own (counted in the exchange's windows).

The warehouse is the one store every task process and Celery worker reaches, so it holds both.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, select, update
from sqlalchemy.engine import Connection, Engine

from exchange_sync.warehouse import schema
from exchange_sync.warehouse.upsert import upsert


def now_us_since_epoch() -> int:
    """The wall clock every worker shares (NTP-synchronised, as Airflow assumes), in µs."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class MarketList:
    loaded_at: datetime
    markets: dict[str, Any]
    currencies: dict[str, Any]
    helpers: dict[str, Any]


class ClientState:
    def __init__(self, engine: Engine):
        self.engine = engine

    def market_list(self, exchange: str, base_url: str) -> MarketList | None:
        m = schema.market_lists.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(schema.market_lists).where(m.exchange == exchange, m.base_url == base_url)
            ).first()
        if row is None:
            return None
        return MarketList(
            row.loaded_at, json.loads(row.markets), json.loads(row.currencies), json.loads(row.helpers)
        )

    def store_market_list(
        self,
        exchange: str,
        base_url: str,
        markets: dict[str, Any],
        currencies: dict[str, Any],
        helpers: dict[str, Any],
        loaded_at: datetime | None = None,
    ) -> None:
        row = {
            "exchange": exchange,
            "base_url": base_url,
            "loaded_at": loaded_at or datetime.now(UTC),
            "markets": json.dumps(markets),
            "currencies": json.dumps(currencies),
            "helpers": json.dumps(helpers),
        }
        with self.engine.begin() as conn:
            upsert(conn, schema.market_lists, [row])

    def reserve(self, exchange: str, base_url: str, seconds: float, ahead: float = 0.0) -> float:
        """Reserve the budget for one request that uses `seconds` of it: how long to wait before
        sending it. A virtual schedule (GCRA): the request goes at the later of now and the
        schedule's next free moment less `ahead`, and moves that moment on by `seconds`, so
        concurrent clients of one exchange together never go faster than one client paced alone,
        and never more than `ahead` seconds' worth of requests ahead of it (what a pause, such as
        a new task's start-up, left unused)."""
        now_us = now_us_since_epoch()
        with self.engine.begin() as conn:
            new = {"exchange": exchange, "base_url": base_url, "next_at_us": 0}
            next_at = _locked(conn, schema.rate_budgets, new).next_at_us
            start = max(now_us, next_at - round(ahead * 1e6))
            conn.execute(
                update(schema.rate_budgets)
                .where(*_key(schema.rate_budgets, new))
                .values(next_at_us=max(next_at, start) + round(seconds * 1e6))
            )
        return (start - now_us) / 1e6

    def reserve_in_window(
        self, exchange: str, schedule: str, weight: int, limit: int, window_s: float, margin_s: float
    ) -> float:
        """Reserve `weight` of a budget the exchange counts in fixed windows of `window_s`
        aligned to the clock (Binance: the minute), at most `limit` a window: how long to wait
        before sending. A request goes at once while its window has room, so a few calls spend no
        time at all; once the window is spent, at the next one's start. Nothing is sent within
        `margin_s` of a window's edge, so a clock that differs from the exchange's by less than
        that never puts a request in the window next to the one it was counted in."""
        now = now_us_since_epoch()
        width, margin = round(window_s * 1e6), round(margin_s * 1e6)
        window = now // width * width
        if now >= window + width - margin:  # too close to the edge: the next window
            window += width
        with self.engine.begin() as conn:
            new = {"exchange": exchange, "schedule": schedule, "window_start_us": window, "used": 0}
            stored = _locked(conn, schema.window_budgets, new)
            used = stored.used if stored.window_start_us >= window else 0
            window = max(window, stored.window_start_us)
            if used + weight > limit:  # this window is spent (by this client or others)
                window, used = window + width, 0
            conn.execute(
                update(schema.window_budgets)
                .where(*_key(schema.window_budgets, new))
                .values(window_start_us=window, used=used + weight)
            )
        return max(0, window + margin - now) / 1e6


def _key(table: Table, row: dict[str, Any]) -> tuple[ColumnElement[bool], ...]:
    """Conditions naming `row` by its primary key."""
    return tuple(column == row[column.name] for column in table.primary_key.columns)


def _locked(conn: Connection, table: Table, new: dict[str, Any]) -> Row:
    """The row of `table` with `new`'s primary key (made from `new` if there is none), locked
    until the transaction ends, so one writer at a time moves a budget on: SQLite's transactions
    are BEGIN IMMEDIATE (engine.py), PostgreSQL takes the row lock here."""
    upsert(conn, table, [new], keep_stored=True)
    return conn.execute(select(table).where(*_key(table, new)).with_for_update()).one()

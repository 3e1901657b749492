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

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

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
        b = schema.rate_budgets.c
        key = (b.exchange == exchange, b.base_url == base_url)
        with self.engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE; PostgreSQL: the row lock below
            upsert(
                conn,
                schema.rate_budgets,
                [{"exchange": exchange, "base_url": base_url, "next_at_us": 0}],
                keep_stored=True,
            )
            next_at = conn.execute(select(b.next_at_us).where(*key).with_for_update()).scalar_one()
            start = max(now_us, next_at - round(ahead * 1e6))
            conn.execute(
                update(schema.rate_budgets)
                .where(*key)
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
        w = schema.window_budgets.c
        key = (w.exchange == exchange, w.schedule == schedule)
        with self.engine.begin() as conn:  # as reserve(): one writer per schedule at a time
            upsert(
                conn,
                schema.window_budgets,
                [{"exchange": exchange, "schedule": schedule, "window_start_us": window, "used": 0}],
                keep_stored=True,
            )
            stored = conn.execute(select(w.window_start_us, w.used).where(*key).with_for_update()).one()
            used = stored.used if stored.window_start_us >= window else 0
            window = max(window, stored.window_start_us)
            if used + weight > limit:  # this window is spent (by this client or others)
                window, used = window + width, 0
            conn.execute(
                update(schema.window_budgets).where(*key).values(window_start_us=window, used=used + weight)
            )
        return max(0, window + margin - now) / 1e6

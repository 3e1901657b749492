"""Which candidate symbols a run may leave unasked, on exchanges asked per symbol (Binance).

Every trade moves the balances of both of its symbol's assets, so while neither balance moved
since the last successful run, asking the symbol again finds nothing new. Nothing, that is,
except trades that net to zero on both assets (bought and sold back at the same price, no fee
in either): a sweep asks every candidate symbol at least every `trade_sweep_hours`, so those
arrive within that time. A symbol never asked, or whose last answer is older than that, is
always asked; so is every symbol when there is no earlier balance to compare with.

The comparison is against the snapshot of the last *successful* run: a run that failed after its
snapshot may not have asked every symbol it should have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class SymbolPlan:
    ask: list[str]
    skipped: list[str] = field(default_factory=list)
    why: str = ""  # one line for the task log, naming what was compared
    next_sweep: datetime | None = None  # when the first skipped symbol is asked again regardless


def moved_assets(before: dict[str, Any] | None, now: dict[str, Any]) -> set[str] | None:
    """Assets whose total differs between two snapshots (asset -> total; a missing asset holds
    0); None when there is nothing to compare with."""
    if before is None:
        return None
    zero = Decimal(0)
    return {a for a in set(before) | set(now) if Decimal(before.get(a, zero)) != Decimal(now.get(a, zero))}


def plan_symbols(
    candidates: list[str],
    markets: dict[str, Any],
    moved: set[str] | None,
    asked_until: dict[str, datetime],
    sweep_every: timedelta,
    now: datetime,
    compared_with: datetime | None = None,
) -> SymbolPlan:
    """`asked_until`: per symbol, the moment its last answer covered (its cursor's synced_until)."""
    if moved is None:
        return SymbolPlan(list(candidates), why="no earlier balance to compare with: every symbol asked")
    ask, skipped = [], []
    for symbol in candidates:
        covered = asked_until.get(symbol)
        market = markets.get(symbol) or {}
        assets = {market.get("base"), market.get("quote")}
        if covered is None or now - covered >= sweep_every or assets & moved or None in assets:
            ask.append(symbol)
        else:
            skipped.append(symbol)
    next_sweep = min((asked_until[s] + sweep_every for s in skipped), default=None)
    since = f" since {compared_with:%Y-%m-%d %H:%M:%S} UTC" if compared_with else ""
    moved_words = ", ".join(sorted(moved)) or "none"
    why = f"balances moved{since}: {moved_words}"
    return SymbolPlan(ask, skipped, why, next_sweep)

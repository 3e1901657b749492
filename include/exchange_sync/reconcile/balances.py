"""Reported against computed balances per asset, with since when they diverge, in one pass.

The running balance of each asset is the sum of the account's movements (movements.py) in time
order. It is checked wherever the exchange said what the balance was:

* at every balance snapshot (`balance_snapshots`, one per import): the running balance with every
  movement up to the snapshot's `taken_at` against the snapshot's total (0 where it lists none);
* after every ledger entry that carries the balance after it (Kraken, OKX): at the end of each
  moment (entries of one moment may come in any order), the running balance must be one of the
  balances that moment's entries state.

The difference is reported minus computed at the latest snapshot. "Since" is the first check
that disagrees after the last one that agreed (`agreed_until`): the change that is missing from
the history (or is in it and should not be) happened after `agreed_until` and at or before
`since`. A running balance below zero is history that is missing (selling more than was ever
held: the purchase history is missing); the first row where each asset goes negative is flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from exchange_sync.reconcile.movements import ZERO, Movement

Snapshot = tuple[datetime, dict[str, Decimal]]  # (taken_at, asset -> total)


class Check(NamedTuple):  # one per asset per snapshot and per ledger moment: kept light
    time: datetime
    agrees: bool
    evidence: str  # "snapshot" | "ledger balance"
    expected: Decimal  # what the exchange said
    computed: Decimal


@dataclass(slots=True)
class AssetBalance:
    asset: str
    reported: Decimal | None = None  # the latest snapshot's total (None: no snapshot yet)
    computed: Decimal = ZERO  # the running balance at the latest snapshot (or of all rows)
    checks: list[Check] = field(default_factory=list)
    negative: tuple[Movement, Decimal] | None = None  # the first row below zero, and the balance

    @property
    def difference(self) -> Decimal | None:
        return None if self.reported is None else self.reported - self.computed

    def divergence(self) -> tuple[Check | None, Check | None]:
        """(the last check that agreed before the current disagreement, its first check that
        disagrees); (last agreeing, None) when the latest check agrees."""
        ordered = sorted(self.checks, key=lambda c: c.time)
        last_ok = max((i for i, c in enumerate(ordered) if c.agrees), default=-1)
        first_bad = ordered[last_ok + 1] if last_ok + 1 < len(ordered) else None
        return (ordered[last_ok] if last_ok >= 0 else None), first_bad

    def to_json(self) -> dict[str, Any]:
        agreed, diverged = self.divergence()
        difference = self.difference
        return {
            "asset": self.asset,
            "reported": _text(self.reported),
            "computed": _text(self.computed),
            "difference": _text(difference),
            "since": diverged.time.isoformat() if diverged and difference else None,
            "since_evidence": diverged.evidence if diverged and difference else None,
            "agreed_until": agreed.time.isoformat() if agreed and difference else None,
            "negative": None
            if self.negative is None
            else self.negative[0].to_json() | {"balance": _text(self.negative[1])},
        }


def reconcile_balances(movements: list[Movement], snapshots: list[Snapshot]) -> dict[str, AssetBalance]:
    """Every asset's reported and computed balance, checks and first negative row."""
    assets: dict[str, AssetBalance] = {}
    running: dict[str, Decimal] = defaultdict(Decimal)
    moment: dict[str, tuple[datetime, set[Decimal]]] = {}  # per asset: its current moment's stated balances
    snapshots = sorted(snapshots, key=lambda s: s[0])
    pending = iter(snapshots)
    upcoming = next(pending, None)

    def asset(code: str) -> AssetBalance:
        found = assets.get(code)
        if found is None:
            found = assets[code] = AssetBalance(code)
        return found

    def close_moment(code: str) -> None:
        time, stated = moment.pop(code)
        balance = running[code]
        agrees = balance in stated
        expected = balance if agrees else max(stated)  # (which came last in the moment is unknown)
        asset(code).checks.append(Check(time, agrees, "ledger balance", expected, balance))

    # Every asset is checked at every snapshot: one neither listed nor held then agrees, so its
    # divergence is dated after that snapshot.
    universe = sorted({m.asset for m in movements} | {code for _, totals in snapshots for code in totals})

    def check_snapshot(taken_at: datetime, totals: dict[str, Decimal]) -> None:
        for code in universe:
            computed, reported = running[code], totals.get(code, ZERO)
            asset(code).checks.append(Check(taken_at, computed == reported, "snapshot", reported, computed))

    for movement in movements:
        while upcoming is not None and upcoming[0] < movement.time:
            check_snapshot(*upcoming)
            upcoming = next(pending, None)
        code = movement.asset
        if code in moment and moment[code][0] != movement.time:
            close_moment(code)
        running[code] += movement.change
        if movement.balance is not None:
            moment.setdefault(code, (movement.time, set()))[1].add(movement.balance)
        entry = asset(code)
        if entry.negative is None and running[code] < 0:
            entry.negative = (movement, running[code])
    for code in list(moment):
        close_moment(code)
    while upcoming is not None:
        check_snapshot(*upcoming)
        upcoming = next(pending, None)

    latest_at = snapshots[-1][0] if snapshots else None
    for entry in assets.values():
        at_latest = [c for c in entry.checks if c.evidence == "snapshot" and c.time == latest_at]
        if at_latest:  # every asset is checked at every snapshot
            entry.reported, entry.computed = at_latest[-1].expected, at_latest[-1].computed
        else:  # no snapshot yet: nothing to compare with
            entry.computed = running[entry.asset]
    return assets


def _text(value: Decimal | None) -> str | None:
    # Exact, without an exponent: "0.00000001", never "1E-8".
    return None if value is None else format(value.normalize(), "f") if value else "0"

"""What the simulator's ground truth ledger says about a moment: the expected side of tests where
the imported history starts there (a later history_start, or an API's retention edge)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal


def when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def split_at(ledger: list[dict], moment: datetime) -> tuple[dict[str, Decimal], dict[str, datetime]]:
    """(each asset's non-zero balance just before `moment`, the time of its first entry from it on)."""
    held: dict[str, Decimal] = {}
    first_inside: dict[str, datetime] = {}
    for entry in ledger:
        if when(entry["timestamp"]) < moment:
            held[entry["currency"]] = Decimal(entry["balance"])
        else:
            first_inside.setdefault(entry["currency"], when(entry["timestamp"]))
    return {asset: balance for asset, balance in held.items() if balance}, first_inside

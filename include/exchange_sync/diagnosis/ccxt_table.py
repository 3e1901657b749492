"""Which entries of ccxt's own error table for an exchange a response hits.

Every ccxt exchange class carries `exceptions`: `exact` codes and messages, `broad` substrings,
per market type for Binance-style classes (`spot`, `linear`, ...), or one flat table. ccxt's
handler consults only the part its URL and field order select, so a hit elsewhere (another
market type's table, a field the handler does not read) is evidence finer than the class it
raised; every hit is shown in the diagnosis's evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

MAX_SHOWN = 3


@dataclass(frozen=True)
class TableHit:
    kind: str  # "exact" or "broad"
    scope: str  # "" for the exchange-wide table, else the market type ("spot", "linear", ...)
    key: str
    error: type[Exception]

    def describe(self) -> str:
        where = f"exceptions[{self.scope!r}][{self.kind!r}]" if self.scope else f"exceptions[{self.kind!r}]"
        return f"{where}[{self.key!r}] -> {self.error.__name__}"


@dataclass(frozen=True)
class TableEntry:
    kind: str
    scope: str
    key: str
    error: type[Exception]


def table_hits(exchange: str, values: list[str], body: str | None) -> list[TableHit]:
    """Exact entries equal to a code or message of the answer, broad ones found in its body."""
    wanted = set(values)
    text = body or ""
    return [
        TableHit(e.kind, e.scope, e.key, e.error)
        for e in table_entries(exchange)
        if (e.key in wanted if e.kind == "exact" else e.key in text)
    ]


def describe(hits: list[TableHit]) -> str | None:
    if not hits:
        return None
    shown = "; ".join(h.describe() for h in hits[:MAX_SHOWN])
    return shown + (f" (+{len(hits) - MAX_SHOWN} more)" if len(hits) > MAX_SHOWN else "")


@cache
def table_entries(exchange: str) -> tuple[TableEntry, ...]:
    import ccxt

    client_class = getattr(ccxt, exchange, None)
    if client_class is None:
        return ()
    return tuple(_entries(client_class().exceptions, ""))


def _entries(table: Any, scope: str) -> list[TableEntry]:
    if not isinstance(table, dict):
        return []
    if all(isinstance(v, type) for v in table.values()):  # one flat table of exact codes (Deribit)
        return [TableEntry("exact", scope, str(k), v) for k, v in table.items()]
    entries = []
    for name, part in table.items():
        if name in ("exact", "broad") and isinstance(part, dict):
            entries += [TableEntry(name, scope, str(k), v) for k, v in part.items() if isinstance(v, type)]
        elif isinstance(part, dict) and not scope:
            entries += _entries(part, str(name))
    return entries

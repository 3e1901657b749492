"""Per-exchange fast paths from an exchange's raw answer straight to warehouse rows.

On loopback, ccxt's generic parsing (parse_trade, safe_trade, fee reduction, iso8601) is most of an
import's CPU (bench/import_vs_ccxt.py). Where a profile names a fast path for a stream, ccxt still
builds, signs, sends, paces and shape-checks every request as before; only the list parser its
unified method ends in is swapped, for that one call, for one that keeps the raw records. The
exchange's module (one per exchange, beside this file) turns them into rows, or answers None for
a page it does not know record for record, which then goes through ccxt's own parser as always.
tests/importer/test_fast_rows.py proves the rows identical to ccxt's parse + rows.py, row for row,
on the simulator's histories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# (client, records, market, since, limit, account_id, exchange, imported_at) -> rows, or None:
# not a page this fast path knows.
RowsFromRaw = Callable[[Any, list, Any, Any, Any, str, str, datetime], "list[dict[str, Any]] | None"]


@dataclass(frozen=True)
class FastPath:
    parser: str  # the ccxt list parser the stream's unified method hands its answer to
    rows: RowsFromRaw


class RawAnswer:
    """For one call of a unified method: what it handed to `parser`, kept instead of parsed.

    The swap is an attribute on the client instance (the class's parser is untouched), undone on
    exit; an import's client is used by one thread.
    """

    def __init__(self, client: Any, parser: str):
        self.client = client
        self.parser = parser
        self.args: tuple | None = None

    def __enter__(self) -> RawAnswer:
        setattr(self.client, self.parser, self._keep)
        return self

    def __exit__(self, *exc_info: object) -> None:
        delattr(self.client, self.parser)

    def _keep(self, items: Any, market: Any = None, since: Any = None, limit: Any = None, params: Any = None):
        self.args = (items, market, since, limit, params or {})
        return []

    def rows(self, fast: FastPath, account_id: str, exchange: str, imported_at: datetime) -> list | None:
        """The fast path's rows for the kept answer (None: it does not know this page)."""
        if self.args is None or self.args[4]:  # not handed over, or with extra fields to merge in
            return None
        items, market, since, limit, _ = self.args
        if not isinstance(items, list):
            return None
        return fast.rows(self.client, items, market, since, limit, account_id, exchange, imported_at)

    def parsed(self) -> list:
        """ccxt's own parse of the kept answer, exactly as the unified method would have returned it."""
        return getattr(self.client, self.parser)(*self.args)

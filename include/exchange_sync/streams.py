"""The streams an account import can fetch, in the order one run imports them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

BALANCES = "balances"
TRADES = "trades"
DEPOSITS = "deposits"
WITHDRAWALS = "withdrawals"
LEDGER = "ledger"

ALL_STREAMS: tuple[str, ...] = (BALANCES, TRADES, DEPOSITS, WITHDRAWALS, LEDGER)
# Deposits and withdrawals land in one warehouse table, told apart by `kind`.
TRANSFER_STREAMS: tuple[str, ...] = (DEPOSITS, WITHDRAWALS)


@dataclass(frozen=True)
class Cursor:
    """How far one (account, stream, scope) is imported. `scope` is the symbol for per-symbol
    streams; `position` is the exchange's paging position (a trade id, an unfinished window)."""

    account_id: str
    stream: str
    synced_until: datetime
    scope: str = ""
    position: str | None = None

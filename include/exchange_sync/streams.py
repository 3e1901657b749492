"""The streams an account import can fetch, in the order one run imports them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

BALANCES = "balances"
TRADES = "trades"
DEPOSITS = "deposits"
WITHDRAWALS = "withdrawals"
LEDGER = "ledger"
# Balance changes that are neither trades nor transfers, from an exchange without a ledger API
# (Binance Convert): stored as ledger rows of the type the profile names (profiles.py).
CONVERSIONS = "conversions"

ALL_STREAMS: tuple[str, ...] = (BALANCES, TRADES, DEPOSITS, WITHDRAWALS, LEDGER, CONVERSIONS)
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

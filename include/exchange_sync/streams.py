"""The streams an account import can fetch, in the order one run imports them."""

from __future__ import annotations

BALANCES = "balances"
TRADES = "trades"
DEPOSITS = "deposits"
WITHDRAWALS = "withdrawals"
LEDGER = "ledger"

ALL_STREAMS: tuple[str, ...] = (BALANCES, TRADES, DEPOSITS, WITHDRAWALS, LEDGER)
# Deposits and withdrawals land in one warehouse table, told apart by `kind`.
TRANSFER_STREAMS: tuple[str, ...] = (DEPOSITS, WITHDRAWALS)

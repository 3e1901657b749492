"""OKX's id formats, derived deterministically from the world seed and the neutral records.

OKX ids are decimal strings: order ids and bill ids are 18-19 digits and grow with time across the
whole exchange ("623950854525124608", "623950854533513219"), trade ids count per instrument
("586760148"), deposit and withdrawal ids are shorter numbers ("88165462", "1465213"), and the
account's `uid` (account/config, also `mainUid`) is a 15-18 digit number ("44705892343619584")
(docs-v5 response examples). The exact constructions below are simulator conventions that keep
those properties: unique, numeric, and increasing with time where OKX pages by them (bills).
"""

from __future__ import annotations

import hashlib

ORDER_BASE = 3 * 10**17  # ordIds: 18 digits
BILL_BASE = 5 * 10**17  # billIds: 18 digits, above every ordId of the same era
DEPOSIT_BASE = 0  # depIds: the deposit's own number
WITHDRAWAL_BASE = 5 * 10**13  # wdIds: kept apart from depIds (one lookup table holds both)
TICK_SLOTS = 4096  # bill ids per ledger tick: 128 entries x 32 account slots


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def uid(key: str) -> str:
    """An 18-digit account id, stable for the key (the account)."""
    return str(10**17 + _digest(key) % (9 * 10**17))


def order_id(order_seq: int, market_index: int) -> str:
    """Fills of one order share it; twin orders of one millisecond in two markets differ."""
    return str(ORDER_BASE + order_seq * 1000 + market_index % 1000)


def bill_id(rel_tick: int, rank: int, slot: int) -> int:
    """Increasing along an account's ledger: its time in 1/10,000 s counted from ten years before
    the world's anchor (so ids do not depend on when the world was made), its place among the
    entries of that tick (`rank` < 128) and the account's slot."""
    return BILL_BASE + rel_tick * TICK_SLOTS + (rank % 128) * 32 + slot % 32


def deposit_id(key: int) -> str:
    return str(DEPOSIT_BASE + key)


def withdrawal_id(key: int) -> str:
    return str(WITHDRAWAL_BASE + key)

"""Coinbase's id formats, derived deterministically from the world seed and the neutral records.

Coinbase names nearly everything by a UUID: accounts (wallets), users, portfolios, orders,
trades (fills' `trade_id`), v2 transactions and fiat deposits/withdrawals (docs.cdp.coinbase.com
"List Accounts", "List Fills", "List Transactions" examples). A fill's `entry_id` is 64 hex
characters (ccxt coinbase.py fetch_my_trades comment). Organisation and API key ids of CDP key
names are random UUIDs (`organizations/{org}/apiKeys/{key}`). The UUIDs here are version-5
shaped (`xxxxxxxx-xxxx-5xxx-8xxx-xxxxxxxxxxxx`): Coinbase's v2 ids look like that too
("2bbf394c-193b-5b2a-9155-3b4732659ede").
"""

from __future__ import annotations

import hashlib


def _digest(key: str, size: int = 16) -> bytes:
    return hashlib.blake2b(key.encode(), digest_size=size).digest()


def uuid(key: str) -> str:
    raw = bytearray(_digest(key))
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def entry_id(key: str) -> str:
    return _digest(key, 32).hex()

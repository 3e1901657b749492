"""Kraken's id formats, derived deterministically from the world seed and the neutral records.

Legacy ids are a type letter and 16 characters in groups of 6-5-6 ("TCWJEG-FL4SZ-3FKGH6" for a
trade, "O..." orders, "L..." ledger entries); deposits and withdrawals since August 2023 have
mixed-case refids with an FT prefix ("FTQcuak-V6Za8qrWnhzTx67yYHz8Tg") (support.kraken.com "How to
interpret Ledger history fields"). Staking rewards use the legacy format with an "R" (simulator
convention). The account id GetApiKeyInfo shows as `iban` looks like "AA88 N84G WOAK NMOI"
(docs.kraken.com "Get API Key Info" example).
"""

from __future__ import annotations

import base64
import hashlib

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_LEGACY = bytes.maketrans(_B64, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 2)  # A-Z and 2-7, as Kraken's
_MIXED = bytes.maketrans(b"+/01OlI", b"xyz2345")  # base64 without the characters Kraken avoids
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode(), digest_size=20).digest()


def _chars(key: str, alphabet: str, count: int) -> str:
    return "".join(alphabet[b % len(alphabet)] for b in _digest(key)[:count])


def legacy(letter: str, key: str) -> str:
    body = letter + base64.b64encode(_digest(key)).translate(_LEGACY).decode()[:16]
    return f"{body[:6]}-{body[6:11]}-{body[11:]}"


def funding_refid(key: str) -> str:
    body = base64.b64encode(_digest(key)).translate(_MIXED).decode()[:27]
    return f"FT{body[:5]}-{body[5:]}"


def iban(key: str) -> str:
    digest = _digest(key)
    head = _chars(key + ":a", _UPPER, 2) + str(int.from_bytes(digest[:2]) % 90 + 10)
    rest = _chars(key + ":b", _ALNUM, 12)
    return f"{head} {rest[:4]} {rest[4:8]} {rest[8:]}"

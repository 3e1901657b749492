"""Kraken's answers: HTTP 200 with {"error": [...], "result": ...}, errors as "E<Category>:<msg>".

Numbers: amounts are strings padded to the asset's decimals ("0.1087194600", "171.2886"), times
are JSON numbers of seconds: trades with 7 decimals (1710429248.3052235), ledger entries with 4,
funding entries whole (docs.kraken.com REST reference examples). ccxt reads a time as
int(float(time) * 1000), which `ccxt_ms` reproduces for the ground truth.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from exchange_sync.simulator.decimals import fixed

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
PERMISSION_DENIED = "EGeneral:Permission denied"
USER_LOCKED = "ETrade:User Locked"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
RATE_LIMITED = "EAPI:Rate limit exceeded"
LOCKED_OUT = "EGeneral:Temporary lockout"
UNAVAILABLE = "EService:Unavailable"
BUSY = "EService:Busy"
INTERNAL_ERROR = "EGeneral:Internal error"
UNKNOWN_METHOD = "EGeneral:Unknown method"
UNKNOWN_ASSET = "EQuery:Unknown asset"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
TRADE_TIME_DIGITS = 7
LEDGER_TIME_DIGITS = 4


def reply(result: Any) -> web.Response:
    return raw_reply(json.dumps({"error": [], "result": result}, separators=(",", ":")).encode())


def raw_reply(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


def error(message: str, status: int = 200) -> web.Response:
    return raw_reply(json.dumps({"error": [message]}, separators=(",", ":")).encode(), status)


def amount(value: Decimal, decimals: int) -> str:
    return fixed(value, decimals)


def seconds(units: int, digits: int) -> str:
    """A JSON number of seconds from an integer count of 10**-digits seconds."""
    whole, part = divmod(units, 10**digits)
    return f"{whole}.{part:0{digits}d}"


def ccxt_ms(number_text: str) -> int:
    """What ccxt's safe_timestamp makes of a Kraken time: int(float(seconds) * 1000)."""
    return int(float(number_text) * 1000)


class Raw:
    """A JSON number spliced into an answer verbatim (Kraken's float times)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def dumps(value: Any) -> str:
    """json.dumps that writes Raw values as they are (json has no hook for exact numbers)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, separators=(",", ":"))


def reply_raw(result: Any) -> web.Response:
    """reply() for results holding Raw numbers."""
    return raw_reply(('{"error":[],"result":' + dumps(result) + "}").encode())


def bound(text: str | None) -> Decimal | None:
    """A start/end parameter as unix seconds (None: absent); raises ValueError when malformed."""
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def flag(text: str | None) -> bool:
    return str(text).lower() in ("true", "1")

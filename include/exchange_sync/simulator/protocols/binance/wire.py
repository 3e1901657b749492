"""Binance's JSON answers and parameter rules, shared by its route modules."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from exchange_sync.simulator.protocols.binance.auth import binance_error

JSON = "application/json"


def reply(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data, separators=(",", ":")).encode(),
        content_type=JSON,
        charset="UTF-8",
    )


def raw_reply(body: bytes) -> web.Response:
    return web.Response(body=body, content_type=JSON, charset="UTF-8")


class ParamError(Exception):
    def __init__(self, response: web.Response):
        super().__init__("bad parameter")
        self.response = response


def int_param(params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not re.fullmatch(r"-?\d{1,20}", value):
        # The message Binance sends for a non-numeric LONG/INT parameter (errors.md -1100).
        raise ParamError(
            binance_error(
                400,
                -1100,
                f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
            )
        )
    return int(value)


def bool_param(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise ParamError(binance_error(400, -1130, f"Data sent for parameter '{name}' is not valid."))
    return value == "true"


def invalid(name: str) -> web.Response:
    return binance_error(400, -1130, f"Data sent for parameter '{name}' is not valid.")


def unread(params: dict[str, str], allowed: set[str]) -> web.Response | None:
    """api/v3 rejects parameters it does not know (errors.md -1104)."""
    if set(params) - allowed:
        read = len(set(params) & allowed)
        return binance_error(
            400,
            -1104,
            f"Not all sent parameters were read; read '{read}' parameter(s) but was sent '{len(params)}'.",
        )
    return None

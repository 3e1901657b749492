"""OKX's answers: every one is {"code": "0" | "<5xxxx>", "msg": ..., "data": [...]}.

Success is HTTP 200 with code "0" and msg "". Errors carry OKX's code and message with the HTTP
status of the docs' error-code table (www.okx.com/docs-v5/en/#error-code: 401 for the
authentication codes 50101-50114 and 50119, 429 for 50011, 503 for 50001, 500 for 50026, 400 for
parameter errors 50014/51000; business errors HTTP 200). Numbers are JSON strings without
padding ("0.001", "61250.5"); times are epoch milliseconds as strings ("1597026383085").
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from exchange_sync.simulator.decimals import canonical

JSON = "application/json"


def reply(data: list[Any]) -> web.Response:
    return raw_reply(json.dumps({"code": "0", "data": data, "msg": ""}, separators=(",", ":")).encode())


def raw_reply(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type=JSON)


def error(code: str, msg: str, status: int = 200) -> web.Response:
    body = json.dumps({"code": code, "data": [], "msg": msg}, separators=(",", ":")).encode()
    return raw_reply(body, status)


def number(value: Decimal) -> str:
    return canonical(value)


def negated(value: Decimal) -> str:
    """A charged fee as OKX shows it: negative ("-0.0012"), zero as "0"."""
    return "0" if value == 0 else canonical(-value)


class ParamError(Exception):
    """A parameter OKX refuses: answered with `response` (51000 "Parameter {0} error" etc.)."""

    def __init__(self, response: web.Response):
        super().__init__("bad parameter")
        self.response = response


def bad_param(name: str) -> ParamError:
    return ParamError(error("51000", f"Parameter {name} error", 400))


def missing_param(name: str) -> ParamError:
    return ParamError(error("50014", f"Parameter {name} can not be empty", 400))


def int_param(params: dict[str, str], name: str) -> int | None:
    text = params.get(name, "")
    if text == "":
        return None
    if not text.isdigit() or len(text) > 20:
        raise bad_param(name)
    return int(text)


def limit_param(params: dict[str, str], default: int = 100, maximum: int = 100) -> int:
    """`limit`: "Number of results per request. The maximum is 100. The default is 100." (every
    history endpoint here). More than the maximum is served as the maximum (ccxt's paginated
    calls send limit=1000 and page on); 0 or a non-number is refused (simulator conventions)."""
    limit = int_param(params, "limit")
    if limit is None:
        return default
    if limit < 1:
        raise bad_param("limit")
    return min(limit, maximum)

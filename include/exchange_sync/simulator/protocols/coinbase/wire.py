"""Coinbase's answers: JSON bodies, the two error shapes, RFC 3339 times and decimal strings.

The Advanced Trade API (v3) refuses with {"error": CODE, "error_details": text, "message": text}
(gRPC-style codes: PERMISSION_DENIED, INVALID_ARGUMENT, NOT_FOUND; docs.cdp.coinbase.com
"Advanced Trade API errors"; ccxt coinbase.py handle_errors' first branch). The v2 API refuses
with {"errors": [{"id": "not_found", "message": "Not found"}]} (docs.cdp.coinbase.com "Coinbase
App API errors": param_required, invalid_scope, not_found, rate_limit_exceeded, ...). A request
whose JWT fails answers HTTP 401 with the plain text body "Unauthorized" (CDP "API key
authentication": an invalid or expired JWT is a 401).

Times are RFC 3339 in UTC: v3 fills with microseconds ("2023-01-18T01:37:38.091377Z"), v2
resources with whole seconds ("2019-02-28T12:35:20Z"), as in the docs' examples. ccxt reads them
with parse8601 (milliseconds, the rest truncated), which `ms_of` reproduces for the ground truth.
Amounts are plain decimal strings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

UNAUTHORIZED = "Unauthorized"


def reply(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(data, separators=(",", ":")).encode(), content_type="application/json"
    )


def unauthorized() -> web.Response:
    return web.Response(status=401, text=UNAUTHORIZED + "\n", content_type="text/plain")


def v3_error(status: int, code: str, message: str) -> web.Response:
    return reply({"error": code, "error_details": message, "message": message}, status)


def v2_error(status: int, error_id: str, message: str) -> web.Response:
    return reply({"errors": [{"id": error_id, "message": message}]}, status)


def rfc3339(ms: int, micros: int | None = None) -> str:
    """Whole seconds (v2) or with six fractional digits (v3: ms plus sub-ms `micros` 0..999)."""
    moment = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if micros is None:
        return moment + "Z"
    return f"{moment}.{ms % 1000:03d}{micros:03d}Z"


def ms_of(text: str) -> int:
    """What ccxt's parse8601 makes of an RFC 3339 time: epoch ms, sub-ms digits dropped."""
    head, _, frac = text.rstrip("Z").partition(".")
    seconds = int(datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())
    return seconds * 1000 + int((frac + "000")[:3])


def parse_time(text: str) -> int | None:
    """An RFC 3339 parameter as epoch ms (None: malformed)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)

"""What ccxt itself makes of a response: the exchange class's own error handling, run offline.

A fresh instance with no credentials and no history is used on purpose (a used Binance instance
turns -2015 into DDoSProtection; reference/exchange-errors.md §0.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from exchange_sync.diagnosis.body import parse


@dataclass(frozen=True)
class Verdict:
    error: type[Exception]
    message: str
    from_body: bool  # the exchange's handle_errors recognised the body (not just the status)


def ccxt_verdict(exchange: str, status: int | None, body: str | None) -> Verdict | None:
    import ccxt

    client_class = getattr(ccxt, exchange, None)
    if client_class is None:
        return None
    client = client_class()
    url = _request_url(client.urls.get("api"))
    reason = _reason(status)
    try:
        client.handle_errors(status or 200, reason, url, "GET", {}, body or "", parse(body), {}, None)
    except ccxt.BaseError as exc:
        return Verdict(type(exc), str(exc), from_body=True)
    except Exception:  # some handlers assume a JSON body; an unparseable one is no verdict
        pass
    if status is not None and status >= 400:
        try:
            client.handle_http_status_code(status, reason, url, "GET", body or "")
        except ccxt.BaseError as exc:
            return Verdict(type(exc), str(exc), from_body=False)
    return None


def _request_url(urls: Any) -> str:
    """The exchange's main REST URL (Binance picks its error table by host, so it must be real)."""
    if isinstance(urls, str):
        return urls
    if isinstance(urls, dict):
        for key in ("private", "rest", "spot", "public", "v3", "v1"):
            if isinstance(urls.get(key), str):
                return urls[key]
        for value in urls.values():
            found = _request_url(value)
            if found:
                return found
    return ""


def _reason(status: int | None) -> str:
    try:
        return HTTPStatus(status).phrase if status else ""
    except ValueError:
        return ""

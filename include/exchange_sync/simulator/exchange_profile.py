"""What the exchange-neutral middleware needs to know about one simulated exchange.

Each exchange module (binance_api, later kraken_api, ...) provides one `ExchangeProfile`, mounted
under its own URL prefix. The middleware in `faults` uses it to resolve which account a request
belongs to, to price the request against the exchange's rate limits, and to answer maintenance,
rate-limit and server-error conditions with the exchange's own response bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Bucket:
    """One rate limiter: weight used per caller IP in fixed windows of interval_ms."""

    name: str
    interval_ms: int
    default_limit: int
    header: str  # response header reporting the weight used in the current window
    configurable: bool = False  # POST /_sim/ratelimit {"weight_per_minute"} sets its limit


@dataclass(frozen=True, slots=True)
class RouteCost:
    weight: int
    buckets: tuple[Bucket, ...]


class ExchangeProfile(Protocol):
    prefix: str  # URL prefix, e.g. "/binance"
    buckets: tuple[Bucket, ...]

    def cost(self, request: web.Request) -> RouteCost:
        """The request's weight and the limiters it counts against."""
        ...

    def resolve_account(self, request: web.Request) -> tuple[str | None, str | None]:
        """(account id or None, the first 8 characters of the presented API key or None)."""
        ...

    def maintenance_exempt(self, request: web.Request) -> bool: ...

    def maintenance_response(self) -> web.Response: ...

    def rate_limited_response(self, bucket: Bucket, limit: int, retry_after_s: int) -> web.Response: ...

    def banned_response(self, until_ms: int, retry_after_s: int) -> web.Response: ...

    def server_error_response(self, status: int) -> web.Response: ...

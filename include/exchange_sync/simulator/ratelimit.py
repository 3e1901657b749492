"""Rate limiters for every exchange model: fixed windows of request weight, and decaying counters.

A bucket limits one scope: the caller's IP, the account (Binance "UID" limits) or the API key
(Kraken's call counter), optionally per route (Binance's sapi endpoints each have their own
limit). Two models:

* `WindowBucket`: weight used per window aligned to the clock (Binance: the current minute). A
  request that pushes the window over the limit is rejected; a caller that keeps sending rejected
  requests in one window is banned for a while when the bucket escalates (Binance api/v3: HTTP 418).
* `CounterBucket`: a counter that each call raises by its cost and that decays continuously
  (Kraken: max 15, -0.33/s). A call that would take it over the maximum is rejected and adds
  nothing; the `lockout_after`-th rejection in a row locks the scope out for `lockout_ms`.

Exact arithmetic throughout (Fractions), so a client pacing itself at the documented rate is
never rejected by rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

SCOPES = ("ip", "account", "key")


@dataclass(frozen=True, slots=True)
class WindowBucket:
    name: str
    scope: str
    interval_ms: int
    default_limit: int
    header: str | None = None  # response header reporting the weight used in the current window
    configurable: bool = False  # POST /_sim/ratelimit {"weight_per_minute"} sets its limit
    per_route: bool = False  # each route has its own budget
    ban_after_rejections: int | None = None  # the next rejection in one window earns a ban
    ban_ms: int = 0

    def describe(self, limit: int) -> dict[str, object]:
        return {
            "name": self.name,
            "model": "window",
            "scope": self.scope,
            "per_route": self.per_route,
            "interval_ms": self.interval_ms,
            "limit": limit,
            "header": self.header,
            "ban_after_rejections": self.ban_after_rejections,
            "ban_seconds": self.ban_ms // 1000,
        }


@dataclass(frozen=True, slots=True)
class CounterBucket:
    name: str
    scope: str
    maximum: int
    decay_per_s: Fraction
    lockout_after: int  # this many rejections in a row lock the scope out
    lockout_ms: int
    header: None = None

    def describe(self, limit: int) -> dict[str, object]:
        return {
            "name": self.name,
            "model": "counter",
            "scope": self.scope,
            "max": limit,
            "decay_per_second": str(float(self.decay_per_s)),
            "lockout_after_rejections": self.lockout_after,
            "lockout_seconds": self.lockout_ms // 1000,
        }


Bucket = WindowBucket | CounterBucket


@dataclass(slots=True)
class RateLimitSettings:
    enabled: bool = True
    weight_per_minute: int = 6000  # Binance REQUEST_WEIGHT, enums.md "Rate limiters"
    overrides: dict[str, int] = field(default_factory=dict)  # bucket name -> limit

    def limit(self, bucket: Bucket) -> int:
        if bucket.name in self.overrides:
            return self.overrides[bucket.name]
        if isinstance(bucket, WindowBucket):
            return self.weight_per_minute if bucket.configurable else bucket.default_limit
        return bucket.maximum


@dataclass(slots=True)
class Verdict:
    used: dict[str, int]  # window bucket name -> weight used in the current window, after this request
    rejected_by: Bucket | None = None
    limit: int = 0
    retry_after_s: int = 0
    banned_until: int | None = None


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}  # (scope key, bucket) -> (window, used)
        self._rejections: dict[tuple[str, str], tuple[int, int]] = {}
        self._counters: dict[tuple[str, str], tuple[Fraction, int]] = {}  # -> (value, at ms)
        self._strikes: dict[tuple[str, str], int] = {}
        self._bans: dict[tuple[str, str], int] = {}  # (scope key, bucket) -> banned until (ms)

    def reset(self) -> None:
        for table in (self._windows, self._rejections, self._counters, self._strikes, self._bans):
            table.clear()

    def banned_until(self, scope_key: str, bucket: Bucket, now_ms: int) -> int | None:
        until = self._bans.get((scope_key, bucket.name))
        return until if until is not None and until > now_ms else None

    def charge(
        self,
        charges: list[tuple[str, Bucket]],
        weight: int,
        now_ms: int,
        settings: RateLimitSettings,
    ) -> Verdict:
        """Charge `weight` to each (scope key, bucket); the first one over its limit rejects."""
        verdict = Verdict(used={})
        for scope_key, bucket in charges:
            limit = settings.limit(bucket)
            if isinstance(bucket, WindowBucket):
                self._charge_window(verdict, scope_key, bucket, weight, now_ms, limit, settings.enabled)
            elif settings.enabled and verdict.rejected_by is None:
                self._charge_counter(verdict, scope_key, bucket, weight, now_ms, limit)
        return verdict

    def _charge_window(
        self,
        verdict: Verdict,
        scope_key: str,
        bucket: WindowBucket,
        weight: int,
        now_ms: int,
        limit: int,
        enabled: bool,
    ) -> None:
        window = now_ms // bucket.interval_ms
        key = (scope_key, bucket.name)
        start, used = self._windows.get(key, (window, 0))
        if start != window:
            used = 0
        used += weight
        self._windows[key] = (window, used)
        verdict.used[bucket.name] = used
        if not enabled or used <= limit or verdict.rejected_by is not None:
            return
        verdict.rejected_by, verdict.limit = bucket, limit
        verdict.retry_after_s = max(1, -(-((window + 1) * bucket.interval_ms - now_ms) // 1000))
        rejected_window, count = self._rejections.get(key, (window, 0))
        count = count + 1 if rejected_window == window else 1
        self._rejections[key] = (window, count)
        if bucket.ban_after_rejections is not None and count > bucket.ban_after_rejections:
            verdict.banned_until = self._bans[key] = now_ms + bucket.ban_ms

    def counter(self, scope_key: str, bucket: CounterBucket, now_ms: int) -> Fraction:
        value, at = self._counters.get((scope_key, bucket.name), (Fraction(0), now_ms))
        return max(Fraction(0), value - bucket.decay_per_s * Fraction(now_ms - at, 1000))

    def _charge_counter(
        self, verdict: Verdict, scope_key: str, bucket: CounterBucket, cost: int, now_ms: int, limit: int
    ) -> None:
        key = (scope_key, bucket.name)
        value = self.counter(scope_key, bucket, now_ms)
        if value + cost <= limit:
            self._counters[key] = (value + cost, now_ms)
            self._strikes.pop(key, None)
            return
        self._counters[key] = (value, now_ms)
        verdict.rejected_by, verdict.limit = bucket, limit
        verdict.retry_after_s = max(1, math.ceil((value + cost - limit) / bucket.decay_per_s))
        strikes = self._strikes[key] = self._strikes.get(key, 0) + 1
        if strikes >= bucket.lockout_after:
            self._strikes.pop(key, None)
            verdict.banned_until = self._bans[key] = now_ms + bucket.lockout_ms

    def used(self, scope_key: str, bucket: WindowBucket, now_ms: int) -> int:
        start, used = self._windows.get((scope_key, bucket.name), (None, 0))
        return used if start == now_ms // bucket.interval_ms else 0

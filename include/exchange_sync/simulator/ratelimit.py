"""Per-IP request-weight limiters with fixed windows and escalation to a temporary IP ban.

Exchanges count weight per caller IP in windows aligned to the clock (Binance: the current
minute). A request that pushes the window over the limit is rejected (HTTP 429); a caller that
keeps sending rejected requests in the same window is banned for a while (HTTP 418).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exchange_sync.simulator.exchange_profile import Bucket

BAN_AFTER_REJECTIONS = 2  # the third over-limit request in one window earns a ban (simulator convention)
BAN_MS = 120_000  # Binance: bans start at 2 minutes (rest-api.md "IP Limits")


@dataclass(slots=True)
class RateLimitSettings:
    enabled: bool = True
    weight_per_minute: int = 6000  # Binance REQUEST_WEIGHT, enums.md "Rate limiters"
    overrides: dict[str, int] = field(default_factory=dict)  # bucket name -> limit

    def limit(self, bucket: Bucket) -> int:
        if bucket.name in self.overrides:
            return self.overrides[bucket.name]
        if bucket.configurable:
            return self.weight_per_minute
        return bucket.default_limit


@dataclass(slots=True)
class Verdict:
    used: dict[str, int]  # bucket name -> weight used in the current window, after this request
    rejected_by: Bucket | None = None
    limit: int = 0
    retry_after_s: int = 0
    banned_until: int | None = None


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}  # (ip, bucket) -> (window, used)
        self._rejections: dict[tuple[str, str], tuple[int, int]] = {}
        self._bans: dict[str, int] = {}  # ip -> banned until (ms)

    def reset(self) -> None:
        self._windows.clear()
        self._rejections.clear()
        self._bans.clear()

    def banned_until(self, ip: str, now_ms: int) -> int | None:
        until = self._bans.get(ip)
        if until is not None and until > now_ms:
            return until
        return None

    def charge(
        self, ip: str, buckets: tuple[Bucket, ...], weight: int, now_ms: int, settings: RateLimitSettings
    ) -> Verdict:
        verdict = Verdict(used={})
        for bucket in buckets:
            window = now_ms // bucket.interval_ms
            key = (ip, bucket.name)
            start, used = self._windows.get(key, (window, 0))
            if start != window:
                used = 0
            used += weight
            self._windows[key] = (window, used)
            verdict.used[bucket.name] = used
            limit = settings.limit(bucket)
            if settings.enabled and used > limit and verdict.rejected_by is None:
                verdict.rejected_by = bucket
                verdict.limit = limit
                verdict.retry_after_s = max(1, -(-((window + 1) * bucket.interval_ms - now_ms) // 1000))
                rejected_window, count = self._rejections.get(key, (window, 0))
                count = count + 1 if rejected_window == window else 1
                self._rejections[key] = (window, count)
                if count > BAN_AFTER_REJECTIONS:
                    verdict.banned_until = self._bans[ip] = now_ms + BAN_MS
        return verdict

    def used(self, ip: str, bucket: Bucket, now_ms: int) -> int:
        start, used = self._windows.get((ip, bucket.name), (None, 0))
        return used if start == now_ms // bucket.interval_ms else 0

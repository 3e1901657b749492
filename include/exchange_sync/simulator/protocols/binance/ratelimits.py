"""Binance's request-weight limiters.

* api/v3: 6,000 weight per minute per IP (enums.md "Rate limiters", REQUEST_WEIGHT), reported in
  X-MBX-USED-WEIGHT-1M; a caller that keeps sending after 429s is banned (HTTP 418) for 2 minutes
  at first (rest-api.md "IP Limits"; the escalation after the third rejection in one window is a
  simulator convention).
* sapi: each endpoint is IP- or UID-limited with its own budget: 12,000 per minute per IP, or
  180,000 per minute per account (UID); X-SAPI-USED-IP-WEIGHT-1M / X-SAPI-USED-UID-WEIGHT-1M; over
  the limit is always 429, never an IP ban (developers.binance.com "Rate limits": "/api/* and
  /sapi/* differ"). withdraw/history weighs 18,000 UID weight (wallet docs "Withdraw History
  (supporting network)": "Weight(UID): 18000, Request limit: 10 requests per second"), so one
  account can ask for it 10 times a minute.
"""

from __future__ import annotations

from exchange_sync.simulator.ratelimit import WindowBucket

REQUEST_WEIGHT = WindowBucket(
    "REQUEST_WEIGHT",
    "ip",
    60_000,
    6000,
    "X-MBX-USED-WEIGHT-1M",
    configurable=True,
    ban_after_rejections=2,
    ban_ms=120_000,
)
SAPI_IP = WindowBucket("SAPI_IP_WEIGHT", "ip", 60_000, 12_000, "X-SAPI-USED-IP-WEIGHT-1M", per_route=True)
SAPI_UID = WindowBucket(
    "SAPI_UID_WEIGHT", "account", 60_000, 180_000, "X-SAPI-USED-UID-WEIGHT-1M", per_route=True
)
BUCKETS = (REQUEST_WEIGHT, SAPI_IP, SAPI_UID)

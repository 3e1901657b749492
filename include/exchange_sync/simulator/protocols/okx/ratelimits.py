"""OKX's per-endpoint rate limits (each endpoint's "Rate Limit" and "Rate limit rule" in docs-v5).

Private endpoints count per user id ("Rate limit rule: User ID"), public ones per IP; each
endpoint has its own budget:

  endpoint                       limit                    rule
  account/balance                10 requests per 2 s      User ID
  account/config                  5 requests per 2 s      User ID
  trade/fills                    60 requests per 2 s      User ID
  trade/fills-history            10 requests per 2 s      User ID
  account/bills                   5 requests per 1 s      User ID
  account/bills-archive           5 requests per 2 s      User ID
  asset/deposit-history           6 requests per 1 s      User ID
  asset/withdrawal-history        6 requests per 1 s      User ID
  asset/currencies                6 requests per 1 s      User ID
  public/instruments             20 requests per 2 s      IP + instType
  public/time                    10 requests per 2 s      IP
  system/status                   1 request per 5 s       IP

(JKorf/OKX.Net's per-endpoint guards use the same numbers for the private ones.) Over a limit
OKX answers HTTP 429 {"msg":"Too Many Requests","code":"50011"} (docs-v5 "Rate
Limits": "When a request is rejected by our system due to rate limits, the system returns error
code 50011 (Rate limit reached...)"). Simulator conventions: windows are fixed (aligned to the
clock) rather than sliding, a Retry-After header tells when the window ends, there is no ban,
and instruments count per IP alone (only SPOT is listed).
"""

from __future__ import annotations

from exchange_sync.simulator.ratelimit import WindowBucket


def _bucket(scope: str, limit: int, interval_ms: int) -> WindowBucket:
    name = f"{'UID' if scope == 'account' else 'IP'}_{limit}_PER_{interval_ms // 1000}S"
    return WindowBucket(name, scope, interval_ms, limit, per_route=True)


ROUTE_LIMITS: dict[str, WindowBucket] = {
    "/api/v5/trade/fills-history": _bucket("account", 10, 2000),
    "/api/v5/account/balance": _bucket("account", 10, 2000),
    "/api/v5/account/config": _bucket("account", 5, 2000),
    "/api/v5/trade/fills": _bucket("account", 60, 2000),
    "/api/v5/account/bills": _bucket("account", 5, 1000),
    "/api/v5/account/bills-archive": _bucket("account", 5, 2000),
    "/api/v5/asset/deposit-history": _bucket("account", 6, 1000),
    "/api/v5/asset/withdrawal-history": _bucket("account", 6, 1000),
    "/api/v5/asset/currencies": _bucket("account", 6, 1000),
    "/api/v5/public/instruments": _bucket("ip", 20, 2000),
    "/api/v5/public/time": _bucket("ip", 10, 2000),
    "/api/v5/system/status": _bucket("ip", 1, 5000),
}
# Distinct buckets, fills-history's first (it answers injected `rate_limit` faults).
BUCKETS = tuple(dict.fromkeys(ROUTE_LIMITS.values()))

"""Coinbase's rate limits.

Advanced Trade API (docs.cdp.coinbase.com "Advanced Trade API rate limits"): private endpoints
30 requests per second per API key, public endpoints 10 requests per second per IP; over the
limit: HTTP 429. The v2 (Coinbase App) API: 10,000 requests per hour per API key
("Coinbase App rate limiting"). ccxt 4.5.90 describes the same (coinbase.py `rateLimit` comment).
Every request costs 1 here (ccxt's own costs only pace its client). Simulator conventions: the
windows are fixed (per second / per hour); the public v2 endpoints (currencies, exchange rates,
time) share the public per-IP budget; Coinbase documents no ban, so a limited client is simply
answered 429 until the window passes.
"""

from __future__ import annotations

from exchange_sync.simulator.ratelimit import WindowBucket

V3_PRIVATE = WindowBucket("ADVANCED_PRIVATE", "key", 1_000, 30)
V3_PUBLIC = WindowBucket("ADVANCED_PUBLIC", "ip", 1_000, 10)
V2_PRIVATE = WindowBucket("APP_PRIVATE", "key", 3_600_000, 10_000)

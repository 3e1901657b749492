"""Kraken's REST call counter, Starter tier.

docs.kraken.com "Spot REST Rate Limits": every API key has a call counter starting at 0;
"Ledger/trade history calls increase the counter by 2. All other API calls increase this counter
by 1"; Starter tier: max 15, decay -0.33/s (Intermediate 20 / -0.5, Pro 20 / -1); over the
maximum: "EAPI:Rate limit exceeded", and "additional calls will be restricted for a few seconds
(or possibly longer if calls continue to be made while the rate limits are active)". Kraken's
own CLI counts Ledgers, TradesHistory and QueryLedgers as 2 (krakenfx/kraken-cli "rate limits"
skill); QueryTrades reads trade history, so it costs 2 here as well. An older support article
says access is blocked for 15 minutes once the limit is exceeded (support.kraken.com 209234858),
which matches the documented "EGeneral:Temporary lockout" (~15 minutes, support.kraken.com
360001491786).

Simulator conventions: a rejected call adds nothing; the third rejected call in a row (no call
accepted in between) locks the key out for 15 minutes, answered EGeneral:Temporary lockout;
public calls are not counted.
"""

from __future__ import annotations

from fractions import Fraction

from exchange_sync.simulator.ratelimit import CounterBucket

HISTORY_COST = 2
CALL_COUNTER = CounterBucket(
    "API_COUNTER",
    "key",
    maximum=15,
    decay_per_s=Fraction(33, 100),
    lockout_after=3,
    lockout_ms=15 * 60_000,
)

"""Exchange simulator: a local HTTP server speaking real exchanges' REST protocols (Binance spot
today, under /binance) closely enough that ccxt's own exchange classes work against it, plus a
/_sim/ control API to inspect ground truth, manage keys and accounts, and inject faults.

Modules: decimals (exact amounts), model (records), catalog (assets, markets, prices), seed
(deterministic histories), state (the world and its state file), exchange_profile / faults /
ratelimit / request_log (exchange-neutral middleware), binance_auth and binance_api (Binance),
control_api (/_sim/), server (`create_app`, `serve`, `main`).
"""

from __future__ import annotations

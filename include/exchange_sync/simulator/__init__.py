"""Exchange simulator: a local HTTP server speaking real exchanges' REST protocols (Binance spot
under /binance, Kraken spot under /kraken) closely enough that ccxt's own exchange classes work
against it, plus a /_sim/ control API to inspect ground truth, manage keys and accounts, and
inject faults.

The world is exchange-neutral; each exchange is a protocol plug-in that renders it:

* neutral domain: `decimals` (exact amounts), `model` (records), `catalog` (the asset universe,
  prices, addresses), `venue` (what one exchange offers, as data), `seed` (deterministic
  histories and every balance change), `ledger` (the ledger derived from the journal), `state`
  (the world and its state file), `truth` (ground-truth records);
* exchange-neutral HTTP: `faults` (request log, faults, maintenance and rate-limit middleware),
  `ratelimit` (window and decaying-counter limiters), `request_log`, `keys` (IP allow-lists),
  `edge` (proxy error pages), `control_api` (/_sim/), `server` (`create_app`, `serve`, `main`);
* `protocol` (the interface a plug-in implements) and `protocols/` (one package per exchange,
  registered by one line in `protocols/__init__.py`).
"""

from __future__ import annotations

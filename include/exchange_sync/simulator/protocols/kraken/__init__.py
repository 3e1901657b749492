"""Kraken spot: `exchange` (the protocol, routes, ground truth), `auth` (signed requests and their
error table), `market_data`, `account` and `funding` (the endpoints), `render` (records in Kraken's
shapes), `codes` (asset, pair and network names), `ids` (id formats), `listing` (what it lists),
`ratelimits` (the call counter), `wire` (answers and numbers)."""

from __future__ import annotations

from exchange_sync.simulator.protocols.kraken.exchange import KrakenProtocol

PROTOCOL = KrakenProtocol()

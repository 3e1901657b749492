"""Binance spot: `exchange` (the protocol, routes, ground truth), `auth` (signed requests and their
error table), `market_data`, `account` and `wallet` (the endpoints), `listing` (what it lists),
`ratelimits`, `wire` (JSON and parameter rules)."""

from __future__ import annotations

from exchange_sync.simulator.protocols.binance.exchange import BinanceProtocol

PROTOCOL = BinanceProtocol()

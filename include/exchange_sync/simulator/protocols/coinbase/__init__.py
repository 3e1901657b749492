"""Coinbase Advanced Trade (v3) plus the v2 "track" API: `exchange` (the protocol, routes, ground
truth), `auth` (CDP keys, ES256 JWTs and the error table), `market_data`, `account`, `fills` and
`funding` (the endpoints), `render` (records in Coinbase's shapes), `codes` (network names),
`ids` (id formats), `listing` (what it lists), `ratelimits`, `wire` (answers, errors, times)."""

from __future__ import annotations

from exchange_sync.simulator.protocols.coinbase.exchange import CoinbaseProtocol

PROTOCOL = CoinbaseProtocol()

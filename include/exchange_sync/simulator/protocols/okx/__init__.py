"""OKX spot (API v5): `exchange` (the protocol, routes, ground truth), `auth` (signed requests and
their error table), `market_data`, `account` and `funding` (the endpoints), `render` (records in
OKX's shapes), `codes` (instrument and chain names), `ids` (id formats), `listing` (what it lists),
`ratelimits` (per-endpoint limits), `wire` (answers, errors and paging)."""

from __future__ import annotations

from exchange_sync.simulator.protocols.okx.exchange import OkxProtocol

PROTOCOL = OkxProtocol()

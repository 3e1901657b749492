"""One client per exchange, across processes: clients of one exchange that share a market list
and a request budget through the warehouse (warehouse/client_state.py). Every import's client
does (importer/run.py): scheduled imports of one exchange's accounts run side by side on many
workers just as a backfill's chunks do.

A backfill runs as many task instances (one per chunk), each its own process, possibly on another
worker, each with its own ccxt client. Without sharing, each downloads the market list (public,
the same for every account) and each paces itself as if it were alone, so concurrent chunks
together go faster than the exchange allows. build_client(..., shared=...) attaches both here:

* markets: `load_markets` installs a stored list younger than MARKETS_TTL with ccxt's own
  `set_markets` (markets, markets_by_id, symbols, ids, currencies) plus the options the exchange's
  market loading fills in (`marketHelperProps`, e.g. Kraken's markets by altname); only a
  missing or stale list is downloaded, and then stored for the others. A symbol asked for that a
  stored list lacks (listed since it was loaded) reloads the list once instead of failing.
* budget: ccxt's throttle (its `rateLimit` times the endpoint's cost) is kept as the measure of each
  request, but the wait comes from one schedule per exchange in the warehouse, so N concurrent
  clients share one budget instead of each spending a whole one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exchange_sync.warehouse.client_state import ClientState, MarketList

# Listings change rarely, and a symbol missing from a stored list triggers a reload anyway.
MARKETS_TTL = timedelta(hours=1)
# Budgets count in fixed windows aligned to the clock (Binance: the minute): a schedule exactly
# at the limit can put one request's weight over it in a window, and BUDGET_AHEAD more. Pacing
# 1 % below the limit leaves room for both (Binance: 60 of 6,000 a minute; the heaviest
# request exchange-sync makes weighs 20, and 0.3 s ahead at 99 weight/s is 30).
BUDGET_HEADROOM = 0.99
# How far requests may run ahead of the schedule: what the pause between two tasks (a process
# starting, a planner between the waves) left unused is spent, up to this much.
BUDGET_AHEAD_SECONDS = 0.3


def share(client: Any, exchange: str, base_url: str | None, state: ClientState) -> None:
    """Make `client` take its market list and request budget from `state`."""
    key = (exchange, base_url or "")
    original_load = client.load_markets
    original_market = client.market
    client.markets_from_store = False

    def load_markets(reload: bool = False, params: dict | None = None) -> Any:
        if client.markets and not reload:
            return original_load(False, params or {})
        if not reload:
            stored = state.market_list(*key)
            if stored is not None and datetime.now(UTC) - stored.loaded_at < MARKETS_TTL:
                install_markets(client, stored)
                return client.markets
        markets = original_load(True, params or {})
        client.markets_from_store = False
        state.store_market_list(*key, client.markets, _currencies(client), _helpers(client))
        return markets

    def market(symbol: str) -> Any:
        # A stored list may predate a listing: reload once rather than call the symbol unknown.
        if client.markets_from_store and client.markets is not None and symbol not in client.markets:
            load_markets(reload=True)
        return original_market(symbol)

    def throttle(cost: float | None = None) -> None:
        seconds = client.rateLimit * (1 if cost is None else cost) / 1000 / BUDGET_HEADROOM
        wait = state.reserve(*key, seconds, BUDGET_AHEAD_SECONDS)
        if wait > 0:
            time.sleep(wait)

    client.load_markets = load_markets
    client.market = market
    client.throttle = throttle


def install_markets(client: Any, stored: MarketList) -> None:
    """Give the client a stored market list as ccxt's load_markets would have left it."""
    client.options.update(stored.helpers)
    client.set_markets(stored.markets, stored.currencies or None)
    client.markets_from_store = True


def _currencies(client: Any) -> dict[str, Any]:
    """The currencies the exchange listed, where load_markets fetched them; else none (set_markets
    derives them from the markets again, as it did the first time)."""
    return dict(client.currencies or {}) if client.has.get("fetchCurrencies") is True else {}


def _helpers(client: Any) -> dict[str, Any]:
    """The options ccxt's market loading fills in for later lookups (ccxt names them for
    set_markets_from_exchange in `marketHelperProps`)."""
    names = client.options.get("marketHelperProps") or []
    return {name: client.options[name] for name in names if client.options.get(name) is not None}

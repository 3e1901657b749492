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
* own budgets: ccxt has one throttle per client, so it puts an endpoint that the exchange limits
  per account on a budget of its own (Binance's convert/tradeFlow: 3,000 of 180,000 UID weight a
  minute) on the IP's schedule too, where its cost (about a second) holds up every other client of
  the exchange. The profile lists such endpoints (ExchangeProfile.own_budgets); each is counted
  per account (API key) in the exchange's own fixed windows, and charges the IP's schedule
  nothing: a few such calls go at once, many wait for the next window instead of meeting a 429.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
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


# Requests to an own budget keep this far from its windows' edges (ClientState.reserve_in_window):
# more than the clock of an NTP-synchronised host differs from the exchange's.
WINDOW_EDGE_SECONDS = 0.5


@dataclass(frozen=True)
class OwnBudget:
    """An endpoint the exchange limits per account on a budget of its own, not the IP's, counted
    in fixed windows aligned to the clock."""

    path: str  # as ccxt's api table names it (the `path` fetch2 is given), e.g. convert/tradeFlow
    weight: int  # what one request spends of the budget
    limit: int  # the budget per window
    window_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.weight <= self.usable:
            raise ValueError(
                f"{self.path}: a request of weight {self.weight} never fits a budget of {self.usable}"
            )

    @property
    def usable(self) -> int:
        """What is spent of the budget per window: just below the limit, as with the IP's."""
        return int(self.limit * BUDGET_HEADROOM)


def share(
    client: Any,
    exchange: str,
    base_url: str | None,
    state: ClientState,
    own_budgets: tuple[OwnBudget, ...] = (),
) -> None:
    """Make `client` take its market list and request budget from `state`."""
    key = (exchange, base_url or "")
    # Each own budget's schedule for this client's account, by ccxt's path.
    own = {b.path: (b, own_schedule(base_url, b, client.apiKey)) for b in own_budgets}
    original_cost = client.calculate_rate_limiter_cost
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
        if cost == 0:  # an endpoint paid on its own budget (below)
            return
        seconds = client.rateLimit * (1 if cost is None else cost) / 1000 / BUDGET_HEADROOM
        _wait(state.reserve(*key, seconds, BUDGET_AHEAD_SECONDS))

    def calculate_rate_limiter_cost(
        api: Any, method: Any, path: Any, params: Any, config: dict | None = None
    ) -> Any:
        # ccxt's fetch2 asks this just before throttle(cost): the one moment that knows the path.
        if path not in own:
            return original_cost(api, method, path, params, config or {})
        budget, schedule = own[path]
        _wait(
            state.reserve_in_window(
                exchange, schedule, budget.weight, budget.usable, budget.window_seconds, WINDOW_EDGE_SECONDS
            )
        )
        return 0

    client.load_markets = load_markets
    client.market = market
    client.throttle = throttle
    client.calculate_rate_limiter_cost = calculate_rate_limiter_cost


def own_schedule(base_url: str | None, budget: OwnBudget, api_key: str | None) -> str:
    """The schedule of one account's own budget for one endpoint: the API key stands for the
    account (one key per account at a time), hashed, as nothing of a key belongs in the warehouse."""
    digest = hashlib.sha256((api_key or "").encode()).hexdigest()[:16]
    return f"{base_url or ''}|{budget.path}|{digest}"


def _wait(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


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

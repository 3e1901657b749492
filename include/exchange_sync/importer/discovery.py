"""Which symbols can hold an account's trades, so a run never asks about all ~2,000 markets.

Binance's myTrades needs a symbol and offers no "symbols I traded" call. An account can only have
traded a pair whose two assets it held at some point: assets in its balances or its transfers, or
named in the registry's `symbols`. Symbols imported before stay in the set for good.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def candidate_symbols(
    markets: dict[str, dict[str, Any]],
    held_assets: Iterable[str],
    configured: Iterable[str] = (),
    known: Iterable[str] = (),
) -> list[str]:
    assets = set(held_assets)
    pairs = {
        symbol
        for symbol, market in markets.items()
        if market.get("spot") and market.get("base") in assets and market.get("quote") in assets
    }
    return sorted(pairs | set(configured) | set(known))

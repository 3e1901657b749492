"""What one exchange offers, as data the exchange-neutral history generator follows.

A `Venue` is built once per world by the exchange's protocol package (its `listing` module): the
assets and markets it lists, the decimal places it books per asset, how it charges trading fees,
which fiat it takes by bank transfer and which assets earn staking rewards. The generator
(`seed.py`) never asks which exchange it is generating for, only what the venue allows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.decimals import ROUNDING, quantize_down
from exchange_sync.simulator.model import Asset, Market

MAX_PLACES = 8  # no simulated amount has more decimals than this


@dataclass(frozen=True, slots=True)
class FeeRule:
    taker: Decimal
    maker: Decimal
    # "received": paid in the asset the trade brings in (Binance); "quote": always in the quote.
    charged_in: str
    discount_asset: str | None = None  # a fee token paid instead, at discount_rate (Binance's BNB)
    discount_rate: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class StakingRule:
    """Weekly-ish rewards on held balances of these assets, credited to the spot balance."""

    assets: frozenset[str]
    apr: Decimal
    every_days: int


@dataclass(slots=True)
class Venue:
    exchange: str
    assets: dict[str, Asset]  # listed assets by code
    markets: dict[str, Market]  # by unified symbol
    fees: FeeRule
    places: dict[str, int] = field(default_factory=dict)  # booked decimals per asset (default 8)
    fiat_deposits: frozenset[str] = frozenset()  # fiat accepted by bank transfer
    staking: StakingRule | None = None
    by_id: dict[str, Market] = field(default_factory=dict)
    market_list: list[Market] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id = {m.id: m for m in self.markets.values()}
        self.market_list = list(self.markets.values())

    def places_of(self, asset: str) -> int:
        return self.places.get(asset, MAX_PLACES)

    def trading_markets(self) -> list[Market]:
        return [m for m in self.market_list if m.active]

    def depositable(self, asset: str) -> bool:
        info = self.assets[asset]
        return bool(info.networks) or asset in self.fiat_deposits


def build_market(
    catalog: Catalog,
    rng: random.Random,
    base: str,
    quote: str,
    market_id: str,
    *,
    active: bool,
    margin: bool,
    price_digits: int,
    lot_decimals: int | None,
    quote_places: int = MAX_PLACES,
) -> Market:
    """One market with a plausible tick and step for its reference price.

    `price_digits` significant digits of price; `lot_decimals` None sizes the step from the base's
    USD value and keeps tick * step within `quote_places`, so every cost is exact (Binance:
    tick 0.01 x step 0.00001 for BTCUSDT); a number fixes the step (Kraken: 8 decimals, costs
    rounded to the quote's places)."""
    base_asset, quote_asset = catalog.assets[base], catalog.assets[quote]
    price = ROUNDING.divide(base_asset.usd_ref, quote_asset.usd_ref)
    price_decimals = min(MAX_PLACES, max(0, price_digits - price.adjusted()))
    if lot_decimals is None:
        qty_decimals = min(MAX_PLACES, max(0, base_asset.usd_ref.adjusted() + 2))
        if price_decimals + qty_decimals > quote_places:
            price_decimals = max(min(quote_places, max(0, 4 - price.adjusted())), quote_places - qty_decimals)
            qty_decimals = quote_places - price_decimals
    else:
        qty_decimals = lot_decimals
    min_notional = quantize_down(ROUNDING.divide(Decimal(5), quote_asset.usd_ref), 8)
    return Market(
        symbol=f"{base}/{quote}",
        id=market_id,
        base=base,
        quote=quote,
        active=active,
        price_decimals=price_decimals,
        qty_decimals=qty_decimals,
        min_notional=min_notional,
        margin=margin,
        order_id_base=rng.randint(10**7, 4 * 10**10),
    )

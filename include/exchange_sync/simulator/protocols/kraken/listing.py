"""What Kraken lists in a world: ~270 assets and ~600 spot pairs, mostly against USD and EUR.

Quotes are USD, EUR, GBP, USDT, USDC, BTC and ETH (strongest first: a pair of two quotes is
listed as weaker/stronger, USDT/USD, ETH/BTC); the majors trade against all of them, other real
coins mostly against USD and EUR, newer generated listings against USD and sometimes EUR. Kraken
takes USD, EUR and GBP by bank transfer, charges its Starter-tier fees (0.26 % taker, 0.16 %
maker, in the quote currency: docs.kraken.com fee schedule, ccxt kraken.py `fees`), books fiat with
4 decimals, and pays staking rewards on the assets below (weekly, a simulator convention).
"""

from __future__ import annotations

import random
from decimal import Decimal

from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.model import Market
from exchange_sync.simulator.protocols.kraken import codes
from exchange_sync.simulator.venue import MAX_PLACES, FeeRule, StakingRule, Venue, build_market

QUOTES = ("USD", "EUR", "GBP", "USDT", "USDC", "BTC", "ETH")
QUOTE_BASES = ("EUR", "GBP", "USDT", "USDC")
MAJORS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "DOT", "LTC", "LINK")
UNLISTED = frozenset({"BNB", "FDUSD", "TWT", "CAKE", "C98", "ALPHA", "ID", "TRY", "BRL", "JPY"})
GENERATED_LISTINGS = 150  # how many of the world's generated names Kraken lists
REAL_QUOTE_ODDS = {"USD": 100, "EUR": 90, "GBP": 15, "USDT": 40, "USDC": 25, "BTC": 35, "ETH": 12}
GENERATED_QUOTE_ODDS = {"USD": 100, "EUR": 70, "GBP": 2, "USDT": 10, "USDC": 5, "BTC": 4, "ETH": 1}
FEES = FeeRule(taker=Decimal("0.0026"), maker=Decimal("0.0016"), charged_in="quote")
STAKING = StakingRule(
    assets=frozenset({"ETH", "SOL", "DOT", "ADA", "ATOM", "XTZ", "KSM", "FLOW", "MINA", "KAVA", "NEAR"}),
    apr=Decimal("0.05"),
    every_days=7,
)


def build_venue(catalog: Catalog, seed: int) -> Venue:
    rng = random.Random(f"{seed}:kraken:markets")
    listed = [code for code in catalog.real_codes if code not in UNLISTED]
    generated = list(catalog.generated_codes[:GENERATED_LISTINGS])
    assets = {code: catalog.assets[code] for code in [*listed, *QUOTES, *generated]}
    places = {code: min(MAX_PLACES, codes.decimals(asset)) for code, asset in assets.items()}
    strength = {quote: i for i, quote in enumerate(QUOTES)}
    markets: dict[str, Market] = {}
    taken_ids: set[str] = set()
    for base in [*listed, *QUOTE_BASES, *generated]:
        is_generated = base in generated
        odds = GENERATED_QUOTE_ODDS if is_generated else REAL_QUOTE_ODDS
        for quote in QUOTES:
            if quote == base or (base in strength and strength[quote] >= strength[base]):
                continue
            roll = rng.randint(1, 100)
            if base not in MAJORS and base not in QUOTE_BASES and roll > odds[quote]:
                continue
            market_id = codes.pair_id(base, quote)
            if market_id in taken_ids or codes.altname(base) + codes.altname(quote) in taken_ids:
                continue  # two names that concatenate alike: Kraken would not list both
            taken_ids |= {market_id, codes.altname(base) + codes.altname(quote)}
            market = build_market(
                catalog,
                rng,
                base,
                quote,
                market_id,
                active=not (is_generated and rng.randint(1, 100) <= 3),
                margin=base in MAJORS and quote in ("USD", "EUR"),
                price_digits=5,
                lot_decimals=places[base],
                quote_places=places[quote],
            )
            markets[market.symbol] = market
    return Venue(
        "kraken",
        assets,
        markets,
        FEES,
        places=places,
        fiat_deposits=frozenset(codes.FIAT_METHODS),
        staking=STAKING,
    )

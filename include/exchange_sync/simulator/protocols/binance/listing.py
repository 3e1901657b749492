"""What Binance lists in a world: ~600 assets and ~2,000 spot markets, its fee rule.

The majors trade against every quote, as on the real exchange; other bases get each quote with
the odds below (real tickers more often than generated ones); a few generated markets are
delisted ("BREAK"). Market ids are base + quote ("BTCUSDT"), the asset codes ccxt's unified ones.
"""

from __future__ import annotations

import random
from decimal import Decimal

from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.model import Market
from exchange_sync.simulator.venue import FeeRule, Venue, build_market

# Quote assets, strongest quote first: a pair of two quote assets is listed as weaker/stronger
# (EUR/USDT, USDT/TRY, ETH/BTC), never both ways.
QUOTES = ("TRY", "BRL", "JPY", "USDT", "FDUSD", "USDC", "EUR", "BTC", "ETH", "BNB")
UNLISTED = frozenset({"USD", "GBP"})  # Binance.com trades no USD or GBP spot pairs
QUOTE_BASES = ("USDC", "FDUSD", "EUR", "USDT")  # the currencies that are also traded as bases
MAJORS = ("BTC", "ETH", "BNB", "SOL", "XRP", "DOGE", "ADA", "TRX", "LINK", "LTC")
REAL_QUOTE_ODDS = {
    "USDT": 100,
    "USDC": 75,
    "FDUSD": 70,
    "BTC": 80,
    "ETH": 30,
    "BNB": 30,
    "EUR": 35,
    "TRY": 60,
    "BRL": 20,
    "JPY": 15,
}
GENERATED_QUOTE_ODDS = {
    "USDT": 97,
    "USDC": 45,
    "FDUSD": 40,
    "BTC": 45,
    "ETH": 6,
    "BNB": 10,
    "EUR": 5,
    "TRY": 48,
    "BRL": 4,
    "JPY": 1,
}
# 0.1 % spot fee, charged in the asset received; 25 % off when paid in BNB.
FEES = FeeRule(
    taker=Decimal("0.001"),
    maker=Decimal("0.001"),
    charged_in="received",
    discount_asset="BNB",
    discount_rate=Decimal("0.00075"),
)


def build_venue(catalog: Catalog, seed: int) -> Venue:
    rng = random.Random(f"{seed}:binance:markets")
    strength = {quote: i for i, quote in enumerate(QUOTES)}
    markets: dict[str, Market] = {}
    for base in [*catalog.real_codes, *QUOTE_BASES, *catalog.generated_codes]:
        generated = base in catalog.generated_codes
        odds = GENERATED_QUOTE_ODDS if generated else REAL_QUOTE_ODDS
        for quote in QUOTES:
            if quote == base or (base in strength and strength[quote] >= strength[base]):
                continue
            roll = rng.randint(1, 100)
            listed_everywhere = base in MAJORS or base in QUOTE_BASES
            if not listed_everywhere and roll > odds[quote]:
                continue
            market = build_market(
                catalog,
                rng,
                base,
                quote,
                base + quote,
                active=not (generated and rng.randint(1, 100) <= 4),
                margin=not generated and not catalog.assets[quote].fiat,
                price_digits=6,
                lot_decimals=None,
            )
            markets.setdefault(market.symbol, market)
    assets = {code: asset for code, asset in catalog.assets.items() if code not in UNLISTED}
    return Venue("binance", assets, markets, FEES)

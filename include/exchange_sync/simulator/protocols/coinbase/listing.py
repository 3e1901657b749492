"""What Coinbase lists in a world: ~240 assets and ~500 spot products, mostly against USD.

Quotes are USD, USDC, EUR, GBP, BTC and USDT (Coinbase Advanced's quote currencies; products are
"BTC-USD"). The majors trade against all of them, other real coins mostly against USD and USDC,
newer generated listings against USD and sometimes USDC or EUR. Fees are Coinbase Advanced's
lowest tier, 0.60 % taker / 0.40 % maker, charged in the quote currency (coinbase.com/advanced-fees;
ccxt coinbase.py fees.trading.tiers first row). Fiat (USD, EUR, GBP) comes by bank transfer.
Staking rewards are paid on the assets below (weekly: simulator convention).

Coinbase books balances with many decimals (v3 accounts show "0.0000000000000000"), so every
asset is booked with 8 decimals here and tick x step stays within them: a fill's cost is exactly
price x size, which is how ccxt computes it (parse_trade multiplies, it never reads a cost).
"""

from __future__ import annotations

import random
from decimal import Decimal

from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.model import Market
from exchange_sync.simulator.protocols.coinbase import codes
from exchange_sync.simulator.venue import MAX_PLACES, FeeRule, StakingRule, Venue, build_market

QUOTES = ("USD", "USDC", "EUR", "GBP", "BTC", "USDT")
# Pairs of two quote currencies: the stablecoin pairs ccxt's options["stablePairs"] names.
QUOTE_PAIRS = (
    ("USDT", "USD"),
    ("USDT", "USDC"),
    ("USDT", "EUR"),
    ("USDT", "GBP"),
    ("USDC", "EUR"),
    ("USDC", "GBP"),
)
MAJORS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "LTC", "LINK", "AVAX")
UNLISTED = frozenset({"BNB", "FDUSD", "TWT", "CAKE", "C98", "ALPHA", "ID", "TRY", "BRL", "JPY", "TRX"})
GENERATED_LISTINGS = 100
REAL_QUOTE_ODDS = {"USD": 100, "USDC": 60, "EUR": 35, "GBP": 20, "BTC": 30, "USDT": 25}
GENERATED_QUOTE_ODDS = {"USD": 100, "USDC": 30, "EUR": 8, "GBP": 2, "BTC": 2, "USDT": 10}
FEES = FeeRule(taker=Decimal("0.006"), maker=Decimal("0.004"), charged_in="quote")
STAKING = StakingRule(
    assets=frozenset({"ETH", "SOL", "ADA", "DOT", "ATOM", "XTZ", "NEAR", "AVAX"}),
    apr=Decimal("0.04"),
    every_days=7,
)
FIAT = ("USD", "EUR", "GBP")


def build_venue(catalog: Catalog, seed: int) -> Venue:
    rng = random.Random(f"{seed}:coinbase:markets")
    listed = [code for code in catalog.real_codes if code not in UNLISTED]
    generated = list(catalog.generated_codes[:GENERATED_LISTINGS])
    assets = {code: catalog.assets[code] for code in [*listed, *QUOTES, *generated]}
    places = dict.fromkeys(assets, MAX_PLACES)
    pairs = [(base, quote) for base, quote in QUOTE_PAIRS]
    for base in [*listed, *generated]:
        if base in QUOTES and base != "BTC":
            continue
        odds = GENERATED_QUOTE_ODDS if base in generated else REAL_QUOTE_ODDS
        for quote in QUOTES:
            if quote != base and (base in MAJORS or rng.randint(1, 100) <= odds[quote]):
                pairs.append((base, quote))
    markets: dict[str, Market] = {}
    for base, quote in pairs:
        market = build_market(
            catalog,
            rng,
            base,
            quote,
            codes.product_id(base, quote),
            active=not (base in generated and rng.randint(1, 100) <= 3),
            margin=False,
            price_digits=5,
            lot_decimals=None,
        )
        markets[market.symbol] = market
    return Venue(
        "coinbase", assets, markets, FEES, places=places, fiat_deposits=frozenset(FIAT), staking=STAKING
    )

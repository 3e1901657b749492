"""What OKX lists in a world: ~300 assets and ~700 spot instruments, mostly against USDT.

Quotes are USDT, USDC, BTC, ETH and EUR (OKX's spot quote currencies outside its regional
USD/AED/... books; strongest quote first: a pair of two quotes is listed weaker/stronger,
USDC/USDT, ETH/BTC, USDT/EUR); the majors trade against all of them, other real coins mostly
against USDT and USDC, newer generated listings against USDT. Fees: the regular-user tier,
0.08 % maker / 0.10 % taker on spot (www.okx.com/fees "Regular users, Lv1"; ccxt okx.py `fees`),
charged in the asset the trade brings in (a fill's `fee` is negative with `feeCcy` the received
currency: docs-v5 "Get transaction details", ccxt parse_trade negates it). Balances and amounts
are booked with 8 decimals and tick x lot fit in them, so a fill's price x size is exact.

Simulator conventions: no fiat comes in by bank (deposit-history here is on-chain only: OKX
takes EUR by SEPA through a separate fiat API the importer does not read), so EUR is only
reached by trading; no staking rewards (OKX pays them in its separate Earn accounts); about 3 %
of the generated listings are suspended (`state` "suspend").
"""

from __future__ import annotations

import random
from decimal import Decimal

from exchange_sync.simulator.catalog import Catalog
from exchange_sync.simulator.model import Market
from exchange_sync.simulator.protocols.okx import codes
from exchange_sync.simulator.venue import FeeRule, Venue, build_market

QUOTES = ("EUR", "USDT", "USDC", "BTC", "ETH")
QUOTE_BASES = ("USDC", "USDT")
MAJORS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "TRX", "LTC", "LINK", "DOT")
UNLISTED = frozenset({"USD", "GBP", "TRY", "BRL", "JPY", "FDUSD", "BNB", "TWT", "CAKE", "C98", "ALPHA"})
GENERATED_LISTINGS = 220
REAL_QUOTE_ODDS = {"USDT": 100, "USDC": 70, "BTC": 45, "ETH": 20, "EUR": 25}
GENERATED_QUOTE_ODDS = {"USDT": 100, "USDC": 20, "BTC": 5, "ETH": 2, "EUR": 1}
FEES = FeeRule(taker=Decimal("0.001"), maker=Decimal("0.0008"), charged_in="received")


def build_venue(catalog: Catalog, seed: int) -> Venue:
    rng = random.Random(f"{seed}:okx:markets")
    listed = [code for code in catalog.real_codes if code not in UNLISTED]
    generated = list(catalog.generated_codes[:GENERATED_LISTINGS])
    assets = {code: catalog.assets[code] for code in [*listed, *QUOTES, *generated]}
    strength = {quote: i for i, quote in enumerate(QUOTES)}
    markets: dict[str, Market] = {}
    for base in [*listed, *QUOTE_BASES, *generated]:
        is_generated = base in generated
        odds = GENERATED_QUOTE_ODDS if is_generated else REAL_QUOTE_ODDS
        for quote in QUOTES:
            if quote == base or (base in strength and strength[quote] >= strength[base]):
                continue
            roll = rng.randint(1, 100)
            if base not in MAJORS and base not in QUOTE_BASES and roll > odds[quote]:
                continue
            market = build_market(
                catalog,
                rng,
                base,
                quote,
                codes.inst_id(base, quote),
                active=not (is_generated and rng.randint(1, 100) <= 3),
                margin=base in MAJORS and quote in ("USDT", "USDC"),
                price_digits=5,
                lot_decimals=None,
            )
            markets.setdefault(market.symbol, market)
    return Venue("okx", assets, markets, FEES)

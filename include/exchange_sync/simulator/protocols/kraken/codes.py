"""Kraken's names for things: asset ids and altnames, pair ids, funding methods and networks.

Assets: the legacy ones carry an X (crypto) or Z (fiat) prefix in their id and have the plain
altname (XXBT/XBT, XETH/ETH, XXDG/XDG, ZUSD/USD, ZEUR/EUR); newer ones have id = altname (SOL,
DOT, USDT). ccxt maps them back to unified codes through its commonCurrencies (XXBT -> BTC,
XDG -> DOGE, ZUSD -> USD) and parse_currency's X/Z rule (docs.kraken.com "Get Asset Info";
support.kraken.com "Bitcoin currency code XBT vs BTC"; ccxt kraken.py).

Pairs: legacy pairs of two legacy assets are named by their ids (XXBTZUSD, XETHXXBT, ZEURZUSD),
the others by their altnames (SOLUSD, XBTUSDT, XDGUSD); altname = base altname + quote altname,
wsname = "BASE/QUOTE" in altnames (docs.kraken.com "Get Tradable Asset Pairs"; which pairs are
"legacy" is a simulator convention close to the real list).
"""

from __future__ import annotations

from exchange_sync.simulator.model import Asset

# unified code -> (Kraken asset id, altname)
LEGACY_ASSETS = {
    "BTC": ("XXBT", "XBT"),
    "ETH": ("XETH", "ETH"),
    "LTC": ("XLTC", "LTC"),
    "XRP": ("XXRP", "XRP"),
    "XLM": ("XXLM", "XLM"),
    "DOGE": ("XXDG", "XDG"),
    "ETC": ("XETC", "ETC"),
    "ZEC": ("XZEC", "ZEC"),
    "USD": ("ZUSD", "USD"),
    "EUR": ("ZEUR", "EUR"),
    "GBP": ("ZGBP", "GBP"),
}
LEGACY_PAIR_BASES = frozenset({"BTC", "ETH", "LTC", "XRP", "XLM", "ETC", "ZEC", "EUR", "GBP"})
LEGACY_PAIR_QUOTES = frozenset({"USD", "EUR", "GBP", "BTC", "ETH"})

# Network names as WithdrawStatus shows them, and what ccxt's parse_network (its
# options["withdrawMethods"]) turns them into; unlisted names pass through unchanged.
NETWORK_NAMES = {
    "BTC": "Bitcoin",
    "ETH": "Ethereum",
    "TRX": "Tron",
    "SOL": "Solana",
    "ARBITRUM": "Arbitrum One",
    "OPTIMISM": "Optimism",
    "MATIC": "Polygon",
    "AVAXC": "Avalanche C-Chain",
    "BASE": "Base",
    "BSC": "BNB Smart Chain",
    "DOGE": "Dogecoin",
    "LTC": "Litecoin",
    "XRP": "Ripple",
    "XLM": "Stellar",
    "ADA": "Cardano",
    "DOT": "Polkadot",
    "ATOM": "Cosmos",
    "ETC": "Ethereum Classic",
    "ZEC": "Zcash",
    "BCH": "Bitcoin Cash",
    "ALGO": "Algorand",
    "XTZ": "Tezos",
}
CCXT_NETWORKS = {
    "Bitcoin": "BTC",
    "Ethereum": "ERC20",
    "Tron": "TRC20",
    "Solana": "SOL",
    "Arbitrum One": "Arbitrum",
    "Optimism": "Optimism",
    "Polygon": "MATIC",
    "Avalanche C-Chain": "AVAX",
    "Dogecoin": "DOGE",
    "Litecoin": "LTC",
    "Ripple": "XRP",
    "Stellar": "XLM",
    "Cardano": "ADA",
    "Polkadot": "DOT",
    "Cosmos": "ATOM",
    "Ethereum Classic": "ETC",
    "Zcash": "ZEC",
    "Bitcoin Cash": "BCH",
    "Algorand": "ALGO",
    "Tezos": "XTZ",
}
# Fiat comes by bank transfer; the method names are Kraken's funding partners' (its deposit
# methods list), the choice per currency a simulator convention.
FIAT_METHODS = {"USD": "Bank Frick (SWIFT)", "EUR": "SEPA (Clear Junction)", "GBP": "FPS (Clear Junction)"}


def asset_id(code: str) -> str:
    legacy = LEGACY_ASSETS.get(code)
    return legacy[0] if legacy else code


def altname(code: str) -> str:
    legacy = LEGACY_ASSETS.get(code)
    return legacy[1] if legacy else code


def decimals(asset: Asset) -> int:
    """Kraken's `decimals` (booking precision) for an asset: fiat 4, stablecoins 8, XBT/ETH and
    other real coins 10, newer generated listings 8."""
    if asset.fiat:
        return 4
    if asset.stable or asset.generated:
        return 8
    return 10


def pair_id(base: str, quote: str) -> str:
    if base in LEGACY_PAIR_BASES and quote in LEGACY_PAIR_QUOTES:
        return asset_id(base) + asset_id(quote)
    return altname(base) + altname(quote)


def network_name(network: str, asset: Asset) -> str:
    return NETWORK_NAMES.get(network, asset.name)


def method(asset: Asset, network: str) -> str:
    """The funding method: the bank for fiat, the network for a chain's own coin, otherwise the
    token with its network ("Tether USD (Ethereum)")."""
    if not network:
        return FIAT_METHODS.get(asset.code, "Bank transfer")
    name = network_name(network, asset)
    return name if network == asset.code else f"{asset.name} ({name})"

"""Coinbase's names for things: product ids, network names, fiat payment methods.

Products are "BASE-QUOTE" in Coinbase's currency codes ("BTC-USD", "ETH-BTC"), which are the
unified codes here (ccxt coinbase.py parse_spot_market reads base_currency_id / quote_currency_id;
its only commonCurrencies rename is CGLD -> CELO, which no simulated asset uses).

Networks: a v2 `send` transaction names its chain in network.network_name in lower case
("solana", "ethereum": ccxt coinbase.py parse_transaction example). ccxt turns that name into a
network code through options["networksById"], which fetch_currencies fills with each crypto
currency's lower-cased name -> its code, then through its networkAliases (ETH -> ERC20, TRX ->
TRC20, ARB -> ARBITRUM, ...): `ccxt_network` repeats that for the ground truth. The chain names
below are Coinbase's (simulator convention for the list itself); unlisted chains use the asset's
name in lower case.
"""

from __future__ import annotations

from collections.abc import Iterable

from exchange_sync.simulator.model import Asset

NETWORK_NAMES = {
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "SOL": "solana",
    "TRX": "tron",
    "ARBITRUM": "arbitrum",
    "OPTIMISM": "optimism",
    "BASE": "base",
    "MATIC": "polygon",
    "AVAXC": "avacchain",
    "BSC": "bnb smart chain",
    "XRP": "ripple",
    "XLM": "stellar",
    "DOGE": "dogecoin",
    "LTC": "litecoin",
    "ADA": "cardano",
    "DOT": "polkadot",
    "ATOM": "cosmos",
}
# ccxt's Exchange.networkAliases (base/exchange.py, ccxt 4.5.90)
CCXT_NETWORK_ALIASES = {
    "ETH": "ERC20",
    "TRX": "TRC20",
    "BSC": "BEP20",
    "BSC20": "BEP20",
    "CRONOS": "CRC20",
    "ARB": "ARBITRUM",
    "ARBONE": "ARBITRUM",
    "ARBNOVA": "ARBITRUM_NOVA",
}
# Fiat moves by bank transfer: the payment method v2 fiat deposits and withdrawals name.
PAYMENT_METHODS = {"USD": "ACH bank account", "EUR": "SEPA Transfer", "GBP": "Faster Payments"}


def product_id(base: str, quote: str) -> str:
    return f"{base}-{quote}"


def network_name(network: str, asset: Asset) -> str:
    return NETWORK_NAMES.get(network, asset.name.lower())


def ccxt_network(name: str, crypto: Iterable[Asset]) -> str:
    """ccxt's network_id_to_code of a network_name, after its fetch_currencies of these crypto
    currencies (in the order /v2/currencies/crypto lists them: the last of equal names wins)."""
    by_name = {asset.name.lower(): asset.code for asset in crypto}
    code = by_name.get(name, name)
    return CCXT_NETWORK_ALIASES.get(code, code)

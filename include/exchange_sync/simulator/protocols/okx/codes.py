"""OKX's names for things: instrument ids, currencies and chains.

Instruments: spot instIds are "BASE-QUOTE" in OKX's currency names ("BTC-USDT"), which are the
unified codes here (ccxt's okx commonCurrencies only renames AE, which no world lists).

Chains: deposit-history, withdrawal-history and asset/currencies name a chain "<CCY>-<chain>"
("USDT-TRC20", "ETH-Arbitrum One", "USDC-Avalanche C-Chain"); ccxt's parse_transaction and
parse_currency take the part after the first "-" and map it with network_id_to_code (its
options["networks"] inverted: "Arbitrum One" -> ARBITRUM, "BSC" -> BEP20). CHAINS holds OKX's
chain name per neutral network (docs-v5 "Get currencies" examples and ccxt's networks table);
a network not listed shows its neutral name (simulator convention), which ccxt passes through.
"""

from __future__ import annotations

CHAINS = {
    "BTC": "Bitcoin",
    "ETH": "ERC20",
    "TRX": "TRC20",
    "BSC": "BSC",
    "SOL": "Solana",
    "ARBITRUM": "Arbitrum One",
    "OPTIMISM": "Optimism",
    "BASE": "Base",
    "MATIC": "Polygon",
    "AVAXC": "Avalanche C-Chain",
    "DOGE": "Dogecoin",
    "LTC": "Litecoin",
    "XRP": "Ripple",
    "XLM": "Stellar Lumens",
    "ADA": "Cardano",
    "DOT": "Polkadot",
    "ATOM": "Cosmos",
    "ETC": "Ethereum Classic",
    "ZEC": "Zcash",
    "BCH": "BitcoinCash",
    "ALGO": "Algorand",
    "XTZ": "Tezos",
    "APT": "Aptos",
    "AR": "Arweave",
    "FIL": "Filecoin",
    "HBAR": "Hedera",
    "ICP": "Dfinity",
    "NEAR": "NEAR",
}
# OKX chain name -> what ccxt 4.5.90's okx.network_id_to_code makes of it (unlisted: unchanged).
CCXT_NETWORKS = {
    "Bitcoin": "BTC",
    "BSC": "BEP20",
    "Solana": "SOL",
    "Arbitrum One": "ARBITRUM",
    "Optimism": "OP",
    "Base": "BASE",
    "Polygon": "MATIC",
    "Avalanche C-Chain": "AVAXC",
    "Dogecoin": "DOGE",
    "Litecoin": "LTC",
    "Ripple": "XRP",
    "Stellar Lumens": "XLM",
    "Cardano": "ADA",
    "Polkadot": "DOT",
    "Cosmos": "ATOM",
    "Ethereum Classic": "ETC",
    "Zcash": "ZEC",
    "BitcoinCash": "BCH",
    "Algorand": "ALGO",
    "Tezos": "XTZ",
    "Aptos": "APT",
    "Arweave": "AR",
    "Filecoin": "FIL",
    "Hedera": "HBAR",
    "Dfinity": "ICP",
}


def inst_id(base: str, quote: str) -> str:
    return f"{base}-{quote}"


def chain_name(network: str) -> str:
    return CHAINS.get(network, network)


def chain(asset: str, network: str) -> str:
    """The `chain` field of a transfer or currency entry ("" for none)."""
    return f"{asset}-{chain_name(network)}" if network else ""


def ccxt_network(network: str) -> str | None:
    if not network:
        return None
    name = chain_name(network)
    return CCXT_NETWORKS.get(name, name)

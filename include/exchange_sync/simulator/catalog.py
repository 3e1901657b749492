"""The world's asset universe, USD price paths and address/txid helpers, shared by every exchange.

The universe depends only on the world seed: ~120 real tickers with approximate real prices and
networks, the fiat and stable currencies exchanges quote in, and generated names with plausible
prices from 1e-7 to 100 USD (so some markets have prices like 0.00000123 and quantities in the
billions: amounts with 18+ significant digits, which no binary float can carry). Which of these an
exchange lists, and its markets, is the exchange's business (`venue.py`, `protocols/*/listing.py`).

Prices are a deterministic daily random walk in basis points around each asset's reference price,
interpolated linearly inside the day, computed lazily and only from integers and Decimals. Time
is always relative to the world's anchor, so two worlds with the same seed have the same prices
at the same offset from their anchors.
"""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal

from exchange_sync.simulator.decimals import EXACT, ROUNDING
from exchange_sync.simulator.model import Asset, Market

DAY_MS = 86_400_000

# ticker, USD reference price, networks (first is the default), display name.
_REAL_ASSETS = """
BTC 61250.5 BTC,BSC Bitcoin
ETH 3012.75 ETH,ARBITRUM,OPTIMISM,BSC,BASE Ethereum
BNB 585.3 BSC BNB
SOL 148.2 SOL Solana
XRP 0.5234 XRP Ripple
ADA 0.4511 ADA,BSC Cardano
DOGE 0.1307 DOGE,BSC Dogecoin
TRX 0.1214 TRX TRON
DOT 6.812 DOT Polkadot
POL 0.5523 ETH,MATIC Polygon
LINK 14.21 ETH,BSC Chainlink
LTC 72.43 LTC,BSC Litecoin
AVAX 28.92 AVAXC Avalanche
SHIB 0.00001823 ETH,BSC SHIBA_INU
UNI 7.912 ETH,BSC Uniswap
ATOM 6.401 ATOM Cosmos
XLM 0.0951 XLM Stellar
ETC 21.34 ETC Ethereum_Classic
BCH 365.2 BCH Bitcoin_Cash
FIL 4.123 FIL Filecoin
APT 7.215 APT Aptos
ARB 0.7811 ARBITRUM,ETH Arbitrum
OP 1.603 OPTIMISM Optimism
NEAR 4.912 NEAR NEAR_Protocol
ICP 8.714 ICP Internet_Computer
HBAR 0.0713 HBAR Hedera
VET 0.02513 VET VeChain
ALGO 0.1402 ALGO Algorand
QNT 68.12 ETH Quant
AAVE 95.31 ETH Aave
GRT 0.1623 ETH,ARBITRUM The_Graph
SAND 0.3412 ETH The_Sandbox
MANA 0.3301 ETH Decentraland
AXS 5.213 ETH Axie_Infinity
EGLD 30.12 EGLD MultiversX
THETA 1.203 THETA Theta_Network
XTZ 0.7012 XTZ Tezos
EOS 0.5523 EOS EOS
FTM 0.4512 FTM Fantom
CHZ 0.06512 ETH,CHZ2 Chiliz
KAVA 0.4011 KAVA Kava
RUNE 3.912 RUNE THORChain
CRV 0.3012 ETH Curve
LDO 1.512 ETH Lido_DAO
SNX 1.803 ETH Synthetix
INJ 21.13 INJ Injective
SUI 0.9012 SUI Sui
SEI 0.3312 SEI Sei
TIA 6.123 TIA Celestia
PEPE 0.000008912 ETH Pepe
FLOKI 0.0001312 ETH,BSC FLOKI
BONK 0.00001912 SOL Bonk
WIF 1.912 SOL dogwifhat
JUP 0.8213 SOL Jupiter
PYTH 0.3123 SOL Pyth_Network
ORDI 32.12 BTC ORDI
STX 1.612 STX Stacks
IMX 1.412 ETH Immutable
RENDER 6.512 SOL,ETH Render
FET 1.213 ETH Artificial_Superintelligence_Alliance
GALA 0.02113 ETH,BSC Gala
ENJ 0.1712 ETH Enjin_Coin
1INCH 0.3112 ETH 1inch
COMP 48.12 ETH Compound
MKR 2201.5 ETH Maker
YFI 5412.3 ETH yearn.finance
SUSHI 0.7512 ETH SushiSwap
ZEC 24.12 ZEC Zcash
DASH 26.31 DASH Dash
NEO 10.51 NEO3 NEO
IOTA 0.1712 IOTA IOTA
ZIL 0.01612 ZIL Zilliqa
ONE 0.01412 ONE Harmony
HOT 0.001712 ETH Holo
KSM 22.13 KSM Kusama
CELO 0.6012 CELO Celo
ANKR 0.02512 ETH Ankr
BAT 0.1812 ETH Basic_Attention_Token
ZRX 0.3312 ETH 0x_Protocol
LRC 0.1412 ETH Loopring
ENS 15.12 ETH Ethereum_Name_Service
GMX 22.13 ARBITRUM GMX
DYDX 1.212 DYDX dYdX
BLUR 0.2012 ETH Blur
APE 0.7012 ETH ApeCoin
MASK 2.312 ETH Mask_Network
SSV 18.12 ETH ssv.network
ROSE 0.07012 ROSE Oasis
FLOW 0.5512 FLOW Flow
MINA 0.5012 MINA Mina
ICX 0.1512 ICX ICON
ONT 0.1912 ONT Ontology
QTUM 2.412 QTUM Qtum
RVN 0.01912 RVN Ravencoin
SC 0.004512 SC Siacoin
DGB 0.008512 DGB DigiByte
STORJ 0.3512 ETH Storj
SKL 0.03512 ETH SKALE
CELR 0.01212 ETH Celer_Network
BAND 1.212 BAND Band_Protocol
TWT 0.9512 BSC Trust_Wallet_Token
CAKE 1.912 BSC PancakeSwap
ALPHA 0.06012 ETH,BSC Stella
AUDIO 0.1312 ETH Audius
C98 0.1512 BSC Coin98
ACH 0.02012 ETH Alchemy_Pay
WLD 2.112 ETH,OPTIMISM Worldcoin
ENA 0.4512 ETH Ethena
TON 5.612 TON Toncoin
NOT 0.007512 TON Notcoin
ARKM 1.112 ETH Arkham
PENDLE 3.812 ETH Pendle
STRK 0.5512 STARKNET Starknet
JTO 2.312 SOL Jito
MEME 0.01212 ETH Memecoin
ID 0.4512 BSC,ARBITRUM SPACE_ID
AR 25.12 AR Arweave
"""

# Currencies that are mostly quoted against: code -> (USD price, networks, name, fiat, stable).
CURRENCIES = {
    "USDT": ("1", "ETH,BSC,TRX,SOL", "TetherUS", False, True),
    "USDC": ("1", "ETH,BSC,SOL", "USD_Coin", False, True),
    "FDUSD": ("1", "ETH,BSC", "First_Digital_USD", False, True),
    "USD": ("1", "", "US_Dollar", True, True),
    "EUR": ("1.083", "", "Euro", True, False),
    "GBP": ("1.271", "", "British_Pound", True, False),
    "TRY": ("0.0309", "", "Turkish_Lira", True, False),
    "BRL": ("0.1912", "", "Brazilian_Real", True, False),
    "JPY": ("0.00671", "", "Japanese_Yen", True, False),
}
TOTAL_BASE_ASSETS = 600
# Names ccxt renames (base and per-exchange commonCurrencies) or exchanges give special meaning;
# generated names must not collide with them. Names starting with X or Z are avoided as well:
# Kraken prefixes its legacy asset ids with them (XXBT, ZUSD) and ccxt strips such prefixes.
RESERVED_NAMES = {
    "XBT", "BCHSV", "BCC", "YOYO", "AUD", "CAD", "RUB", "UAH", "NGN", "ZAR", "LUNA", "LUNA2",
    "REP", "REPV2", "UST", "FEE", "KFEE", "XDG",
}  # fmt: skip

# Withdrawal fees in USD per network, the order of magnitude exchanges charge.
_NETWORK_FEE_USD = {
    "BTC": "9",
    "ETH": "2.5",
    "ARBITRUM": "0.4",
    "OPTIMISM": "0.3",
    "BASE": "0.2",
    "BSC": "0.08",
    "TRX": "1",
    "SOL": "0.2",
    "MATIC": "0.1",
    "AVAXC": "0.2",
}
_DEFAULT_FEE_USD = "0.5"
_CONFIRMATIONS = {
    "BTC": 2,
    "ETH": 64,
    "BSC": 15,
    "TRX": 1,
    "SOL": 1,
    "ARBITRUM": 120,
    "OPTIMISM": 120,
    "BASE": 120,
    "MATIC": 300,
    "LTC": 4,
    "DOGE": 40,
    "BCH": 6,
}


class Catalog:
    """The assets of one seeded world. Immutable after construction."""

    def __init__(self, seed: int):
        self.seed = seed
        rng = random.Random(f"{seed}:catalog")
        self.assets: dict[str, Asset] = {}
        for line in _REAL_ASSETS.strip().splitlines():
            code, price, networks, name = line.split()
            self.assets[code] = Asset(
                code, name.replace("_", " "), Decimal(price), tuple(networks.split(",")), False, False
            )
        self.real_codes: tuple[str, ...] = tuple(self.assets)
        for code, (price, networks, name, fiat, stable) in CURRENCIES.items():
            self.assets[code] = Asset(
                code,
                name.replace("_", " "),
                Decimal(price),
                tuple(n for n in networks.split(",") if n),
                fiat=fiat,
                stable=stable,
            )
        generated = self._generated_names(rng, TOTAL_BASE_ASSETS - len(self.real_codes))
        for code in generated:
            mantissa = rng.randint(100, 999)
            exponent = rng.choice((-9, -8, -7, -6, -5, -5, -4, -4, -3, -3, -3, -2, -2, -2, -1, -1, 0))
            networks = rng.choice(
                (("ETH",), ("BSC",), ("ETH", "BSC"), ("SOL",), ("ARBITRUM", "ETH"), ("BASE",), ("TRX",))
            )
            self.assets[code] = Asset(
                code, code.title(), Decimal(mantissa).scaleb(exponent), networks, False, False, True
            )
        self.generated_codes: tuple[str, ...] = tuple(generated)

    @staticmethod
    def _generated_names(rng: random.Random, count: int) -> list[str]:
        consonants, vowels = "BCDFGHJKLMNPRSTVWXZ", "AEIOUY"
        taken = set(_REAL_ASSETS.split()) | set(CURRENCIES) | RESERVED_NAMES
        names: list[str] = []
        while len(names) < count:
            pattern = rng.choice(("CVC", "CVCC", "CVCV", "CVCVC", "VCVC", "CVVC", "CCVC"))
            name = "".join(rng.choice(consonants if p == "C" else vowels) for p in pattern)
            if name in taken or name[0] in "XZ" or any(name.endswith(q) for q in CURRENCIES):
                continue
            taken.add(name)
            names.append(name)
        return names

    def withdraw_fee(self, coin: str, network: str) -> Decimal:
        """The network fee in coin units, rounded to two significant digits like exchanges' tables."""
        asset = self.assets[coin]
        usd = Decimal(_NETWORK_FEE_USD.get(network, _DEFAULT_FEE_USD))
        fee = ROUNDING.divide(usd, asset.usd_ref)
        fee = fee.quantize(Decimal(1).scaleb(max(fee.adjusted() - 1, -8)), context=ROUNDING)
        return max(fee, Decimal("1e-8"))

    def confirmations(self, network: str) -> int:
        return _CONFIRMATIONS.get(network, 12)


HOUR_MS = 3_600_000


class PriceOracle:
    """USD prices per asset over time: a lazy, deterministic daily walk in basis points,
    interpolated to the hour (and cached per hour, which is what keeps generation fast)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._walks: dict[str, _Walk] = {}
        self._hourly: dict[str, dict[int, Decimal]] = {}
        # Keyed by (symbol, price decimals): two exchanges may list one pair with different ticks.
        self._market_hourly: dict[tuple[str, int], dict[int, int]] = {}

    def usd(self, asset: str, rel_ms: int) -> Decimal:
        hour = rel_ms // HOUR_MS
        cache = self._hourly.get(asset)
        if cache is None:
            cache = self._hourly[asset] = {}
        price = cache.get(hour)
        if price is None:
            price = cache[hour] = self._usd_at(asset, hour * HOUR_MS)
        return price

    def _usd_at(self, asset: str, rel_ms: int) -> Decimal:
        info = self.catalog.assets[asset]
        if info.stable:
            return info.usd_ref
        walk = self._walks.get(asset)
        if walk is None:
            walk = self._walks[asset] = _Walk(f"{self.catalog.seed}:px:{asset}", volatile=not info.fiat)
        return EXACT.multiply(info.usd_ref, Decimal(walk.basis_points(rel_ms))).scaleb(-4, context=EXACT)

    def market_price(self, market: Market, rel_ms: int) -> int:
        """The market's price at rel_ms in ticks (integer multiples of the tick size), at least 1."""
        hour = rel_ms // HOUR_MS
        key = (market.symbol, market.price_decimals)
        cache = self._market_hourly.get(key)
        if cache is None:
            cache = self._market_hourly[key] = {}
        ticks = cache.get(hour)
        if ticks is None:
            ratio = ROUNDING.divide(self.usd(market.base, rel_ms), self.usd(market.quote, rel_ms))
            ticks = cache[hour] = max(1, int(ratio.scaleb(market.price_decimals, context=ROUNDING)))
        return ticks


class _Walk:
    """Basis points (10000 = reference price) per day, day 0 starting at the anchor."""

    __slots__ = ("_back", "_back_rng", "_forward", "_forward_rng", "_step")

    def __init__(self, key: str, volatile: bool):
        self._forward = [10_000]  # day 0, 1, 2, ...
        self._back: list[int] = []  # day -1, -2, ...
        self._forward_rng = random.Random(key + ":f")
        self._back_rng = random.Random(key + ":b")
        self._step = 320 if volatile else 40

    def _day(self, day: int) -> int:
        if day >= 0:
            while len(self._forward) <= day:
                self._forward.append(self._next(self._forward[-1], self._forward_rng))
            return self._forward[day]
        index = -day - 1
        while len(self._back) <= index:
            previous = self._back[-1] if self._back else self._forward[0]
            self._back.append(self._next(previous, self._back_rng))
        return self._back[index]

    def _next(self, value: int, rng: random.Random) -> int:
        value += rng.randint(-self._step, self._step)
        # Reflect at 0.3x and 3x so prices stay plausible over years of history.
        if value < 3_000:
            value = 6_000 - value
        elif value > 30_000:
            value = 60_000 - value
        return value

    def basis_points(self, rel_ms: int) -> int:
        day, into = divmod(rel_ms, DAY_MS)
        start, end = self._day(day), self._day(day + 1)
        return start + (end - start) * into // DAY_MS


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _digest_chars(key: str, alphabet: str, length: int) -> str:
    out: list[str] = []
    counter = 0
    while len(out) < length:
        digest = hashlib.sha256(f"{key}:{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return "".join(out[:length])


def address_for(network: str, key: str) -> tuple[str, str]:
    """A well-formed (address, tag) for the network, derived from key."""
    if network in ("ETH", "BSC", "ARBITRUM", "OPTIMISM", "BASE", "MATIC", "AVAXC", "ETC"):
        return "0x" + _digest_chars(key, "0123456789abcdef", 40), ""
    if network == "TRX":
        return "T" + _digest_chars(key, _BASE58, 33), ""
    if network == "BTC":
        return "bc1q" + _digest_chars(key, _BECH32, 38), ""
    if network == "LTC":
        return "ltc1q" + _digest_chars(key, _BECH32, 38), ""
    if network in ("SOL", "SUI", "APT"):
        return _digest_chars(key, _BASE58, 44), ""
    if network in ("XRP", "XLM", "EOS", "ATOM", "TON", "HBAR", "ALGO"):
        tag = str(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 10**9)
        return "r" + _digest_chars(key, _BASE58, 33), tag
    if network == "DOGE":
        return "D" + _digest_chars(key, _BASE58, 33), ""
    return _digest_chars(key, _BASE58, 42), ""


def txid_for(network: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    if network in ("ETH", "BSC", "ARBITRUM", "OPTIMISM", "BASE", "MATIC", "AVAXC"):
        return "0x" + digest
    if network in ("SOL",):
        return _digest_chars(key, _BASE58, 88)
    if network in ("XRP",):
        return digest.upper()
    return digest


def stable_int(*parts: object, bits: int = 48) -> int:
    """A deterministic integer from the parts (hash() is salted per process, this is not)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits)

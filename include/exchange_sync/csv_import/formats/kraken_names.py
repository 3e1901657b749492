"""What Kraken's exports (ledgers.csv, trades.csv) share: its asset and pair names as ccxt's
unified codes, and its times as the API's rows hold them.

Names: the exchange's stored market list first (ParseContext, what the API import used); without
one (an account never imported by API) the table ccxt kraken.py itself carries: its
`commonCurrencies` (the legacy X/Z ids XXBT, ZUSD, ... and the altnames XBT, XDG), which is what
its parse_currency makes of Kraken's Assets list. Staking and opt-in suffixes (".S", ".M", ".F",
".B", support.kraken.com "What is Asset.S and Asset.M") keep their suffix on the mapped code, as
ccxt's codes do ("XBT.M" -> "BTC.M").
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from exchange_sync.csv_import.formats.base import ParseContext
from exchange_sync.csv_import.values import Row, RowRejected
from exchange_sync.importer.rows import from_ms

# ccxt 4.5 kraken.py describe()["commonCurrencies"]: Kraken id or altname -> unified code.
COMMON_CURRENCIES = {
    "LUNA": "LUNC", "LUNA2": "LUNA", "REPV2": "REP", "REP": "REPV1", "UST": "USTC", "XBT": "BTC",
    "XDG": "DOGE", "FEE": "KFEE", "XETC": "ETC", "XETH": "ETH", "XLTC": "LTC", "XMLN": "MLN",
    "XREP": "REP", "XXBT": "BTC", "XXDG": "DOGE", "XXLM": "XLM", "XXMR": "XMR", "XXRP": "XRP",
    "XZEC": "ZEC", "ZAUD": "AUD", "ZCAD": "CAD", "ZEUR": "EUR", "ZGBP": "GBP", "ZJPY": "JPY",
    "ZUSD": "USD",
}  # fmt: skip
# The quote altnames Kraken's pairs end in (docs.kraken.com "Get Tradable Asset Pairs"), longest
# first, to split an altname pair ("SOLUSDT") when no market list names it.
QUOTE_NAMES = ("USDT", "USDC", "PYUSD", "USD", "EUR", "GBP", "CAD", "JPY", "AUD", "CHF", "XBT", "ETH",
               "DAI", "DOT")  # fmt: skip
# Legacy pairs glue asset ids (XXBTZUSD, XETHXXBT, USDTZUSD): a 4-character X/Z id at the end.
_LEGACY_IDS = frozenset(k for k in COMMON_CURRENCIES if len(k) == 4 and k[0] in "XZ")
_KNOWN_BASES = frozenset(COMMON_CURRENCIES) | frozenset(QUOTE_NAMES)
# strptime patterns of the exports' times (UTC): sub-second digits in the newer files.
TIMES = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def currency(native: str, context: ParseContext) -> str:
    """A Kraken asset id or altname ("XXBT", "XBT", "DOT.S") as ccxt's unified code."""
    known = context.currency(native)
    if known != native:
        return known
    base, dot, suffix = native.partition(".")
    return COMMON_CURRENCIES.get(base, base) + dot + suffix


def symbol(pair: str, context: ParseContext) -> str:
    """A Kraken pair id ("XXBTZUSD", "SOLUSD", "XBTUSDT") or wsname ("XBT/USD") as the unified
    symbol ccxt gives the API's trades."""
    known = context.symbol(pair)
    if known:
        return known
    base, quote = pair.partition("/")[::2] if "/" in pair else _split(pair)
    if not base or not quote:
        raise RowRejected(
            "unknown_market",
            f"column 'pair': {pair!r} is not a Kraken pair this import can name; import the account "
            "by API once (which stores Kraken's market list), then import the file again",
        )
    return f"{currency(base, context)}/{currency(quote, context)}"


def _split(pair: str) -> tuple[str, str]:
    """Base and quote of a pair id: at a legacy quote id (XXBTZUSD, USDTZUSD) where the base is a
    name Kraken's table knows, else at the quote altname (SOLUSD; XTZEUR is XTZ/EUR, not XT/ZEUR)."""
    legacy = [(pair[:-4], pair[-4:])] if pair[-4:] in _LEGACY_IDS else []
    by_altname = [(pair[: -len(q)], q) for q in QUOTE_NAMES if pair.endswith(q)]
    splits = [(base, quote) for base, quote in legacy + by_altname if base]
    known = [split for split in splits if split[0] in _KNOWN_BASES]
    return (known or [s for s in splits if s in by_altname] or [("", "")])[0]


def seconds(row: Row, column: str = "time") -> Decimal:
    """The line's time as exact unix seconds (as many sub-second digits as the file has)."""
    moment = row.time(column, TIMES) - _EPOCH
    return Decimal(moment.days * 86_400 + moment.seconds) + Decimal(moment.microseconds).scaleb(-6)


def api_time(exact: Decimal) -> datetime:
    """The time the API's row holds for the same entry. ccxt reads Kraken's JSON number of seconds
    as a float and keeps int(seconds * 1000); for times with up to four sub-second digits (every
    ledger time, the API's and the file's) that is the exact millisecond, the same in both. A
    trade's API time has seven digits: about one trade in 10,000 (sub-millisecond part above
    0.9998 ms) is rounded by ccxt's float into the next millisecond, which the file's four digits
    cannot show; that trade's row keeps the file's millisecond until the API delivers it."""
    return from_ms(int(float(exact) * 1000))

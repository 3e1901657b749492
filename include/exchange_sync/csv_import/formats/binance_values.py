"""What Binance's export files share: their time spellings, its asset codes as ccxt's unified
ones, and values that carry their asset as a suffix ("0.001ETH")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from exchange_sync.csv_import.formats.base import ParseContext
from exchange_sync.csv_import.values import Row, RowRejected

# "2024-05-16 12:57:55"; BittyTax has met deposit files with a two-digit year ("24-05-16 ...").
TIMES = ("%Y-%m-%d %H:%M:%S", "%y-%m-%d %H:%M:%S")
TIME_PRECISION_MS = 1000  # every Binance export writes whole seconds
# ccxt binance's commonCurrencies: the native codes ccxt renames (where no market list is stored).
COMMON_CURRENCIES = {"YOYO": "YOYOW"}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+(?:[eE][+-]?\d+)?")
_WITH_ASSET = re.compile(rf"({_NUMBER})([A-Za-z][A-Za-z0-9]*)")


def currency(context: ParseContext, native: str) -> str:
    code = context.currency(native)
    return COMMON_CURRENCIES.get(code, code) if code == native else code


def number(column: str, text: str, decimal_comma: bool = False) -> Decimal:
    """An exact decimal; the website writes large values with thousands separators ("1,234.5").
    In a `;`-separated file (a European spreadsheet's) a comma is the decimal point instead."""
    if decimal_comma and _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    elif _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if not re.fullmatch(_NUMBER, text):
        raise RowRejected("bad_amount", f"column {column!r}: {text!r} is not a number")
    return Decimal(text)


def plain(row: Row, column: str) -> Decimal:
    """A column's number without an asset (the older trade file, prices)."""
    return number(column, row.text(column) or "", row.decimal_comma)


def with_asset(row: Row, column: str, assets: Sequence[str] = ()) -> tuple[Decimal, str]:
    """(amount, native asset) of a value like "0.001ETH". The expected assets are tried first:
    a code may begin with a digit ("1INCH"), so "0.51INCH" is 0.5 1INCH, not 0.51 INCH."""
    text = (row.text(column) or "").replace(" ", "")
    for asset in sorted(assets, key=len, reverse=True):
        if asset and text.upper().endswith(asset.upper()) and len(text) > len(asset):
            return number(column, text[: -len(asset)], row.decimal_comma), asset
    if row.decimal_comma and _DECIMAL_COMMA.match(text):
        plain = text.replace(",", ".", 1)
    else:
        plain = text.replace(",", "") if _THOUSANDS.match(text) else text
    found = _WITH_ASSET.fullmatch(plain)
    if found is None:
        raise RowRejected("bad_amount", f"column {column!r}: {text!r} is not an amount with its asset")
    return number(column, found.group(1)), found.group(2).upper()

"""Exact decimal arithmetic for simulated amounts.

Every amount in the simulator is a `decimal.Decimal` with at most 8 decimal places (Binance's asset
precision). Arithmetic that must be exact runs under `EXACT`, which raises instead of rounding, so a
silent precision loss can never creep into balances; deliberate rounding (a division, a fee) goes
through `ROUNDING` and an explicit quantize.
"""

from __future__ import annotations

from decimal import (
    ROUND_DOWN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)

EXACT = Context(prec=60, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
ROUNDING = Context(prec=60, rounding=ROUND_DOWN, traps=[InvalidOperation, DivisionByZero, Overflow])

ZERO = Decimal(0)
ONE = Decimal(1)
SATOSHI = Decimal("1e-8")

_PLACES = {places: Decimal(1).scaleb(-places) for places in range(0, 25)}


def quantum(places: int) -> Decimal:
    """10**-places, e.g. quantum(2) == Decimal('0.01')."""
    return _PLACES[places]


def quantize_down(value: Decimal, places: int = 8) -> Decimal:
    return value.quantize(_PLACES[places], rounding=ROUND_DOWN, context=ROUNDING)


def divide_down(numerator: Decimal, denominator: Decimal, places: int = 8) -> Decimal:
    return quantize_down(ROUNDING.divide(numerator, denominator), places)


def add(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.add(a, b)


def sub(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.subtract(a, b)


def mul(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.multiply(a, b)


def from_units(units: int, places: int) -> Decimal:
    """An integer count of 10**-places units as a Decimal: from_units(150, 2) == Decimal('1.50')."""
    return EXACT.multiply(Decimal(units), _PLACES[places])


def fixed(value: Decimal, places: int = 8) -> str:
    """Binance api/v3 style: always `places` decimals ("0.00100000")."""
    return f"{value:.{places}f}"


def canonical(value: Decimal) -> str:
    """The shortest exact plain string: no exponent, no trailing zeros ("0.001", "4500", "0")."""
    if value == 0:
        return "0"
    text = format(value.normalize(context=EXACT), "f")
    return text


def parse(text: str | int) -> Decimal:
    """A Decimal from a JSON string/int, rejecting floats, NaN and infinities."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError("amount must be a decimal string")
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError("amount must be finite")
    return value

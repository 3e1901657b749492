"""Column types that keep amounts exact and times in UTC on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


def canonical_decimal(value: Decimal | str) -> str:
    """'0.00123400' -> '0.001234', '1E+2' -> '100': one spelling per number, never an exponent."""
    number = value if type(value) is Decimal else Decimal(value)
    text = str(number)
    # Most amounts are spelled plainly ("0.00123400"): trimming the zeros is all there is to do,
    # at a fraction of normalize()'s cost, on every amount of every page. NaN and infinities have
    # no point; an exponent (str() writes one below 1E-6) goes the long way.
    if "." in text and "E" not in text:
        text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "0") else text
    if not number.is_finite():
        raise ValueError(f"amount {value!r} is not a finite number")
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def as_utc(value: datetime) -> datetime:
    """The moment in UTC; a naive datetime is refused, its zone unknown."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the warehouse stores UTC times only")
    return value.astimezone(UTC)


class ExactDecimal(TypeDecorator):
    """NUMERIC on PostgreSQL; a canonical decimal string on SQLite, which has no exact type.

    SQLAlchemy's Numeric on SQLite goes through binary floats, which would round 16-digit amounts.
    Python values are always `Decimal`.
    """

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        text = canonical_decimal(value)
        return Decimal(text) if dialect.name == "postgresql" else text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(canonical_decimal(value))


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python; timestamptz on PostgreSQL, naive UTC on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

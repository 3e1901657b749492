"""One line of an export, and its values read the way the warehouse needs them: amounts exact
(never through a float), times explicit about their zone. A value that cannot be read raises
`RowRejected`, which names the column and the value; the line is then kept as a reject, not lost."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

# Why a line did not become a row (csv_rejects.reason). README "CSV import" explains each.
REASONS = {
    "bad_time": "a time that is not in the format the export writes",
    "bad_amount": "an amount that is not an exact number",
    "missing_value": "a required column is empty",
    "unknown_operation": "a type of entry the format does not know",
    "unknown_market": "a market id that neither the stored market list nor the format can name",
    "not_a_balance_change": "a line that moves nothing (e.g. between the account's own wallets)",
    "truncated_line": "fewer fields than the header (a file cut off while written or copied)",
    "extra_fields": "more fields than the header",
    "duplicate_of_api": "the API delivered the same entry (named in the detail)",
    "outside_history_window": "older than the account's history_start in the registry",
    "superseded": "stored from the CSV, then delivered by the API (which now holds it)",
    "covered_by_export": "a part of an entry another export holds whole (Binance: a trade's balance legs)",
}

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+([eE][+-]?\d+)?")
# d/m/yyyy or m/d/yyyy with hours and minutes: what Excel writes back after opening an export.
_EXCEL_DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?( ?[AP]M)?)?", re.I)


def normalise(column: str) -> str:
    """A header column as formats name it: case and surrounding spaces or quotes do not matter."""
    return column.strip().strip('"').strip().lower()


class RowRejected(Exception):
    def __init__(self, reason: str, detail: str):
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Row:
    """A data line of the file: its 1-based line number and its values by header column."""

    line: int
    values: Mapping[str, str]  # by normalise(column)
    fields: Sequence[str]  # as read, for the reject's `raw`
    decimal_comma: bool = False  # a `;`-separated file: "0,5" is a half (European spreadsheets)

    def text(self, column: str, *, optional: bool = False) -> str | None:
        value = self.values.get(normalise(column), "").strip()
        if value:
            return value
        if optional:
            return None
        raise RowRejected("missing_value", f"column {column!r} is empty")

    def amount(self, column: str, *, optional: bool = False, suffix: str = "") -> Decimal | None:
        """An exact decimal: plain or scientific notation ("1.5E-7"); a decimal comma only in a
        `;`-separated file. Thousands separators and anything else are refused, never guessed."""
        value = self.text(column, optional=optional)
        if value is None:
            return None
        if suffix and value.upper().endswith(suffix.upper()):  # Binance: "0.001ETH"
            value = value[: -len(suffix)].strip()
        if self.decimal_comma and _DECIMAL_COMMA.fullmatch(value):
            value = value.replace(",", ".")
        if not _PLAIN_NUMBER.fullmatch(value):
            raise RowRejected("bad_amount", f"column {column!r}: {value!r} is not a number")
        try:
            number = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
            raise RowRejected("bad_amount", f"column {column!r}: {value!r} is not a number") from None
        return number

    def time(self, column: str, patterns: Sequence[str], *, zone: str = "UTC") -> datetime:
        """A time in one of the export's own spellings (strptime patterns). Times without an
        offset are in `zone`, which is what the export's header says (all formats here: UTC)."""
        value = self.text(column)
        assert value is not None
        for pattern in patterns:
            try:
                moment = datetime.strptime(value, pattern)
            except ValueError:
                continue
            if moment.tzinfo is None:
                assert zone == "UTC", zone
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
        if _EXCEL_DATE.fullmatch(value):
            raise RowRejected(
                "bad_time",
                f"column {column!r}: {value!r} looks rewritten by a spreadsheet (day and month order "
                "unknown, seconds lost); import the file as the exchange exported it",
            )
        raise RowRejected("bad_time", f"column {column!r}: {value!r} is not a time like {patterns[0]!r}")

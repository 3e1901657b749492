"""Read an export file into numbered lines, finding its header and delimiter.

Python's csv module, not pandas: pandas infers types unless every option says otherwise,
renumbers rows around blank lines and pads a short (truncated) row with empty values, each of
which would hide a bad line. Here every data line keeps its number and its exact text, a line with
fewer or more fields than the header is told apart, and nothing is converted before a format asks.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exchange_sync.csv_import.values import Row, RowRejected, normalise

DELIMITERS = (",", ";", "\t")
HEADER_SEARCH_LINES = 30  # Coinbase puts a preamble of a few lines above its header


class MalformedFile(ValueError):
    """The file as a whole cannot be read: nothing of it is imported."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path.name}: {problem}")
        self.path = path


@dataclass
class CsvFile:
    path: Path
    sha256: str
    delimiter: str
    header: tuple[str, ...]
    header_line: int
    rows: list[Row] = field(default_factory=list)
    bad_lines: list[tuple[Row, RowRejected]] = field(default_factory=list)  # wrong field counts
    blank_lines: int = 0


def read_csv(path: Path, knows: Callable[[Sequence[str]], bool], describe_known: str) -> CsvFile:
    """The file's header (the first line, among its first lines, that `knows` accepts with one of
    the delimiters) and every data line after it."""
    data = _bytes(path)
    text = _decode(path, data)
    lines = text.splitlines()
    found = _find_header(lines, knows)
    if found is None:
        first = next((line for line in lines if line.strip()), "")
        raise MalformedFile(
            path,
            f"no known export header in its first {HEADER_SEARCH_LINES} lines (first line: "
            f"{first[:120]!r}). Known formats: {describe_known}",
        )
    number, delimiter, header = found
    result = CsvFile(path, hashlib.sha256(data).hexdigest(), delimiter, tuple(header), number)
    body = "\n".join(lines[number:])  # the lines after the header, numbered from number + 1
    reader = csv.reader(io.StringIO(body), delimiter=delimiter, strict=False)
    columns = [normalise(c) for c in header]
    previous_end = 0
    for fields in reader:
        line = number + previous_end + 1
        previous_end = reader.line_num
        if not any(f.strip() for f in fields):
            result.blank_lines += 1
            continue
        # Excel adds empty fields after the last column; they carry nothing.
        while len(fields) > len(columns) and not fields[-1].strip():
            fields = fields[:-1]
        row = Row(
            line, dict(zip(columns, fields, strict=False)), tuple(fields), decimal_comma=delimiter == ";"
        )
        if len(fields) < len(columns):
            result.bad_lines.append(
                (row, RowRejected("truncated_line", f"{len(fields)} of the header's {len(columns)} fields"))
            )
        elif len(fields) > len(columns):
            result.bad_lines.append(
                (row, RowRejected("extra_fields", f"{len(fields)} fields, the header has {len(columns)}"))
            )
        else:
            result.rows.append(row)
    return result


def _bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MalformedFile(path, "no such file") from None
    except IsADirectoryError:
        raise MalformedFile(path, "is a directory, not a CSV file") from None
    if not data.strip():
        raise MalformedFile(path, "is empty")
    return data


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16 with a BOM
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise MalformedFile(path, "is not a text file (it holds binary data); export it as CSV")
    try:
        return data.decode("utf-8-sig")  # with or without a byte-order mark
    except UnicodeDecodeError as exc:
        raise MalformedFile(path, f"is not UTF-8 text (byte {exc.start}); export it again as CSV") from None


def _find_header(
    lines: list[str], knows: Callable[[Sequence[str]], bool]
) -> tuple[int, str, list[str]] | None:
    """(1-based line number, delimiter, columns) of the first line a format knows."""
    for index, line in enumerate(lines[:HEADER_SEARCH_LINES]):
        if not line.strip():
            continue
        for delimiter in DELIMITERS:
            if delimiter not in line:
                continue
            columns = next(csv.reader([line], delimiter=delimiter))
            if knows(columns):
                return index + 1, delimiter, columns
    return None

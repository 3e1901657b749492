"""The corpus of malformed and tricky files (issue 12), on the generic template: each gives its
documented outcome (README "CSV import"): rows imported, or rejected with a line-numbered reason;
a file that cannot be read at all raises `MalformedFile` and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_sync.csv_import.reader import MalformedFile
from exchange_sync.csv_import.rejects import rejects
from exchange_sync.csv_import.run import import_csv
from exchange_sync.warehouse.schema import csv_imports, ledger, trades, transfers
from tests.csv_import.conftest import HEADER, account

GOOD = f"{HEADER}\ntrade,2024-03-01 10:00:00,,BTC/USDT,buy,50000,0.01,500,,0.5,USDT,,\n"


def stored(warehouse):
    return {t.name: warehouse.rows(t, "acc") for t in (trades, transfers, ledger)}


def test_byte_order_mark_and_crlf(warehouse, write):
    path = write("bom.csv", "\ufeff" + GOOD.replace("\n", "\r\n"))
    report = import_csv(warehouse, account(), path)
    assert report.stored["trades"] == 1 and not report.rejected


def test_semicolons_with_decimal_commas_are_exact(warehouse, write):
    text = HEADER.replace(",", ";") + "\ndeposit;2024-03-01 10:00:00;;;;;0,123456789012345678;;BTC;;;;\n"
    report = import_csv(warehouse, account(), write("semi.csv", text))
    assert report.stored["transfers"] == 1
    [row] = warehouse.rows(transfers, "acc")
    assert row["amount"] == Decimal("0.123456789012345678")


def test_comma_file_refuses_thousands_separators(warehouse, write):
    text = f'{HEADER}\ndeposit,2024-03-01 10:00:00,,,,,"1,234.5",,BTC,,,,\n'
    report = import_csv(warehouse, account(), write("thousands.csv", text))
    assert report.rejected == {"bad_amount": 1}
    assert report.first_rejects[0]["line"] == 2 and "'1,234.5'" in report.first_rejects[0]["detail"]


def test_scientific_notation_is_exact(warehouse, write):
    text = (
        f"{HEADER}\ndeposit,2024-03-01 10:00:00,,,,,1.5E-7,,SHIB,,,,\n"
        "deposit,2024-03-01 10:00:01,,,,,2e3,,SHIB,,,,\n"
    )
    import_csv(warehouse, account(), write("sci.csv", text))
    assert sorted(r["amount"] for r in warehouse.rows(transfers, "acc")) == [Decimal("1.5E-7"), Decimal(2000)]


def test_spreadsheet_dates_are_rejected_with_their_line_not_guessed(warehouse, write):
    text = (
        f"{HEADER}\ntrade,01/03/2024 10:00,,BTC/USDT,buy,50000,0.01,500,,0.5,USDT,,\n"
        + GOOD.split("\n", 1)[1]
    )
    report = import_csv(warehouse, account(), write("excel.csv", text))
    assert report.rejected == {"bad_time": 1} and report.stored["trades"] == 1
    [reject] = rejects(warehouse.engine, "acc")
    assert reject["line"] == 2 and "spreadsheet" in reject["detail"]
    assert reject["raw"][1] == "01/03/2024 10:00"


def test_extra_columns_are_ignored_and_missing_values_rejected(warehouse, write):
    text = (
        f"{HEADER},exported_by\n"
        "trade,2024-03-01 10:00:00,,BTC/USDT,buy,50000,0.01,500,,0.5,USDT,,,me\n"
        "trade,2024-03-01 10:00:01,,BTC/USDT,buy,,0.01,500,,0.5,USDT,,,me\n"
    )
    report = import_csv(warehouse, account(), write("extra.csv", text))
    assert report.stored["trades"] == 1
    assert report.first_rejects == [
        {"line": 3, "reason": "missing_value", "detail": "column 'price' is empty"}
    ]


def test_a_header_without_a_required_column_is_no_known_format(warehouse, write):
    path = write("missing.csv", "kind,time,currency\ndeposit,2024-03-01 10:00:00,BTC\n")
    with pytest.raises(MalformedFile, match=r"missing\.csv: no known export header.*generic"):
        import_csv(warehouse, account(), path)


def test_blank_lines_keep_line_numbers(warehouse, write):
    text = (
        f"{HEADER}\n\n\ntrade,2024-03-01 10:00:00,,BTC/USDT,buy,50000,0.01,500,,0.5,USDT,,\n"
        "\nbogus,2024-03-01 10:00:00,,,,,1,,BTC,,,,\n"
    )
    report = import_csv(warehouse, account(), write("blank.csv", text))
    assert report.rows_read == 2 and report.stored["trades"] == 1
    assert [(r["line"], r["reason"]) for r in report.first_rejects] == [(6, "unknown_operation")]


def test_a_truncated_last_line_is_rejected_the_rest_imported(warehouse, write):
    text = GOOD + "trade,2024-03-01 10:00:05,,BTC/USDT,buy,5000"  # cut off while copied
    report = import_csv(warehouse, account(), write("cut.csv", text))
    assert report.stored["trades"] == 1
    assert report.first_rejects == [
        {"line": 3, "reason": "truncated_line", "detail": "6 of the header's 13 fields"}
    ]


def test_a_line_with_more_fields_than_the_header_is_rejected(warehouse, write):
    text = GOOD + "trade,2024-03-01 10:00:05,,BTC/USDT,buy,5000,1,2,3,4,5,6,7,8\n"
    report = import_csv(warehouse, account(), write("long.csv", text))
    assert report.rejected == {"extra_fields": 1}


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.csv", b"", "is empty"),
        ("export.xlsx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "not a text file"),
        (
            "latin1.csv",
            (HEADER + "\ndeposit,2024-03-01 10:00:00,,,,,1,,BTC,,,,caf\xe9\n").encode("latin-1"),
            "not UTF-8",
        ),
        ("pipes.csv", HEADER.replace(",", "|").encode(), "no known export header"),
    ],
)
def test_a_file_that_cannot_be_read_changes_nothing(warehouse, write, name, content, problem):
    import_csv(warehouse, account(), write("good.csv", GOOD))
    before = stored(warehouse)
    with pytest.raises(MalformedFile, match=rf"{name}: .*{problem}"):
        import_csv(warehouse, account(), write(name, content))
    assert stored(warehouse) == before
    with warehouse.engine.connect() as conn:
        assert conn.execute(csv_imports.select()).all().__len__() == 1  # only the good file's import


def test_utf16_from_a_spreadsheet_is_read(warehouse, write):
    report = import_csv(warehouse, account(), write("utf16.csv", GOOD.encode("utf-16")))
    assert report.stored["trades"] == 1


def test_rows_before_history_start_are_rejected(warehouse, write):
    text = (
        f"{HEADER}\ndeposit,2023-12-31T23:59:59Z,,,,,1,,BTC,,,,\n"
        "deposit,2024-01-01T01:00:00+01:00,,,,,1,,BTC,,,,\n"
    )
    report = import_csv(warehouse, account(), write("old.csv", text))
    # 01:00+01:00 is midnight UTC: inside; 23:59:59Z the day before: outside.
    assert report.stored["transfers"] == 1 and report.rejected == {"outside_history_window": 1}

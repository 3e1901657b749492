"""Show how well the generic layer reads exchanges without a knowledge file, per set and exchange,
whenever the corpus tests ran (the assertion only says whether it is good enough)."""

from __future__ import annotations

from tests.diagnosis.accuracy import HELD_OUT, TUNING, load, measure, report


def pytest_terminal_summary(terminalreporter) -> None:
    ran = any(
        "test_generic_layer_names_the_cause" in report_.nodeid
        for reports in terminalreporter.stats.values()
        for report_ in reports
        if hasattr(report_, "nodeid")
    )
    if not ran:
        return
    terminalreporter.section("generic diagnosis accuracy")
    for title, folder in (
        ("tuning set (corpus/generic)", TUNING),
        ("held-out set (corpus/held_out)", HELD_OUT),
    ):
        terminalreporter.write_line(report(title, measure(load(folder))))

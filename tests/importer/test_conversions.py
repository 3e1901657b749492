"""The conversions stream (Binance Convert, GET /sapi/v1/convert/tradeFlow): every convert order
stored once, as its two ledger rows, however many a 30-day window holds; read again, nothing
changes. Only Binance has the stream (the others list conversions in their ledgers)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import ccxt
import pytest

from exchange_sync import streams
from exchange_sync.importer.paging import NarrowingWindows, StreamRun, to_ms
from exchange_sync.importer.rows import conversion_rows
from exchange_sync.importer.run import run_account_import
from exchange_sync.profiles import PROFILES
from exchange_sync.warehouse.schema import ledger
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.importer.conftest import SMALL, account_config, requests_of

CONVERT_PATH = "/binance/sapi/v1/convert/tradeFlow"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_only_binance_has_a_conversions_stream():
    assert [name for name, p in PROFILES.items() if streams.CONVERSIONS in p.sources] == ["binance"]


def test_a_window_with_more_converts_than_a_page_is_read_whole_and_once(
    make_sim_account, connect, warehouse, simulator
):
    """1,002 converts 1 ms apart in one window: a full page (1,000, moreData) then the rest, asked
    for with the window ending at the page's oldest row; that row is read twice, stored once."""
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id)
    run_account_import(config, warehouse)
    made = simulator.add_conversions(account.id, count=1000) + simulator.add_conversions(account.id, count=2)
    seq = simulator.last_seq()
    report = run_account_import(config, warehouse)

    asked = [r for r in requests_of(simulator, account.id, seq) if r["path"] == CONVERT_PATH]
    assert len(asked) == 2 and report["streams"][streams.CONVERSIONS]["rows"] == 2 * len(made) + 2
    stored = warehouse.rows(ledger, account.id)
    assert len(stored) == 2 * len(made)
    assert Counter(r["refid"] for r in stored) == Counter({r["refid"]: 2 for r in stored})
    assert all(r["type"] == "Binance Convert" and r["source"] == "api" for r in stored)
    assert_warehouse_matches(warehouse, account.id, account.history())

    seq = simulator.last_seq()
    run_account_import(config, warehouse)  # the look-back re-reads the last day (both pages)
    assert [r["path"] for r in requests_of(simulator, account.id, seq)].count(CONVERT_PATH) == 2
    assert len(warehouse.rows(ledger, account.id)) == 2 * len(made)


def test_a_first_import_asks_every_30_day_window_once(make_sim_account, connect, warehouse, simulator):
    """startTime and endTime are required and at most 30 days apart: from history_start on, one
    request per window (each UID weight 3000), and no window is asked twice."""
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    seq = simulator.last_seq()
    run_account_import(account_config(account.id), warehouse)
    asked = [r for r in requests_of(simulator, account.id, seq) if r["path"] == CONVERT_PATH]
    days = (datetime.now(UTC) - account_config(account.id).history_start).days
    assert len(asked) == -(-days // 30) or len(asked) == -(-days // 30) + 1
    assert {r["weight"] for r in asked} == {3000}


def _conversion(**info) -> dict:
    record = {
        "id": "940000000000000001",
        "timestamp": to_ms(NOW),
        "fromCurrency": "USDT",
        "fromAmount": "20",
        "toCurrency": "BNB",
        "toAmount": "0.06154036",
        "info": {"orderStatus": "SUCCESS"},
    }
    record.update(info)
    return record


def test_a_conversion_is_its_two_legs_signed_and_exact():
    rows = conversion_rows(_conversion(), "a", "binance", NOW, "Binance Convert")
    assert [(r["ledger_id"], r["currency"], r["amount"], r["refid"]) for r in rows] == [
        ("940000000000000001-from", "USDT", Decimal("-20"), "940000000000000001"),
        ("940000000000000001-to", "BNB", Decimal("0.06154036"), "940000000000000001"),
    ]
    assert {r["occurred_at"] for r in rows} == {NOW}


@pytest.mark.parametrize("status", ["PROCESS", "ACCEPT_SUCCESS", "FAIL"])
def test_an_order_that_did_not_complete_stores_nothing(status):
    """Its balances did not move (yet): the stream's one-day look-back reads it again later."""
    assert conversion_rows(_conversion(info={"orderStatus": status}), "a", "binance", NOW, "x") == []


@pytest.mark.parametrize(
    "change", [{"fromAmount": None}, {"toAmount": "-1"}, {"toAmount": "0"}, {"id": None}, {"timestamp": None}]
)
def test_a_conversion_without_its_facts_is_a_bad_answer(change):
    with pytest.raises(ccxt.BadResponse, match="conversion"):
        conversion_rows(_conversion(**change), "a", "binance", NOW, "x")


def _run(pages: list[tuple[list[int], bool]], asked: list[tuple[int, int]]) -> StreamRun:
    """A run whose fetch serves `pages` (row times in ms, moreData) in turn."""
    answers = iter(pages)
    last: dict = {}

    def fetch(symbol, since, limit, params):
        times, more = next(answers)
        asked.append((since, params["until"]))
        last["answer"] = {"list": times, "moreData": more}
        return [{"occurred_at": datetime.fromtimestamp(t / 1000, UTC), "ledger_id": str(t)} for t in times]

    return StreamRun(
        account_id="a",
        stream=streams.CONVERSIONS,
        fetch=fetch,
        cursor=None,
        start=NOW - timedelta(days=1),
        until=NOW,
        time_of=lambda row: row["occurred_at"],
        id_of=lambda row: row["ledger_id"],
        last_answer=lambda: last["answer"],
    )


def test_narrowing_windows_end_the_next_request_at_the_oldest_row_and_move_the_cursor_last():
    start, end = to_ms(NOW - timedelta(days=1)), to_ms(NOW)
    asked: list[tuple[int, int]] = []
    pages = [([end - 1, end - 5], True), ([end - 5, end - 9], True), ([end - 9], False)]
    found = list(NarrowingWindows(timedelta(days=30), 2, "moreData").pages(_run(pages, asked)))
    assert asked == [(start, end), (start, end - 5), (start, end - 9)]
    assert [p.cursor.synced_until for p in found] == [NOW - timedelta(days=1)] * 2 + [NOW]


def test_a_full_page_within_one_millisecond_does_not_ask_the_same_window_forever():
    start, end = to_ms(NOW - timedelta(days=1)), to_ms(NOW)
    asked: list[tuple[int, int]] = []
    pages = [([end - 3, end - 3], True), ([end - 3, end - 3], True), ([end - 7], False)]
    list(NarrowingWindows(timedelta(days=30), 2, "moreData").pages(_run(pages, asked)))
    assert asked == [(start, end), (start, end - 3), (start, end - 4)]

"""Pages go in rendered once (warehouse/bulk.py: COPY on PostgreSQL, one executemany on SQLite):
what is stored must be exactly what the statement path stores, value for value and byte for byte,
with the same upsert semantics and transactions, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event

from exchange_sync import streams
from exchange_sync.warehouse import Cursor, Warehouse, bulk
from exchange_sync.warehouse.schema import ledger, trades, transfers

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
AWKWARD = ["plain", "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "quote'\"", "ünï©ødé", ""]
AMOUNTS = ["98765432.12345678", "0.000000000000000001", "1E+3", "-0.0", "12.3400", "-5"]


def trades_page(n: int, tag: str = "") -> list[dict]:
    east = timezone(timedelta(hours=5, minutes=30))
    return [
        {
            "account_id": "acc",
            "symbol": "BTC/USDT",
            "trade_id": f"{tag}{i}",
            "exchange": "binance",
            "order_id": AWKWARD[i % len(AWKWARD)] if i % 7 else None,
            "side": "buy" if i % 2 else "sell",
            "price": Decimal(AMOUNTS[i % len(AMOUNTS)]),
            "amount": Decimal(AMOUNTS[(i + 1) % len(AMOUNTS)]),
            "cost": None if i % 5 == 0 else Decimal(AMOUNTS[(i + 2) % len(AMOUNTS)]),
            "fee_cost": Decimal("0.00000123"),
            "fee_currency": AWKWARD[(i + 3) % len(AWKWARD)],
            "taker_or_maker": None,
            "traded_at": (NOW + timedelta(microseconds=i)).astimezone(east),
            "imported_at": NOW if i % 3 else NOW.replace(microsecond=0),  # times spelled alike
        }
        for i in range(n)
    ]


def stored(warehouse: Warehouse, table=trades) -> list:
    """The rows as the warehouse reads them, and as the database holds them (SQLite compares
    times as strings: their spelling matters)."""
    typed = sorted(warehouse.rows(table, "acc"), key=lambda r: str(sorted(r.items())))
    with warehouse.engine.connect() as conn:
        raw = sorted(tuple(map(repr, row)) for row in conn.exec_driver_sql(f'SELECT * FROM "{table.name}"'))
    return [typed, raw]


PAGE_FROM_ROWS = bulk.BULK_FROM_ROWS


def write_both_ways(url, monkeypatch, write) -> tuple[dict, dict]:
    """`write(warehouse)` once rendered in bulk and once through the statement path."""
    results = []
    for bulk_from in (PAGE_FROM_ROWS, 10**9):  # not bulk.BULK_FROM_ROWS: an earlier call patched it
        monkeypatch.setattr(bulk, "BULK_FROM_ROWS", bulk_from)
        warehouse = Warehouse.open(url)
        try:
            with warehouse.engine.begin() as conn:
                for table in (trades, transfers, ledger):
                    conn.execute(table.delete())
            write(warehouse)
            results.append({t.name: stored(warehouse, t) for t in (trades, transfers, ledger)})
        finally:
            warehouse.close()
    return results[0], results[1]


def test_bulk_stores_exactly_what_the_statement_path_stores(warehouse_url, monkeypatch):
    def write(warehouse):
        cursor = Cursor("acc", streams.TRADES, NOW, scope="BTC/USDT", position="1")
        warehouse.commit_page(streams.TRADES, trades_page(200), cursor)
        changed = [{**row, "side": "sell", "amount": Decimal("1.5")} for row in trades_page(150)]
        warehouse.commit_page(streams.TRADES, changed + trades_page(100, "new-"), cursor)

    by_bulk, by_statement = write_both_ways(warehouse_url, monkeypatch, write)
    assert len(by_bulk["trades"][0]) == 300
    assert by_bulk == by_statement
    row = next(r for r in by_bulk["trades"][0] if r["trade_id"] == "1")
    assert row["order_id"] == "tab\there" and row["amount"] == Decimal("1.5")
    assert row["traded_at"] == NOW + timedelta(microseconds=1) and row["traded_at"].tzinfo == UTC


def test_keep_stored_leaves_stored_rows_and_staging_is_empty_between_upserts(warehouse_url, monkeypatch):
    """Two upserts of one table in one transaction (a ledger page's derived transfers after the
    page's own): the second must not see the first's staged rows."""
    from exchange_sync.warehouse.upsert import upsert

    def transfer(i: int, amount: str) -> dict:
        return {
            "account_id": "acc",
            "kind": "deposit",
            "transfer_id": str(i),
            "exchange": "kraken",
            "currency": "BTC",
            "amount": Decimal(amount),
            "fee": None,
            "network": None,
            "address": AWKWARD[i % len(AWKWARD)],
            "txid": None,
            "status": "ok",
            "occurred_at": NOW,
            "imported_at": NOW,
        }

    def write(warehouse):
        with warehouse.engine.begin() as conn:
            upsert(conn, transfers, [transfer(i, "1") for i in range(100)])
            upsert(conn, transfers, [transfer(i, "2") for i in range(50, 180)], keep_stored=True)

    by_bulk, by_statement = write_both_ways(warehouse_url, monkeypatch, write)
    assert by_bulk == by_statement
    amounts = {r["transfer_id"]: r["amount"] for r in by_bulk["transfers"][0]}
    assert len(amounts) == 180 and amounts["60"] == Decimal("1") and amounts["170"] == Decimal("2")

    def write_twice_updating(warehouse):
        # Both upserts update: with the first page still staged, the second's merge would meet
        # rows 50-99 twice ("ON CONFLICT DO UPDATE command cannot affect row a second time").
        with warehouse.engine.begin() as conn:
            upsert(conn, transfers, [transfer(i, "1") for i in range(100)])
            upsert(conn, transfers, [transfer(i, "3") for i in range(50, 180)])

    by_bulk, by_statement = write_both_ways(warehouse_url, monkeypatch, write_twice_updating)
    assert by_bulk == by_statement
    amounts = {r["transfer_id"]: r["amount"] for r in by_bulk["transfers"][0]}
    assert amounts["10"] == Decimal("1") and amounts["60"] == Decimal("3") and amounts["170"] == Decimal("3")


def test_a_failed_page_leaves_nothing_and_the_next_page_goes_in(warehouse_url):
    warehouse = Warehouse.open(warehouse_url)
    try:
        connections = set()
        event.listen(warehouse.engine, "checkout", lambda dbapi, record, proxy: connections.add(id(dbapi)))
        cursor = Cursor("acc", streams.TRADES, NOW, scope="BTC/USDT", position="1")
        bad = trades_page(100, "bad-")
        bad[40]["side"] = None  # NOT NULL in trades (not in PostgreSQL's staging table): the INSERT fails
        with pytest.raises(Exception, match="side"):
            warehouse.commit_page(streams.TRADES, bad, cursor)
        warehouse.commit_page(streams.TRADES, trades_page(100), cursor)
        ids = sorted(r["trade_id"] for r in warehouse.rows(trades, "acc"))
        assert ids == sorted(str(i) for i in range(100))
        assert warehouse.cursor("acc", streams.TRADES, "BTC/USDT").position == "1"
        if warehouse.engine.dialect.name == "postgresql":
            assert len(connections) == 1  # the same session (and staging table) both times
    finally:
        warehouse.close()


@pytest.mark.postgres
def test_postgresql_copies_new_pages_straight_in_and_merges_pages_of_stored_rows(postgres_url):
    """A page of new rows needs no merge (the fast path, about half the server time); a page with
    one stored row among new ones must still update that row and insert the rest, all in the
    page's transaction."""
    warehouse = Warehouse.open(postgres_url)
    try:
        staged = "SELECT to_regclass('pg_temp.es_stage_trades') IS NOT NULL"
        cursor = Cursor("acc", streams.TRADES, NOW, scope="BTC/USDT", position="1")
        with warehouse.engine.begin() as conn:
            conn.execute(trades.delete())
        warehouse.commit_page(streams.TRADES, trades_page(100), cursor)
        with warehouse.engine.connect() as conn:
            assert conn.exec_driver_sql(staged).scalar() is False  # nothing was merged
        overlapping = trades_page(100, "new-")
        overlapping[99] = {**trades_page(100)[7], "side": "sell", "amount": Decimal("2.5")}
        later = Cursor("acc", streams.TRADES, NOW, "BTC/USDT", "2")
        warehouse.commit_page(streams.TRADES, overlapping, later)
        with warehouse.engine.connect() as conn:
            assert conn.exec_driver_sql(staged).scalar() is True
        rows = {r["trade_id"]: r for r in warehouse.rows(trades, "acc")}
        assert len(rows) == 199
        assert rows["7"]["side"] == "sell" and rows["7"]["amount"] == Decimal("2.5")
        assert warehouse.cursor("acc", streams.TRADES, "BTC/USDT").position == "2"
    finally:
        warehouse.close()


def test_a_naive_time_is_refused_as_the_statement_path_refuses_it(warehouse_url):
    warehouse = Warehouse.open(warehouse_url)
    try:
        page = trades_page(100)
        page[3]["traded_at"] = datetime(2026, 1, 1)
        with pytest.raises(ValueError, match="naive datetime"):
            warehouse.commit_page(streams.TRADES, page, Cursor("acc", streams.TRADES, NOW, scope="BTC/USDT"))
        assert warehouse.rows(trades, "acc") == []
    finally:
        warehouse.close()

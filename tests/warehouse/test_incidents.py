"""Incidents, the outbox and key history on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from exchange_sync.warehouse import Warehouse
from exchange_sync.warehouse.migrations import LATEST_VERSION, current_version
from exchange_sync.warehouse.outbox import Message

NOW = datetime.now(UTC).replace(microsecond=0)


def fields(account_id: str = "alice", **overrides) -> dict:
    values = {
        "account_id": account_id,
        "exchange": "binance",
        "conn_id": f"conn_{account_id}",
        "cause": "key_revoked",
        "candidates": ["key_revoked"],
        "title": "The Binance API key was deleted or revoked",
        "remediation": "Create a new key.",
        "evidence": {"http_status": 401, "code": "-2015"},
        "key_fingerprint": "ABCD…123",
        "stale_since": NOW - timedelta(hours=2),
        "last_good_cursors": {"trades": (NOW - timedelta(hours=2)).isoformat()},
    }
    return {**values, **overrides}


def messages_for(incident) -> list[Message]:
    return [
        Message(
            f"incident-{incident.id}:alert:t",
            incident.account_id,
            "alert",
            "t",
            "alert",
            "b",
            NOW,
            incident.id,
        ),
        Message(
            f"incident-{incident.id}:reminder-1:t",
            incident.account_id,
            "reminder",
            "t",
            "r1",
            "b",
            NOW + timedelta(days=1),
            incident.id,
        ),
    ]


def test_one_open_incident_per_account(warehouse):
    first, created = warehouse.incidents.open(fields(), messages_for)
    again, created_again = warehouse.incidents.open(fields(cause="ip_not_allowed"), messages_for)
    assert created and not created_again
    assert again.id == first.id and again.cause == "key_revoked"
    # Its messages were queued once, with the incident.
    assert [m["kind"] for m in warehouse.outbox.messages("alice")] == ["alert", "reminder"]
    other, created_other = warehouse.incidents.open(fields("bob"), messages_for)
    assert created_other and other.id != first.id


def test_closing_cancels_reminders_and_queues_the_closing_message(warehouse):
    incident, _ = warehouse.incidents.open(fields(), messages_for)
    recovered = [
        Message(f"incident-{incident.id}:recovered:t", "alice", "recovered", "t", "ok", "b", NOW, incident.id)
    ]
    closed = warehouse.incidents.close(incident.id, "recovered", recovered, backfilled_rows=12)
    assert (closed.state, closed.resolution, closed.backfilled_rows) == ("closed", "recovered", 12)
    assert warehouse.incidents.open_for("alice") is None
    rows = {m["kind"]: m for m in warehouse.outbox.messages("alice")}
    assert rows["reminder"]["cancelled_at"] is not None
    assert rows["recovered"]["cancelled_at"] is None
    # A new incident may open once the old one is closed.
    assert warehouse.incidents.open(fields(), messages_for)[1]


def test_outbox_claims_each_due_message_once_and_retries_failures(warehouse):
    warehouse.incidents.open(fields(), messages_for)
    (claimed,) = warehouse.outbox.claim_due(now=NOW)
    assert claimed.kind == "alert"
    assert warehouse.outbox.claim_due(now=NOW) == []  # claimed: no second deliverer gets it
    warehouse.outbox.mark_failed(claimed.id, claimed.attempts, "HTTP 500")
    assert warehouse.outbox.claim_due(now=NOW) == []  # retried later, not at once
    (retry,) = warehouse.outbox.claim_due(now=datetime.now(UTC) + timedelta(minutes=2))
    assert (retry.id, retry.attempts) == (claimed.id, 2)
    warehouse.outbox.mark_sent(retry.id)
    later = warehouse.outbox.claim_due(now=NOW + timedelta(days=30))
    assert [m.kind for m in later] == ["reminder"]  # the sent alert never comes back


def test_key_history_keeps_every_version(warehouse):
    warehouse.keys.worked("alice", "OLD1…aaa", exchange_uid="10001")
    warehouse.keys.failed("alice", "OLD1…aaa", "key_revoked")
    warehouse.keys.worked("alice", "NEW2…bbb", exchange_uid="10001")
    old, new = warehouse.keys.versions("alice")
    assert old["fingerprint"] == "OLD1…aaa" and old["failure_cause"] == "key_revoked"
    assert old["replaced_at"] is not None and new["replaced_at"] is None
    assert new["last_ok_at"] is not None and new["exchange_uid"] == "10001"


def test_freeze_and_identity(warehouse):
    warehouse.accounts.remember_uid("alice", "binance", "10001")
    warehouse.accounts.remember_uid("alice", "binance", "99999")  # the first identity stays
    warehouse.accounts.freeze("alice", "binance", "closing the account")
    state = warehouse.accounts.get("alice")
    assert state.frozen and state.exchange_uid == "10001" and state.frozen_reason == "closing the account"
    warehouse.accounts.unfreeze("alice", "binance")
    assert not warehouse.accounts.get("alice").frozen


def _migrated_from(warehouse_url: str, version: int, tables: list, fill) -> Warehouse:
    """A warehouse of an earlier `version` (its `tables` as they were, `fill`ed with data), opened
    and so migrated to the latest version."""
    from exchange_sync.warehouse.engine import make_engine
    from exchange_sync.warehouse.migrations import _version_meta, schema_version

    engine = make_engine(warehouse_url)
    with engine.begin() as conn:
        for table in tables:
            table.create(conn)
        _version_meta.create_all(conn)
        conn.execute(schema_version.insert().values(version=version, applied_at=NOW))
        fill(conn)
    engine.dispose()
    warehouse = Warehouse.open(warehouse_url)
    with warehouse.engine.connect() as conn:
        assert current_version(conn) == LATEST_VERSION
    return warehouse


def test_version_1_warehouse_is_migrated(warehouse_url):
    """A warehouse created before incidents existed gains the new tables and keeps its data."""
    from exchange_sync.warehouse import schema

    version_1 = [
        schema.trades,
        schema.transfers,
        schema.balance_snapshots,
        schema.cursors,
        schema.account_sync,
    ]

    def fill(conn) -> None:
        conn.execute(
            text("INSERT INTO cursors VALUES ('a', 'trades', 'X/Y', '5', :t, :t)"),
            {"t": NOW.replace(tzinfo=None)},
        )

    warehouse = _migrated_from(warehouse_url, 1, version_1, fill)
    assert warehouse.incidents.open_for("a") is None
    assert warehouse.cursor("a", "trades", "X/Y").position == "5"
    warehouse.close()


def _today_but(*names: str) -> list:
    from exchange_sync.warehouse import schema

    return [t for name, t in schema.metadata.tables.items() if name not in names]


def _old_key(table) -> object:
    return lambda conn: conn.execute(
        table.insert().values(account_id="a", fingerprint="OLD1…aaa", first_used_at=NOW, last_used_at=NOW)
    )


def test_version_3_warehouse_gains_key_facts_and_keeps_its_key_history(warehouse_url):
    from sqlalchemy import MetaData, Table

    from exchange_sync.warehouse import schema

    old = MetaData()  # version 3's key_versions: today's without the key facts
    key_versions_3 = Table(
        "key_versions",
        old,
        *(c._copy() for c in schema.key_versions.columns if c.name not in ("facts", "facts_read_at")),
    )
    assert [c.name for c in key_versions_3.columns][-1] == "exchange_uid"
    tables = [*_today_but("key_versions", "market_lists", "rate_budgets"), key_versions_3]
    warehouse = _migrated_from(warehouse_url, 3, tables, _old_key(key_versions_3))
    (version,) = warehouse.keys.versions("a")
    assert (version["fingerprint"], version["facts"], version["facts_read_at"]) == ("OLD1…aaa", None, None)
    warehouse.close()


def test_version_4_warehouse_gains_shared_market_lists_and_budgets(warehouse_url):
    from exchange_sync.warehouse import schema

    tables = _today_but("market_lists", "rate_budgets")
    warehouse = _migrated_from(warehouse_url, 4, tables, _old_key(schema.key_versions))
    assert warehouse.keys.versions("a")[0]["fingerprint"] == "OLD1…aaa"
    assert warehouse.clients.market_list("binance", "") is None
    warehouse.clients.store_market_list("binance", "", {"BTC/USDT": {"id": "BTCUSDT"}}, {}, {})
    assert warehouse.clients.market_list("binance", "").markets == {"BTC/USDT": {"id": "BTCUSDT"}}
    assert warehouse.clients.reserve("binance", "", 1.0) == 0
    warehouse.close()

"""Coverage per stream: which windows of the history are imported and which are gaps, and that
`exchange-sync status` carries it with the reconciliation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from textwrap import dedent

from exchange_sync import streams
from exchange_sync.cli import main
from exchange_sync.importer.run import run_account_import
from exchange_sync.profiles import get_profile
from exchange_sync.reconcile import account_coverage, reconcile_account
from exchange_sync.status import account_status
from exchange_sync.warehouse.schema import balance_snapshots
from tests.importer.conftest import HISTORY_START, SMALL, account_config
from tests.reconcile.ledger_truth import split_at


def _first_import(warehouse, account_id: str) -> datetime:
    return min(r["taken_at"] for r in warehouse.rows(balance_snapshots, account_id))


def test_okx_retention_is_a_gap_that_explains_the_difference(make_sim_account, connect, warehouse):
    """OKX's API keeps 90 days of fills and bills: a 200-day history imported by API misses its
    first 110 days, which coverage names, and which is exactly each asset's balance before them."""
    account = make_sim_account("okx", **SMALL)
    connect(f"conn_{account.id}", account.id, exchange="okx")
    config = account_config(account.id, "okx")
    run_account_import(config, warehouse)
    truth = account.history()
    served = get_profile("okx").served_from(streams.LEDGER, _first_import(warehouse, account.id))
    assert served - _first_import(warehouse, account.id) < -timedelta(days=89)

    found = account_coverage(warehouse, config)
    for stream in (streams.TRADES, streams.LEDGER):
        info = found["streams"][stream]
        assert info["retention_days"] == 90 and info["api_served_from"] == served.isoformat()
        assert info["gaps"] == [
            {"from": HISTORY_START.isoformat(), "to": served.isoformat(), "reason": "retention"}
        ]
        assert info["covered"] == [{"from": served.isoformat(), "to": info["synced_until"]}]
    for stream in (streams.DEPOSITS, streams.WITHDRAWALS):  # served in full
        assert found["streams"][stream]["gaps"] == []
        assert found["streams"][stream]["covered"][0]["from"] == HISTORY_START.isoformat()

    # The difference per asset is its balance when the API's window begins (the last entry
    # before it says so), dated at the asset's first entry inside the window.
    expected, inside = split_at(truth["ledger"], served)
    report = reconcile_account(warehouse, config, found)
    assert expected and not report["balanced"]
    differing = {a["asset"]: a for a in report["assets"] if a["asset"] in report["differences"]}
    assert {asset: Decimal(a["difference"]) for asset, a in differing.items()} == expected
    for asset, entry in differing.items():
        assert (entry["since"], entry["since_evidence"]) == (inside[asset].isoformat(), "ledger balance")
    assert {(g["stream"], g["reason"]) for g in report["gaps"]} == {
        (streams.TRADES, "retention"),
        (streams.LEDGER, "retention"),
    }


def test_a_frozen_account_and_an_open_incident_show_their_gap(make_sim_account, connect, warehouse):
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id)
    run_account_import(config, warehouse)
    healthy = account_status(config, warehouse)["coverage"]["streams"]
    assert all(info["gaps"] == [] for info in healthy.values()), healthy

    warehouse.accounts.freeze(account.id, "binance", "closing it")
    frozen = account_status(config, warehouse)["coverage"]["streams"]
    for stream, info in frozen.items():
        (gap,) = info["gaps"]
        assert (gap["from"], gap["reason"]) == (info["synced_until"], "frozen"), stream
        assert datetime.fromisoformat(gap["to"]) - datetime.now(UTC) < timedelta(seconds=5)

    warehouse.accounts.unfreeze(account.id, "binance")
    fields = {
        "account_id": account.id,
        "exchange": "binance",
        "conn_id": config.conn_id,
        "cause": "key_revoked",
        "candidates": ["key_revoked"],
        "title": "The API key was revoked",
        "remediation": "Create a new key",
        "evidence": {},
        "key_fingerprint": None,
        "stale_since": datetime.now(UTC),
        "last_good_cursors": {},
    }
    warehouse.incidents.open(fields, lambda incident: [])
    broken = account_status(config, warehouse)["coverage"]["streams"]
    for info in broken.values():
        (gap,) = info["gaps"]
        assert (gap["from"], gap["reason"], gap["detail"]) == (
            info["synced_until"],
            "incident",
            "key_revoked",
        )


def test_a_stream_never_imported_is_a_gap_from_the_history_start(make_sim_account, connect, warehouse):
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id, streams=(streams.BALANCES, streams.TRADES, streams.DEPOSITS))
    run_account_import(config, warehouse)
    found = account_coverage(warehouse, config)["streams"]
    (gap,) = found[streams.WITHDRAWALS]["gaps"]
    assert (gap["from"], gap["reason"]) == (HISTORY_START.isoformat(), "not_imported")
    assert found[streams.WITHDRAWALS]["imported"] is False and found[streams.WITHDRAWALS]["rows"] == {}
    assert found[streams.DEPOSITS]["rows"]["api"]["rows"] == len(account.history()["deposits"])


def test_status_json_and_table_carry_reconciliation_and_coverage(
    make_sim_account, connect, warehouse, simulator, tmp_path, capsys
):
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    registry = tmp_path / "accounts.yaml"
    registry.write_text(
        dedent(
            f"""
            defaults: {{history_start: {HISTORY_START.date()}}}
            accounts:
              - {{id: {account.id}, exchange: binance, conn_id: conn_{account.id}}}
            """
        )
    )
    run_account_import(account_config(account.id), warehouse)
    (conversion,) = simulator.add_conversions(account.id, kind="dust")  # no API stream lists dust
    run_account_import(account_config(account.id), warehouse)

    assert main(["status", "--json", "--registry", str(registry)]) == 0
    (shown,) = json.loads(capsys.readouterr().out)["accounts"]
    found = shown["reconciliation"]
    assert found["basis"] == "trades_and_transfers" and found["balanced"] is False
    assert set(found["differences"]) == {conversion["from_currency"], conversion["to_currency"]}
    by_asset = {a["asset"]: a for a in found["assets"]}
    assert by_asset[conversion["from_currency"]]["difference"] == f"-{conversion['from_amount']}"
    assert by_asset[conversion["to_currency"]]["difference"] == conversion["to_amount"]
    assert set(shown["coverage"]["streams"]) == {
        streams.TRADES,
        streams.DEPOSITS,
        streams.WITHDRAWALS,
        streams.CONVERSIONS,
    }
    assert shown["coverage"]["history_start"] == HISTORY_START.isoformat()

    assert main(["status", "--registry", str(registry)]) == 0
    table = capsys.readouterr().out
    gained = by_asset[conversion["to_currency"]]
    line = (
        f"  {account.id}: {conversion['to_currency']}: reported {gained['reported']}, "
        f"computed {gained['computed']}, differs by {conversion['to_amount']} since {gained['since'][:10]}"
    )
    assert line in table.splitlines()

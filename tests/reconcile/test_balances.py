"""Reconciliation against the simulator: what the exchange reports against what the imported
history computes, per asset, with since when and the first negative running balance."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from unittest.mock import ANY

import pytest

from exchange_sync import streams
from exchange_sync.csv_import.run import import_csv
from exchange_sync.importer.run import run_account_import
from exchange_sync.reconcile import account_coverage, reconcile_account
from exchange_sync.status import account_status
from exchange_sync.warehouse.schema import balance_snapshots, ledger
from tests.fixtures.simulator import every_exchange
from tests.importer.conftest import SMALL, account_config
from tests.reconcile.ledger_truth import split_at, when

# Inside every API's retention (OKX keeps 90 days): a complete API import is the whole history.
WITHIN_RETENTION = SMALL | {"days": 80}


def _by_asset(report: dict) -> dict[str, dict]:
    return {a["asset"]: a for a in report["assets"]}


def _differences(report: dict) -> dict[str, Decimal]:
    differing = [a for a in report["assets"] if a["asset"] in report["differences"]]
    return {a["asset"]: Decimal(a["difference"]) for a in differing}


def _snapshot_times(warehouse, account_id: str) -> list[datetime]:
    return sorted({r["taken_at"] for r in warehouse.rows(balance_snapshots, account_id)})


@every_exchange
def test_a_complete_api_import_reconciles_to_zero(make_sim_account, connect, warehouse, exchange):
    account = make_sim_account(**WITHIN_RETENTION)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id, exchange)
    run_account_import(config, warehouse)
    report = reconcile_account(warehouse, config)
    truth = account.history()

    expected_basis = "ledger" if streams.LEDGER in config.streams else "trades_and_transfers"
    assert report["basis"] == expected_basis
    assert report["balanced"] is True, report["differences"]
    assert report["differences"] == [] and report["negative"] == []
    # Every asset the exchange reports is there, its computed balance exactly the reported one.
    reported = {asset: Decimal(b["free"]) + Decimal(b["locked"]) for asset, b in truth["balances"].items()}
    held = {a["asset"]: Decimal(a["computed"]) for a in report["assets"] if Decimal(a["reported"])}
    assert held == reported
    assert all(a["difference"] == "0" and a["since"] is None for a in report["assets"])


def test_a_stream_left_out_reports_exactly_what_it_moved_and_sincewhen(
    make_sim_account, connect, warehouse, simulator
):
    """Binance withdrawals dropped from the registry after a complete import: the new withdrawals
    are missing from the history, by exactly their amount plus fee per asset, and the difference
    appears between the snapshot that agreed and the one that does not."""
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    run_account_import(account_config(account.id), warehouse)
    before = {w["id"] for w in account.history()["withdrawals"]}
    # New activity ends now and spreads back a second per transfer plus 2 s: let it all fall after
    # the first import's snapshot, as activity after an import does.
    (snapshot,) = _snapshot_times(warehouse, account.id)
    time.sleep(max(0.0, (snapshot - datetime.now(UTC)).total_seconds() + 5.2))
    simulator.add_activity(account.id, withdrawals=3)
    without = tuple(s for s in account_config(account.id).streams if s != streams.WITHDRAWALS)
    config = account_config(account.id, streams=without)
    run_account_import(config, warehouse)

    new = [w for w in account.history()["withdrawals"] if w["id"] not in before]
    missing: dict[str, Decimal] = defaultdict(Decimal)
    for withdrawal in new:
        if withdrawal["status"] not in ("failed", "canceled"):
            missing[withdrawal["currency"]] -= Decimal(withdrawal["amount"]) + Decimal(withdrawal["fee"] or 0)
    assert len(new) == 3 and missing
    report = reconcile_account(warehouse, config)
    assert _differences(report) == missing
    first, second = _snapshot_times(warehouse, account.id)
    assert all(first < when(w["timestamp"]) <= second for w in new)
    for asset in missing:
        entry = _by_asset(report)[asset]
        assert (entry["agreed_until"], entry["since"]) == (first.isoformat(), second.isoformat())
        assert entry["since_evidence"] == "snapshot"


@pytest.mark.parametrize("exchange", ["kraken", "okx"])
def test_a_ledger_with_balances_dates_the_difference_at_its_first_entry(
    make_sim_account, connect, warehouse, exchange
):
    """A history_start after the account's first activity leaves out what was held then: the
    ledger's own balance column shows it from the first imported entry of each asset on."""
    account = make_sim_account(exchange, **WITHIN_RETENTION)
    connect(f"conn_{account.id}", account.id, exchange=exchange)
    truth = account.history()
    start = when(truth["ledger"][len(truth["ledger"]) // 2]["timestamp"])
    config = account_config(account.id, exchange, history_start=start)
    run_account_import(config, warehouse)

    held, first_inside = split_at(truth["ledger"], start)
    report = reconcile_account(warehouse, config)
    assert _differences(report) == held
    for asset in report["differences"]:
        entry = _by_asset(report)[asset]
        assert (entry["since"], entry["since_evidence"]) == (
            first_inside[asset].isoformat(),
            "ledger balance",
        )
    assert report["history_start"] == start.isoformat()


def test_binance_converts_come_from_the_api_and_dust_is_reported_with_its_amounts_and_time(
    make_sim_account, connect, warehouse, simulator
):
    """Convert and dust are neither trades nor transfers. Binance's API lists converts
    (convert/tradeFlow: the conversions stream), so they reconcile; dust reaches no API stream
    here, so the report shows exactly what it moved, and since when."""
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id)
    assert streams.CONVERSIONS in config.streams
    run_account_import(config, warehouse)
    assert reconcile_account(warehouse, config)["balanced"]
    converts = simulator.add_conversions(account.id, count=2)
    dust = simulator.add_conversions(account.id, kind="dust")
    run_account_import(config, warehouse)

    assert account.history()["conversions"] == converts + dust
    stored = warehouse.rows(ledger, account.id)
    assert sorted((r["refid"], r["currency"], r["amount"]) for r in stored) == sorted(
        (str(940_000_000_000_000_000 + int(c["id"])), currency, amount)
        for c in converts
        for currency, amount in (
            (c["from_currency"], -Decimal(c["from_amount"])),
            (c["to_currency"], Decimal(c["to_amount"])),
        )
    )
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for conversion in dust:
        expected[conversion["from_currency"]] -= Decimal(conversion["from_amount"])
        expected[conversion["to_currency"]] += Decimal(conversion["to_amount"])
    report = reconcile_account(warehouse, config)
    assert _differences(report) == {asset: amount for asset, amount in expected.items() if amount}
    first, second = _snapshot_times(warehouse, account.id)
    for asset in report["differences"]:
        entry = _by_asset(report)[asset]
        assert (entry["agreed_until"], entry["since"]) == (first.isoformat(), second.isoformat())
    assert all(first < when(c["timestamp"]) <= second for c in converts + dust)
    assert report["gaps"] == []  # every stream covered: a flow no stream returns

    run_account_import(config, warehouse)  # read again: nothing stored twice
    assert len(warehouse.rows(ledger, account.id)) == 2 * len(converts)


def test_conversions_imported_from_a_csv_export_reconcile_to_zero(
    make_sim_account, connect, warehouse, simulator, tmp_path
):
    """The generic template's convert and dust rows: dust (no API stream returns it) is stored as
    ledger rows, the converts are recognised as the conversions stream's rows (their `convert`
    kind is Binance's type for them): the account balances, and coverage shows the CSV rows."""
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id)
    run_account_import(config, warehouse)
    made = simulator.add_conversions(account.id, count=2) + simulator.add_conversions(account.id, kind="dust")
    run_account_import(config, warehouse)
    assert not reconcile_account(warehouse, config)["balanced"]

    lines = ["kind,time,amount,currency"]
    for c in made:
        moment = when(c["timestamp"]).isoformat()
        lines += [f"{c['kind']},{moment},-{c['from_amount']},{c['from_currency']}"]
        lines += [f"{c['kind']},{moment},{c['to_amount']},{c['to_currency']}"]
    export = tmp_path / "conversions.csv"
    export.write_text("\n".join(lines) + "\n")
    imported = import_csv(warehouse, config, export)
    assert (imported.stored["ledger"], imported.rejected) == (2, {"duplicate_of_api": 4})

    report = reconcile_account(warehouse, config)
    assert report["balanced"] is True and report["negative"] == [], report["differences"]
    found = account_coverage(warehouse, config)["streams"]
    other, conversions = found[streams.LEDGER], found[streams.CONVERSIONS]
    assert (other["api"], other["gaps"], other["rows"]["csv"]["rows"]) == (False, [], 2)
    dust_at = when(made[-1]["timestamp"]).isoformat()
    assert other["covered"] == [{"from": dust_at, "to": dust_at}]
    assert (conversions["api"], conversions["gaps"], conversions["rows"]["api"]["rows"]) == (True, [], 4)


def test_binances_transaction_history_export_completes_the_conversions(
    make_sim_account, connect, warehouse, simulator, tmp_path
):
    """The real export (simulator/protocols/binance/exports.py) after an API import: its trade and
    transfer legs are the API's rows again (stored once), its Convert and dust rows are what the
    API never returned, and the account balances."""
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id)
    run_account_import(config, warehouse)
    simulator.add_conversions(account.id, count=2)
    simulator.add_conversions(account.id, kind="dust")
    run_account_import(config, warehouse)
    assert not reconcile_account(warehouse, config)["balanced"]

    export = tmp_path / "transaction_history.csv"
    export.write_bytes(simulator.export(account.id, "transaction_history.csv"))
    import_csv(warehouse, config, export)
    report = reconcile_account(warehouse, config)
    assert report["balanced"] is True and report["negative"] == [], report["differences"]


def test_the_statements_convert_lines_imported_first_give_way_to_the_apis_rows(
    make_sim_account, connect, warehouse, simulator, tmp_path
):
    """The other order: the Transaction History's Convert lines are stored (content ids) before
    the API lists those orders; the API's page then supersedes each, in its own transaction, so
    every convert is stored once, by Binance's order id, and the dust stays from the CSV."""
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id)
    converts = simulator.add_conversions(account.id, count=2)
    simulator.add_conversions(account.id, kind="dust")
    export = tmp_path / "transaction_history.csv"
    export.write_bytes(simulator.export(account.id, "transaction_history.csv"))
    import_csv(warehouse, config, export)
    from_csv = warehouse.rows(ledger, account.id)
    assert {r["type"] for r in from_csv} == {"Binance Convert", "Small Assets Exchange BNB"}

    run_account_import(config, warehouse)
    stored = warehouse.rows(ledger, account.id)
    by_type = Counter((r["type"], r["source"] == "api") for r in stored)
    assert by_type == {("Binance Convert", True): 2 * len(converts), ("Small Assets Exchange BNB", False): 2}
    shown = account_status(config, warehouse)
    assert shown["streams"][streams.CONVERSIONS]["rows"] == 2 * len(converts)  # the dust is not one
    assert shown["coverage"]["streams"][streams.LEDGER]["rows"] == {
        "csv": {"rows": 2, "first": ANY, "last": ANY}
    }
    report = reconcile_account(warehouse, config)
    assert report["balanced"] is True and report["negative"] == [], report["differences"]


def test_a_delisted_markets_trades_differ_until_the_export_brings_them(
    make_sim_account, connect, warehouse, simulator, tmp_path
):
    """Trades the API no longer returns (a delisted market) are missing from an API import: the
    difference is exactly what they moved; Binance's Spot Trade History export completes it."""
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    config = account_config(account.id)
    truth = account.history()
    symbol = min(truth["trades"], key=lambda t: t["timestamp"])["symbol"]
    simulator.delist(account.id, symbol)
    run_account_import(config, warehouse)

    moved: dict[str, Decimal] = defaultdict(Decimal)
    for trade in (t for t in truth["trades"] if t["symbol"] == symbol):
        base, quote = symbol.split("/")
        sign = 1 if trade["side"] == "buy" else -1
        moved[base] += sign * Decimal(trade["amount"])
        moved[quote] -= sign * Decimal(trade["cost"])
        moved[trade["fee_currency"]] -= Decimal(trade["fee"])
    report = reconcile_account(warehouse, config)
    assert _differences(report) == {asset: amount for asset, amount in moved.items() if amount}

    export = tmp_path / "spot_trade_history.csv"  # (the statement's trade legs are not whole trades)
    export.write_bytes(simulator.export(account.id, "spot_trade_history.csv"))
    import_csv(warehouse, config, export)
    assert reconcile_account(warehouse, config)["balanced"] is True


def test_a_negative_running_balance_is_flagged_at_its_first_row(make_sim_account, connect, warehouse):
    """Deposits left out: the history's first trade spends what no imported row brought in."""
    account = make_sim_account(**SMALL)
    connect(f"conn_{account.id}", account.id)
    without = tuple(s for s in account_config(account.id).streams if s != streams.DEPOSITS)
    config = account_config(account.id, streams=without)
    run_account_import(config, warehouse)
    truth = account.history()

    # The first order's fills (one millisecond, one market) all spend the same asset.
    start = min(t["timestamp"] for t in truth["trades"])
    fills = {t["id"]: t for t in truth["trades"] if t["timestamp"] == start}
    first = next(iter(fills.values()))
    base, quote = first["symbol"].split("/")
    spent = quote if first["side"] == "buy" else base
    report = reconcile_account(warehouse, config)
    flagged = {n["asset"]: n for n in report["negative"]}
    assert flagged[spent]["table"] == "trades" and flagged[spent]["id"] in fills
    assert flagged[spent]["time"] == when(start).isoformat()
    fill = fills[flagged[spent]["id"]]
    amount = fill["cost"] if fill["side"] == "buy" else fill["amount"]
    fee = Decimal(fill["fee"]) if fill["fee_currency"] == spent else Decimal(0)
    assert Decimal(flagged[spent]["balance"]) == -Decimal(amount) - fee
    # ... and it is the first negative anywhere: nothing goes below zero before the first trade.
    assert min(n["time"] for n in report["negative"]) == flagged[spent]["time"]

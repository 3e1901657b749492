"""Hostile answers: HTTP 200 with a body that is not the endpoint's answer, on every endpoint the
importer calls. Each must fail the run as a transient exchange error (retried, no incident), store
nothing from that answer, move no cursor over it, and the retry must reach ground truth."""

from __future__ import annotations

import re
import traceback

import pytest

from exchange_sync.diagnosis.classify import classify_failure
from exchange_sync.importer.run import AccountImportError, run_account_import
from exchange_sync.warehouse import Warehouse
from exchange_sync.warehouse.schema import balance_snapshots, market_lists
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.fixtures.simulator import ENDPOINTS, every_exchange
from tests.importer.conftest import SMALL, account_config, importer_endpoints, requests_of

VARIANTS = ("empty", "html", "broken_json", "wrong_shape", "empty_object")


@pytest.fixture
def sqlite_warehouse(sqlite_url):
    """The matrix below is about answers, not databases: SQLite only (the fault suite runs both)."""
    with Warehouse.open(sqlite_url) as warehouse:
        yield warehouse


def forget_market_lists(warehouse: Warehouse) -> None:
    """Every import shares the exchange's stored market list (hooks/shared.py): drop it, so the
    market-list endpoint is asked, and its bad answer met, as on an exchange's first import."""
    with warehouse.engine.begin() as conn:
        conn.execute(market_lists.delete())


@every_exchange
@pytest.mark.parametrize("variant", VARIANTS)
def test_bad_200_on_every_endpoint_is_retried_and_never_stored(
    variant, simulator, make_sim_account, connect, sqlite_warehouse, exchange
):
    warehouse = sqlite_warehouse
    endpoints = importer_endpoints(make_sim_account, connect, warehouse, exchange)
    assert len(endpoints) >= 5, endpoints  # balances, markets, trades, deposits, withdrawals
    for path, calls in endpoints.items():
        # Mid-pagination where the endpoint is asked more than once (the 2nd 90-day window, the 2nd
        # symbol, the 2nd page), unless ccxt tolerates a failure of the later call; an account
        # whose history fits one page of it gets the bad answer on its first call instead.
        tolerated = path.endswith(ENDPOINTS[exchange].tolerated)
        for skip in sorted({0 if tolerated else min(calls - 1, 1), 0}, reverse=True):
            account = make_sim_account(**SMALL)
            connect(f"conn_{account.id}", account.id)
            config = account_config(account.id, exchange)
            fault = simulator.add_fault("bad_body", variant=variant, path_contains=path, skip=skip)
            forget_market_lists(warehouse)  # else the import takes the stored one and never asks
            try:
                run_account_import(config, warehouse)
            except AccountImportError as error:
                raised = error
                break
            finally:
                fired = {f["id"]: f["fired"] for f in simulator.request("GET", "/_sim/faults")["faults"]}
                simulator.clear_faults()
            assert skip > 0 and fired[fault["id"]] == 0, f"{path}: a bad answer was stored as data"
        else:
            pytest.fail(f"{path}: the bad answer did not fail the import")
        assert fired[fault["id"]] == 1, f"{path}: the fault did not fire"

        failure = raised.failure
        diagnosis = classify_failure(failure)
        assert (diagnosis.cause, diagnosis.transient) == ("exchange_unavailable", True), (path, failure)
        assert path.removeprefix(f"/{exchange}") in failure.message, failure.message
        if path.endswith(ENDPOINTS[exchange].balances) and skip == 0:  # no snapshot as if it held nothing
            assert warehouse.rows(balance_snapshots, account.id) == []
            assert warehouse.cursor(account.id, "balances") is None

        forget_market_lists(warehouse)
        run_account_import(config, warehouse)  # Airflow's retry
        assert_warehouse_matches(warehouse, account.id, account.history())


def test_a_bad_deposit_window_is_not_skipped_by_later_runs(sim_account, simulator, warehouse):
    """The data-loss case as found (Binance's 90-day windows): one window answered `200 ""` on a
    first import. Before, the window's cursor moved to its end and later runs looked back one
    day: lost for good."""
    config = account_config(sim_account.id)
    deposit_path = "/binance/sapi/v1/capital/deposit/hisrec"
    simulator.add_fault("bad_body", variant="empty", path_contains=deposit_path, skip=1)
    with pytest.raises(AccountImportError):
        run_account_import(config, warehouse)
    cursor = warehouse.cursor(sim_account.id, "deposits")
    first_window_end = min(d["timestamp"] for d in sim_account.history()["deposits"])
    assert cursor is None or cursor.synced_until.timestamp() * 1000 < first_window_end + 91 * 86_400_000
    seq = simulator.last_seq()
    run_account_import(config, warehouse)
    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())
    # The retry re-read the windows from the last good one, not just the last day.
    windows = [r for r in requests_of(simulator, sim_account.id, seq) if deposit_path in r["path"]]
    assert len(windows) >= 3


@pytest.mark.parametrize(
    "record_defect",
    [{"id": None}, {"timestamp": None}, {"amount": "12,5"}],
    ids=["no-id", "no-time", "amount-not-a-number"],
)
def test_a_record_missing_its_id_time_or_amount_is_a_bad_answer(record_defect):
    import ccxt

    from exchange_sync.importer.rows import transfer_row

    deposit = {"id": "D1", "currency": "BTC", "amount": "1.5", "timestamp": 1_700_000_000_000, "info": {}}
    with pytest.raises(ccxt.BadResponse, match=f"'{next(iter(record_defect))}'"):
        transfer_row({**deposit, **record_defect}, "deposit", "a", "binance", None)


@every_exchange
def test_failed_request_tracebacks_carry_no_signature_or_key(
    sim_account, simulator, warehouse, connect, exchange
):
    key = connect(f"conn_{sim_account.id}", sim_account.id)
    simulator.add_fault("drop", path_contains=ENDPOINTS[exchange].balances, account=sim_account.id)
    with pytest.raises(AccountImportError) as raised:
        run_account_import(account_config(sim_account.id, exchange), warehouse)
    printed = "".join(traceback.format_exception(raised.value))
    assert ENDPOINTS[exchange].balances in printed  # the request is still named
    assert not re.search(r"sign(ature)?=(?!<redacted>)", printed)
    for secret in (key["api_key"], key["secret"]):
        assert secret not in printed
        assert secret not in warehouse.account_sync(sim_account.id)["last_error"]
        assert secret not in str(raised.value.failure.to_dict())

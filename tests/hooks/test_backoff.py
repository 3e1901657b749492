"""A 429/418 is waited out inside the import as the exchange asks (hooks/backoff.py), on every
exchange, against the simulator's own rate-limit answers; waits too long for a task fail it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from exchange_sync.hooks.backoff import RateLimitBackoff, retry_after_seconds
from exchange_sync.importer.run import AccountImportError, run_account_import
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.fixtures.simulator import ENDPOINTS, EXCHANGES
from tests.importer.conftest import account_config, requests_of

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# Exchanges whose rate-limit answer is an HTTP 429 with Retry-After. Kraken's is a 200 with an
# error and no wait named; its calls are paced by a model of its counter (hooks/pacing.py).
STATUS_429 = pytest.mark.parametrize(
    "exchange", [e for e in EXCHANGES if ENDPOINTS[e].rate_limit_status == 429]
)


@pytest.fixture
def sqlite_warehouse(sqlite_url):
    """The waits are the client's business: one backend is enough."""
    from exchange_sync.warehouse import Warehouse

    warehouse = Warehouse.open(sqlite_url)
    yield warehouse
    warehouse.close()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-3", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        (None, None),
        ("", None),
        ("soon", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header, seconds):
    assert retry_after_seconds(header, now=NOW) == seconds


def test_only_rate_limit_answers_are_waited_out_and_only_as_long_as_a_task_should_wait():
    policy = RateLimitBackoff(max_wait_s=120, max_total_s=300, max_attempts=4, fallback_s=1)
    assert policy.delay(429, "10", attempt=1, waited=0) == 10
    assert policy.delay(418, "60", attempt=1, waited=0) == 60  # Binance's ban after ignored 429s
    assert policy.delay(503, "10", attempt=1, waited=0) is None  # not a rate limit: Airflow retries
    assert policy.delay(None, None, attempt=1, waited=0) is None  # no answer at all
    assert policy.delay(429, "121", attempt=1, waited=0) is None  # a ban of minutes: fail the task
    assert policy.delay(429, "100", attempt=2, waited=250) is None  # past the total
    assert policy.delay(429, "1", attempt=4, waited=0) is None  # the last attempt was the last
    assert [policy.delay(429, None, attempt=n, waited=0) for n in (1, 2, 3)] == [1, 2, 4]


@STATUS_429
def test_a_429_mid_import_is_waited_out_and_the_import_goes_on(
    sim_account, sqlite_warehouse, simulator, exchange, caplog
):
    warehouse = sqlite_warehouse
    trades_path = ENDPOINTS[exchange].trades
    simulator.add_fault(
        "rate_limit", count=2, skip=1, retry_after=1, account=sim_account.id, path_contains=trades_path
    )
    seq = simulator.last_seq()
    with caplog.at_level(logging.WARNING, logger="exchange_sync.hooks.backoff"):
        report = run_account_import(account_config(sim_account.id, exchange), warehouse)

    assert_warehouse_matches(warehouse, sim_account.id, sim_account.history())
    asked = [r for r in requests_of(simulator, sim_account.id, seq) if trades_path in r["path"]]
    limited = [i for i, r in enumerate(asked) if r["status"] == 429]
    assert len(limited) == 2
    for i in limited:  # each sent again, and not before the exchange said
        assert asked[i + 1]["time"] - asked[i]["time"] >= 1000
    assert asked[limited[-1] + 1]["status"] == 200
    assert "waiting 1.0 s as it asks" in caplog.text
    assert report["requests"] >= len(asked)


@STATUS_429
def test_a_rate_limit_longer_than_a_task_waits_fails_the_import_at_once(
    sim_account, sqlite_warehouse, simulator, exchange
):
    warehouse = sqlite_warehouse
    simulator.add_fault(
        "rate_limit",
        count=1,
        retry_after=3600,
        account=sim_account.id,
        path_contains=ENDPOINTS[exchange].trades,
    )
    with pytest.raises(AccountImportError) as failed:
        run_account_import(account_config(sim_account.id, exchange), warehouse)
    assert failed.value.failure.http_status == 429

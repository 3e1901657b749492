"""The Connections page in a real headless browser (Debian's chromium, driven by Playwright),
served by Airflow's own API server app under SimpleAuthManager. Slow: each test runs once."""

from __future__ import annotations

import os
import re
import time
from decimal import Decimal

import pytest

from exchange_sync.airflow_connections import find_connection
from exchange_sync.warehouse.schema import ledger
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.recovery.conftest import make_world
from tests.ui.browser import browser_page, log_in, row, serve, wait_for_state

pytestmark = pytest.mark.browser
DOCS = os.environ.get("EXCHANGE_SYNC_SCREENSHOTS")  # a folder: write the README's screenshots there


@pytest.fixture(scope="module")
def live(airflow_app):
    with serve(airflow_app) as server:
        yield server


@pytest.fixture
def world(request, airflow_db, make_sim_account, simulator, receiver, tmp_path, monkeypatch):
    """On SQLite; a test parametrized with `world` = "postgres" (indirect) runs on PostgreSQL too,
    which skips without EXCHANGE_SYNC_TEST_PG_URL."""
    warehouse_url = request.getfixturevalue(f"{getattr(request, 'param', 'sqlite')}_url")
    world = make_world(make_sim_account, simulator, receiver, tmp_path, monkeypatch, warehouse_url)
    yield world
    world.warehouse.close()


# The end-to-end test once per warehouse; the others on SQLite only (the page's API tests cover both).
BOTH_WAREHOUSES = pytest.mark.parametrize(
    "world", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def connection_of(world) -> tuple:
    conn = find_connection(world.conn_id)
    return conn.login, conn.password, conn.extra


@BOTH_WAREHOUSES
def test_broken_key_to_fix_it_to_healthy(live, world, auth_users, make_sim_account):
    """Log in as the admin, see the account healthy; revoke its key, run the DAG, see the cause
    and since when; Fix it refuses a wrong secret, another account's key and a key that cannot
    read (the connection unchanged), saves a good one; the waiting recovery notices it at once,
    backfills the gap, the row turns healthy and the recovered message arrives."""
    from playwright.sync_api import expect

    account = world.account_id
    assert world.run_exchange_dag().state == "success"
    with browser_page(live.url) as page:
        log_in(page, "admin", auth_users["admin"])
        wait_for_state(page, account, "healthy")
        fingerprint = row(page, account).locator("[data-field=fingerprint]")
        expect(fingerprint).to_contain_text(world.key["api_key"][:4])

        world.simulator.key_action(world.key["api_key"], "revoke")
        world.simulator.add_activity(world.account_id, trades=4, deposits=1)
        assert world.run_exchange_dag().state == "failed"
        (incident,) = world.warehouse.incidents.history(account)
        page.get_by_role("button", name="Refresh").click()
        wait_for_state(page, account, "waiting for keys")
        expect(row(page, account).locator("[data-field=cause]")).to_contain_text("deleted or revoked")
        expect(row(page, account).locator("[data-field=since]")).to_contain_text(
            f"{incident.opened_at:%Y-%m-%d %H:%M}"
        )
        if DOCS:
            page.screenshot(path=f"{DOCS}/connections-board.png", full_page=True)
        # The notification's Fix it link lands on this row and form.
        assert f"/exchange-sync/?account={account}#fix" in world.messages()[0]["message"]
        page_html = page.content()

    stranger = make_sim_account(trades=5, symbols=1)
    before = connection_of(world)
    outcomes: dict[str, str] = {}

    def fix_it_in_the_browser() -> None:
        # In the recovery's helper thread: the trigger is waiting in line; this thread has its own
        # Playwright (the sync API belongs to the thread that started it).
        with browser_page(live.url) as page:
            log_in(page, "admin", auth_users["admin"], then=f"/exchange-sync/?account={account}")
            page.goto(f"/exchange-sync/?account={account}#fix")
            dialog = page.locator("#fix-dialog")
            expect(dialog).to_be_visible()
            assert page.locator("#fix-api_key").input_value() == ""  # never pre-filled
            assert page.locator("#fix-secret").input_value() == ""
            good = world.new_key()
            attempts = {
                "wrong secret": {"api_key": good["api_key"], "secret": "f" * 64},
                "another account": world.new_key(stranger.id),
                "no reading": world.new_key(permissions=[]),
            }
            for name, key in attempts.items():
                page.locator("#fix-api_key").fill(key["api_key"])
                page.locator("#fix-secret").fill(key["secret"])
                page.get_by_role("button", name="Save and change").click()
                expect(page.locator("#fix-result.error")).to_be_visible()
                expect(page.locator("#fix-save")).to_be_enabled()
                outcomes[name] = page.locator("#fix-result").inner_text()
                assert connection_of(world) == before, name
                assert page.locator("#fix-secret").input_value() == ""  # not kept after a refusal
            if DOCS:  # the form after the last refusal, without any key in it
                page.locator("#fix-api_key").fill("")
                page.screenshot(path=f"{DOCS}/connections-fix-it.png")
            page.locator("#fix-api_key").fill(good["api_key"])
            page.locator("#fix-secret").fill(good["secret"])
            page.get_by_role("button", name="Save and change").click()
            expect(page.locator("#fix-result")).to_contain_text("Saved")
            outcomes["saved"] = page.locator("#fix-result").inner_text()
            assert connection_of(world)[:2] == (good["api_key"], good["secret"])
            world.key = good
            for key in (good, *attempts.values()):
                assert key["secret"] not in page.content()

    started = time.monotonic()
    recovery = world.run_recovery(incident.id, while_waiting=fix_it_in_the_browser)
    assert recovery.state == "success", outcomes
    assert "secret does not match" in outcomes["wrong secret"]
    assert "another Binance account" in outcomes["another account"]
    assert "Enable Reading" in outcomes["no reading"]
    assert "Saved" in outcomes["saved"]
    assert time.monotonic() - started < 120
    closed = world.warehouse.incidents.get(incident.id)
    assert (closed.state, closed.resolution) == ("closed", "recovered")
    assert_warehouse_matches(world.warehouse, account, world.history())
    assert "Recovered" in world.messages()[-1]["title"]
    with browser_page(live.url) as page:
        log_in(page, "admin", auth_users["admin"])
        wait_for_state(page, account, "healthy")
        expect(row(page, account).locator("[data-field=last-gap]")).to_contain_text(
            f"{closed.backfilled_rows} rows backfilled"
        )
        # The row links to this account's own recovery run in Airflow.
        recovery_link = row(page, account).locator(f"[data-field=runs] a[data-run='{recovery.run_id}']")
        recovery_page = re.compile(r"^/dags/exchange_sync_binance_recovery/runs/")
        expect(recovery_link).to_have_attribute("href", recovery_page)
    assert world.key["secret"] not in page_html


def test_freeze_unfreeze_retry_and_upload_csv_from_the_page(live, world, auth_users, tmp_path):
    from airflow.models import DagRun
    from airflow.utils.session import create_session
    from playwright.sync_api import expect

    account = world.account_id
    assert world.run_exchange_dag().state == "success"  # also puts the DAGs into Airflow's database
    with browser_page(live.url) as page:
        log_in(page, "admin", auth_users["admin"])
        wait_for_state(page, account, "healthy")
        row(page, account).get_by_role("button", name="Freeze").click()
        page.locator("#freeze-reason").fill("closing the account")
        page.get_by_role("button", name="Freeze", exact=True).last.click()
        wait_for_state(page, account, "frozen")
        expect(row(page, account).locator("[data-field=cause]")).to_contain_text("closing the account")
        assert world.warehouse.accounts.get(account).frozen_reason == "closing the account"

        row(page, account).get_by_role("button", name="Unfreeze").click()
        wait_for_state(page, account, "healthy")
        assert not world.warehouse.accounts.get(account).frozen

        row(page, account).get_by_role("button", name="Retry now").click()
        expect(page.locator("#notice")).to_contain_text("An import of every binance account started")
        with create_session() as session:
            runs = session.query(DagRun).filter(DagRun.dag_id == "exchange_sync_binance").all()
        assert any(r.run_id.startswith(f"manual__retry-{account}") for r in runs)

        # Upload CSV: the file is imported, and a bad line is named with its number.
        export = tmp_path / "my-export.csv"
        export.write_text(
            "kind,time,amount,currency\nreward,2024-05-01 00:00:00,0.25,BNB\nreward,yesterday,1,BNB\n"
        )
        row(page, account).get_by_role("button", name="Upload CSV").click()
        page.set_input_files("#csv-file", str(export))
        page.locator("#csv-import").click()
        expect(page.locator("#csv-result")).to_contain_text(
            "my-export.csv (generic): 2 lines read; stored 1 ledger"
        )
        expect(page.locator("#csv-result")).to_contain_text("line 3: bad_time")
        [entry] = [r for r in world.warehouse.rows(ledger, account) if r["source"].startswith("csv:")]
        assert (entry["currency"], entry["amount"]) == ("BNB", Decimal("0.25"))


def test_fix_it_creates_a_missing_connection_with_a_base_url(live, world, auth_users):
    """No connection: the form offers the base URL, refuses a bad one (keeping what was typed
    there, not the secret) and creates the connection with a good one."""
    import json

    from airflow.models import Connection
    from airflow.utils.session import create_session
    from playwright.sync_api import expect

    account = world.account_id
    with create_session() as session:
        query = session.query(Connection).filter(Connection.conn_id == world.conn_id)  # noqa: AIR311 -- the metastore
        query.delete()
    assert find_connection(world.conn_id) is None
    key, simulator_url = world.new_key(), world.simulator.exchange_url("binance")
    with browser_page(live.url) as page:
        log_in(page, "admin", auth_users["admin"], then=f"/exchange-sync/?account={account}")
        page.goto(f"/exchange-sync/?account={account}#fix")
        expect(page.locator("#fix-dialog")).to_be_visible()
        expect(page.locator("#fix-current")).to_contain_text("does not exist")
        expect(page.get_by_label("leave empty for the real exchange")).to_be_visible()
        page.locator("#fix-api_key").fill(key["api_key"])
        page.locator("#fix-secret").fill(key["secret"])
        page.locator("#fix-base_url").fill("127.0.0.1/binance")
        page.get_by_role("button", name="Save and change").click()
        expect(page.locator("#fix-result.error")).to_contain_text("not an http(s) URL")
        assert find_connection(world.conn_id) is None
        assert page.locator("#fix-base_url").input_value() == "127.0.0.1/binance"
        assert page.locator("#fix-secret").input_value() == ""
        page.locator("#fix-secret").fill(key["secret"])
        page.locator("#fix-base_url").fill(simulator_url)
        page.get_by_role("button", name="Save and change").click()
        expect(page.locator("#fix-result")).to_contain_text("Saved")
    conn = find_connection(world.conn_id)
    assert (conn.login, conn.password) == (key["api_key"], key["secret"])
    assert json.loads(conn.extra) == {"exchange": "binance", "base_url": simulator_url}


def test_viewer_sees_the_board_but_may_not_save(live, world, auth_users):
    from playwright.sync_api import expect

    with browser_page(live.url) as page:
        log_in(page, "viewer", auth_users["viewer"])
        wait_for_state(page, world.account_id, "never synced")
        row(page, world.account_id).get_by_role("button", name="Fix it").click()
        expect(page.locator("#fix-save")).to_be_disabled()
        expect(page.locator("#fix-result")).to_contain_text("may not edit")


def test_the_page_is_in_airflows_navigation(live, world, auth_users):
    """Airflow's own UI lists it (Admin → Exchange connections) and shows it in its frame."""
    from playwright.sync_api import expect

    with browser_page(live.url) as page:
        log_in(page, "admin", auth_users["admin"], then="/")
        page.get_by_role("button", name="Admin").click()
        page.get_by_role("menuitem", name="Exchange connections").click()
        page.wait_for_url("**/plugin/exchange-connections")
        frame = page.frame_locator("iframe")
        expect(frame.locator("h1")).to_have_text("Exchange connections")
        expect(frame.locator(f"#row-{world.account_id}")).to_be_visible()


def test_a_fix_link_followed_on_the_page_itself_opens_the_form(live, world, auth_users):
    """Regression: the form opened only when #fix was there as the page loaded, so a same-page
    navigation to it (the tests' own, or a person's link) raced the board's first load."""
    from playwright.sync_api import expect

    account = world.account_id
    with browser_page(live.url) as page:
        log_in(page, "admin", auth_users["admin"], then=f"/exchange-sync/?account={account}")
        expect(row(page, account)).to_be_visible()  # the board has loaded: no reload follows
        page.goto(f"/exchange-sync/?account={account}#fix")
        expect(page.locator("#fix-dialog")).to_be_visible()
        expect(page.locator("#fix-account")).to_contain_text(account)


def test_log_in_returns_only_once_the_browser_is_at_the_page_asked_for(live, world, auth_users):
    """Regression (seen in CI): the login page's own address carries `next=<page>`, so waiting on
    a glob of the page matched before the redirect; the caller's next navigation then aborted
    the login's (net::ERR_ABORTED). Here the page is held back: log_in must wait for it."""
    from urllib.parse import urlsplit

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    account = world.account_id
    with browser_page(live.url) as page:
        held = []
        page.route(lambda url: urlsplit(url).path == "/exchange-sync/", lambda route: held.append(route))
        page.set_default_timeout(5_000)
        with pytest.raises(PlaywrightTimeout):
            log_in(page, "admin", auth_users["admin"], then=f"/exchange-sync/?account={account}")
        assert held, "the login redirected to the page asked for"
        assert urlsplit(page.url).path.startswith("/auth/")

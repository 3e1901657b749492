"""Links that land: the notification's Fix it and `exchange-sync status` point at the page."""

from __future__ import annotations

from datetime import UTC, datetime

from exchange_sync.notify.messages import alert_body
from exchange_sync.ui.links import page_url
from exchange_sync.warehouse.incidents import Incident


def incident(cause: str) -> Incident:
    return Incident(
        id=7,
        account_id="alice",
        exchange="binance",
        conn_id="exchange_sync_binance_alice",
        cause=cause,
        candidates=(cause,),
        title="t",
        remediation="r",
        evidence={},
        key_fingerprint="abcd…1",
        opened_at=datetime(2026, 12, 1, tzinfo=UTC),
        stale_since=None,
        last_good_cursors={},
        state="open",
    )


def test_page_url_opens_the_accounts_row_and_form():
    assert page_url("alice").endswith("/exchange-sync/?account=alice#fix")
    assert page_url().endswith("/exchange-sync/")


def test_the_alert_links_to_fix_it():
    body = alert_body(incident("key_revoked"))
    assert page_url("alice") in body and "Save and change" in body


def test_causes_fixed_on_the_exchange_say_that_is_enough():
    body = alert_body(incident("ip_not_allowed"))
    assert "Fixing it on Binance is enough" in body and "within about 15 minutes" in body
    assert "enter the new key" not in body.lower().split("fixing it on binance")[1].split("(")[0]

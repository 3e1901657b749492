"""The page's JSON API in Airflow's own API server app, under SimpleAuthManager: who may do what,
CSRF, secrets never returned, and Fix it refusing bad keys without touching the connection."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from exchange_sync.importer.run import run_account_import
from exchange_sync.registry import load_registry

PREFIX = "/exchange-sync"
STATE_CHANGES = ("keys", "freeze", "unfreeze", "retry", "csv")


def login(client: TestClient, username: str, password: str) -> str:
    answer = client.post("/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 201, answer.text
    return answer.json()["access_token"]


@pytest.fixture
def client(airflow_app) -> TestClient:
    return TestClient(airflow_app, base_url="http://127.0.0.1:8080")


@pytest.fixture
def admin(client, auth_users) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(client, 'admin', auth_users['admin'])}"}


@pytest.fixture
def viewer(client, auth_users) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(client, 'viewer', auth_users['viewer'])}"}


def cookie_session(client: TestClient, auth_users, username: str) -> dict[str, str]:
    """As the Airflow UI is logged in: the _token cookie, and the CSRF token of that user."""
    client.cookies.set("_token", login(client, username, auth_users[username]))
    answer = client.get(f"{PREFIX}/api/session")
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def test_plugin_is_registered(client, admin):
    plugins = client.get("/api/v2/plugins", headers=admin).json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "exchange_sync_ui")
    assert ours["external_views"][0]["name"] == "Exchange connections"
    assert ours["external_views"][0]["href"] == f"{PREFIX}/"
    assert ours["fastapi_apps"][0]["url_prefix"] == PREFIX


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/"),
        ("GET", "/static/board.js"),
        ("GET", "/api/session"),
        ("GET", "/api/board"),
        ("GET", "/api/accounts/x/form"),
        *[("POST", f"/api/accounts/x/{action}") for action in STATE_CHANGES],
    ],
)
def test_401_without_a_token(client, method, path):
    answer = client.request(method, PREFIX + path, json={})
    assert answer.status_code == 401


def test_viewer_reads_the_board_but_changes_nothing(client, viewer, accounts):
    account = accounts.ids["main"]
    board = client.get(f"{PREFIX}/api/board", headers=viewer)
    assert board.status_code == 200
    assert [r["account"] for r in board.json()["rows"]] == [accounts.ids["main"], accounts.ids["other"]]
    before = accounts.connection(account)
    good = accounts.simulator.create_key(account)
    for action in STATE_CHANGES:
        body = {"api_key": good["api_key"], "secret": good["secret"]} if action == "keys" else {}
        answer = client.post(f"{PREFIX}/api/accounts/{account}/{action}", headers=viewer, json=body)
        assert answer.status_code == 403, (action, answer.text)
    assert accounts.connection(account) == before
    assert accounts.warehouse.accounts.get(account) is None  # not frozen either


def test_csrf(client, auth_users, accounts):
    account = accounts.ids["main"]
    csrf = cookie_session(client, auth_users, "admin")
    url = f"{PREFIX}/api/accounts/{account}/freeze"
    # An HTML form from another site: no JSON, no token.
    assert client.post(url, data={"reason": "x"}).status_code == 415
    plain = {"Content-Type": "text/plain"}
    assert client.post(url, content=b'{"reason": "x"}', headers=plain).status_code == 415
    # JSON without the token (a script on another origin cannot read it from api/session).
    assert client.post(url, json={"reason": "x"}).status_code == 403
    assert client.post(url, json={"reason": "x"}, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert accounts.warehouse.accounts.get(account) is None
    # The page's own request.
    answer = client.post(url, json={"reason": "closing it"}, headers=csrf)
    assert answer.status_code == 200, answer.text
    assert accounts.warehouse.accounts.get(account).frozen


def test_board_and_form_never_carry_a_secret(client, admin, accounts):
    account = accounts.ids["main"]
    config = load_registry(accounts.registry).account(account)
    run_account_import(config, accounts.warehouse)
    rows = {r["account"]: r for r in client.get(f"{PREFIX}/api/board", headers=admin).json()["rows"]}
    row = rows[account]
    assert (row["state"], row["colour"]) == ("healthy", "green")
    assert row["streams"]["trades"]["rows"] == 30
    assert row["fingerprint"].startswith(accounts.keys[account]["api_key"][:4])
    assert rows[accounts.ids["other"]]["state"] == "never_synced"
    filtered = client.get(f"{PREFIX}/api/board?state=never_synced", headers=admin).json()["rows"]
    assert [r["account"] for r in filtered] == [accounts.ids["other"]]
    form = client.get(f"{PREFIX}/api/accounts/{account}/form", headers=admin)
    assert [f["name"] for f in form.json()["fields"]] == ["api_key", "secret"]
    page = client.get(f"{PREFIX}/", headers=admin)
    for answer in (page, form, client.get(f"{PREFIX}/api/board", headers=admin)):
        for key in accounts.keys.values():
            assert key["secret"] not in answer.text and key["api_key"] not in answer.text


def fix_it(client, headers, account, **fields):
    return client.post(f"{PREFIX}/api/accounts/{account}/keys", headers=headers, json=fields)


def test_fix_it_refusals_leave_the_connection_unchanged(client, admin, accounts, caplog):
    caplog.set_level(logging.DEBUG)
    account, other = accounts.ids["main"], accounts.ids["other"]
    config = load_registry(accounts.registry).account(account)
    run_account_import(config, accounts.warehouse)  # the account's identity at the exchange is known now
    before = accounts.connection(account)
    sim = accounts.simulator
    good = sim.create_key(account)
    unreadable = sim.create_key(account, permissions=[])
    cases = {
        "wrong secret": (
            {"api_key": good["api_key"], "secret": "x" * 64},
            "key_invalid",
            "secret does not match",
        ),
        "another account's key": (_fields(sim.create_key(other)), "wrong_account", "another Binance account"),
        "no reading permission": (_fields(unreadable), "permission_missing", "Enable Reading"),
        "empty secret": ({"api_key": good["api_key"], "secret": ""}, "credentials_missing", "secret"),
    }
    secrets = [good["secret"]]
    for name, (fields, cause, words) in cases.items():
        secrets.append(fields["secret"])
        answer = fix_it(client, admin, account, **fields)
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["cause"] == cause, (name, answer.json())
        assert words in answer.json()["error"] + answer.json()["remediation"], (name, answer.json())
        assert accounts.connection(account) == before, name
        assert fields["secret"] not in answer.text or not fields["secret"]
    # A good key is saved: the connection holds it, and the answer says which (by fingerprint only).
    answer = fix_it(client, admin, account, **_fields(good))
    assert answer.status_code == 200, answer.text
    assert answer.json()["saved"] is True
    login_, password, _extra = accounts.connection(account)
    assert (login_, password) == (good["api_key"], good["secret"])
    assert good["secret"] not in answer.text and good["api_key"] not in answer.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [s for s in secrets if s and s in logged]


def test_fix_it_warns_about_trading_rights(client, admin, accounts):
    account = accounts.ids["main"]
    key = accounts.simulator.create_key(account, permissions=["reading", "spot_trading", "withdrawals"])
    answer = fix_it(client, admin, account, **_fields(key))
    assert answer.status_code == 200, answer.text
    warnings = " ".join(answer.json()["warnings"])
    assert "can trade" in warnings and "can withdraw" in warnings


def test_unfreeze_and_retry_need_the_dag(client, admin, accounts):
    account = accounts.ids["main"]
    accounts.warehouse.accounts.freeze(account, "binance", "test")
    answer = client.post(f"{PREFIX}/api/accounts/{account}/unfreeze", headers=admin, json={})
    assert answer.status_code == 200 and not accounts.warehouse.accounts.get(account).frozen
    # No DAG processor here, so the exchange DAG is not in Airflow: the answer says so.
    answer = client.post(f"{PREFIX}/api/accounts/{account}/retry", headers=admin, json={})
    assert answer.status_code in (200, 409), answer.text


def _fields(key: dict) -> dict[str, str]:
    return {"api_key": key["api_key"], "secret": key["secret"]}


def test_the_connection_test_button_checks_like_fix_it(client, admin, accounts):
    """Airflow's own Test button (POST /api/v2/connections/test) runs CcxtHook.test_connection."""
    import os

    account = accounts.ids["main"]
    os.environ["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
    try:
        unreadable = accounts.simulator.create_key(account, permissions=[])
        key = accounts.keys[account]
        base = {
            "connection_id": accounts.conn_id(account),
            "conn_type": "ccxt",
            "extra": f'{{"exchange": "binance", "base_url": "{accounts.simulator.exchange_url("binance")}"}}',
        }
        good = client.post(
            "/api/v2/connections/test",
            headers=admin,
            json={**base, "login": key["api_key"], "password": key["secret"]},
        )
        assert good.status_code == 200 and good.json()["status"] is True, good.text
        bad = client.post(
            "/api/v2/connections/test",
            headers=admin,
            json={**base, "login": unreadable["api_key"], "password": unreadable["secret"]},
        )
        assert bad.json()["status"] is False and "Enable Reading" in bad.json()["message"], bad.text
    finally:
        os.environ.pop("AIRFLOW__CORE__TEST_CONNECTION")


def test_a_missing_connection_shows_with_its_cause(client, admin, accounts):
    account = accounts.ids["other"]
    deleted = client.delete(f"/api/v2/connections/{accounts.conn_id(account)}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    rows = {r["account"]: r for r in client.get(f"{PREFIX}/api/board", headers=admin).json()["rows"]}
    assert rows[account]["fingerprint"] is None
    assert "does not exist" in rows[account]["cause"]
    assert "does not exist" in " ".join(rows[account]["warnings"])


def test_fix_it_repairs_a_broken_connection(client, admin, accounts):
    from exchange_sync.airflow_connections import put_connection

    account = accounts.ids["other"]
    base_url = accounts.simulator.exchange_url("binance")
    put_connection(
        accounts.conn_id(account),
        conn_type="ccxt",
        login="old",
        password="",
        extra={"exchange": "binanse", "base_url": base_url},
    )
    rows = {r["account"]: r for r in client.get(f"{PREFIX}/api/board", headers=admin).json()["rows"]}
    assert "did you mean 'binance'" in rows[account]["cause"]
    key = accounts.simulator.create_key(account)
    answer = fix_it(client, admin, account, **_fields(key))
    assert answer.status_code == 200, answer.text
    login_, password, extra = accounts.connection(account)
    assert (login_, password) == (key["api_key"], key["secret"])
    assert '"exchange": "binance"' in extra and base_url in extra


def test_fix_it_creates_a_missing_connection_with_its_base_url(client, admin, accounts):
    """No connection, so nothing says where requests go: the form offers a base URL (validated
    like the connection's field) and the new connection keeps it."""
    account = accounts.ids["other"]
    conn_id = accounts.conn_id(account)
    assert client.delete(f"/api/v2/connections/{conn_id}", headers=admin).status_code == 204
    form = client.get(f"{PREFIX}/api/accounts/{account}/form", headers=admin).json()
    base_url_field = next(f for f in form["fields"] if f["name"] == "base_url")
    assert "leave empty for the real exchange" in base_url_field["label"]
    key = accounts.simulator.create_key(account)
    for bad in ("127.0.0.1:8765/binance", "ftp://127.0.0.1/binance", "http://"):
        answer = fix_it(client, admin, account, **_fields(key), base_url=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["field"] == "base_url", answer.json()
        assert "not an http(s) URL" in answer.json()["error"]
        assert accounts.connection(account) == (None, None, None), bad
    simulator_url = accounts.simulator.exchange_url("binance")
    answer = fix_it(client, admin, account, **_fields(key), base_url=f" {simulator_url} ")
    assert answer.status_code == 200, answer.text
    login_, password, extra = accounts.connection(account)
    assert (login_, password) == (key["api_key"], key["secret"])
    assert json.loads(extra) == {"exchange": "binance", "base_url": simulator_url}
    # Once it exists, the form stops offering the field.
    form = client.get(f"{PREFIX}/api/accounts/{account}/form", headers=admin).json()
    assert [f["name"] for f in form["fields"]] == ["api_key", "secret"]


def test_fix_it_never_moves_an_existing_connection(client, admin, accounts):
    """A base URL posted for an existing connection is ignored, even one that would work."""
    account = accounts.ids["main"]
    simulator_url = accounts.simulator.exchange_url("binance")
    form = client.get(f"{PREFIX}/api/accounts/{account}/form", headers=admin).json()
    assert "base_url" not in [f["name"] for f in form["fields"]]
    key = accounts.simulator.create_key(account)
    elsewhere = simulator_url.replace("127.0.0.1", "localhost")  # reaches the simulator too
    answer = fix_it(client, admin, account, **_fields(key), base_url=elsewhere)
    assert answer.status_code == 200, answer.text
    login_, _password, extra = accounts.connection(account)
    assert login_ == key["api_key"]
    assert json.loads(extra)["base_url"] == simulator_url
    # Not even checked: a bad one is no refusal either, as the form never sends it here.
    key = accounts.simulator.create_key(account)
    assert fix_it(client, admin, account, **_fields(key), base_url="not a url").status_code == 200
    assert json.loads(accounts.connection(account)[2])["base_url"] == simulator_url


def recovery_run(dag_id: str, run_id: str) -> tuple[str | None, dict | None]:
    """(state, conf) of a run in Airflow's database, or (None, None)."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.run_id == run_id).one_or_none()
        return (str(run.state), dict(run.conf or {})) if run else (None, None)


def move_run(dag_id: str, run_id: str, state: str) -> None:
    """The run moves on as a scheduler would move it (failed: e.g. it gave up waiting for keys)."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.run_id == run_id).one()
        run.set_state(DagRunState(state))


def test_retry_starts_a_new_recovery_once_the_first_has_stopped(client, admin, accounts):
    """Revoked key -> the exchange DAG opens the incident and queues its recovery run (as it does
    in production: TriggerDagRunOperator, run id incident-<id>-<account>). Retry while that run
    waits says so; once it has failed, retry starts another with the incident in its conf, and
    retrying while that one runs finds it waiting instead of starting a second waiter."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    account = accounts.ids["main"]
    retry = f"{PREFIX}/api/accounts/{account}/retry"
    accounts.simulator.key_action(accounts.keys[account]["api_key"], "revoke")
    bag = DagBag(str(REPO / "dags"))
    assert bag.import_errors == {}
    assert bag.dags["exchange_sync_binance"].test().state == "failed"
    incident = accounts.warehouse.incidents.open_for(account)
    assert incident is not None and incident.cause == "key_revoked"
    dag_id, first = "exchange_sync_binance_recovery", f"incident-{incident.id}-{account}"
    assert recovery_run(dag_id, first) == ("queued", {"account": account, "incident_id": incident.id})

    answer = client.post(retry, headers=admin, json={})
    assert answer.status_code == 200, answer.text
    assert answer.json()["run_id"] == first and "already waiting" in answer.json()["message"]

    move_run(dag_id, first, "failed")
    answer = client.post(retry, headers=admin, json={})
    assert answer.status_code == 200, answer.text
    run_id = answer.json()["run_id"]
    assert run_id.startswith(f"{first}-retry-") and run_id in answer.json()["message"]
    assert "started" in answer.json()["message"]
    assert recovery_run(dag_id, run_id) == ("queued", {"account": account, "incident_id": incident.id})
    assert recovery_run(dag_id, first)[0] == "failed"

    move_run(dag_id, run_id, "running")  # its sensor is waiting for keys now
    again = client.post(retry, headers=admin, json={})
    assert again.status_code == 200, again.text
    assert again.json()["run_id"] == run_id and "already waiting" in again.json()["message"]


def test_upload_csv_imports_the_file_and_names_what_it_did_not_store(client, admin, accounts):
    import base64

    from exchange_sync.warehouse.schema import transfers

    account = accounts.ids["main"]
    url = f"{PREFIX}/api/accounts/{account}/csv"
    text = (
        "kind,time,amount,currency,txid\n"
        "deposit,2024-05-01 00:00:00,1.25,ETH,0xfeed\n"
        "deposit,2024-05-02,1,ETH,\n"
    )
    body = {"file_name": "../../etc/deposits.csv", "content_base64": base64.b64encode(text.encode()).decode()}
    answer = client.post(url, headers=admin, json=body)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["file"] == "deposits.csv" and report["stored"]["transfers"] == 1  # the name only, no path
    assert report["first_rejects"] == [
        {
            "line": 3,
            "reason": "bad_time",
            "detail": "column 'time': '2024-05-02' is not a time like '%Y-%m-%dT%H:%M:%S%z'",
        }
    ]
    assert [r["txid"] for r in accounts.warehouse.rows(transfers, account) if r["source"] != "api"] == [
        "0xfeed"
    ]

    binary = {
        "file_name": "statement.xlsx",
        "content_base64": base64.b64encode(b"PK\x03\x04\x00\x00").decode(),
    }
    answer = client.post(url, headers=admin, json=binary)
    assert answer.status_code == 422 and "statement.xlsx: is not a text file" in answer.json()["error"]
    answer = client.post(url, headers=admin, json={"file_name": "x.csv", "content_base64": "%%%"})
    assert answer.status_code == 422 and "not base64" in answer.json()["error"]

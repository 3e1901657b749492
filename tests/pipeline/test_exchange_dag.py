"""The exchange DAG end to end with `dag.test()`: real Airflow task execution, real ccxt over HTTP
to the simulator, a real warehouse."""

from __future__ import annotations

from collections import Counter
from textwrap import dedent

import pytest
from airflow.dag_processing.dagbag import DagBag

from exchange_sync.warehouse import Warehouse
from tests.conftest import REPO
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.fixtures.simulator import every_exchange


@pytest.fixture
def two_accounts(make_sim_account, connect, tmp_path, monkeypatch, exchange):
    accounts = [make_sim_account(trades=300, symbols=3), make_sim_account(trades=200, symbols=2)]
    lines = [f"  - {{id: {a.id}, exchange: {exchange}, conn_id: conn_{a.id}}}" for a in accounts]
    registry = tmp_path / "accounts.yaml"
    registry.write_text("defaults: {history_start: 2024-01-01}\naccounts:\n" + "\n".join(lines) + "\n")
    monkeypatch.setenv("EXCHANGE_SYNC_REGISTRY", str(registry))
    for account in accounts:
        connect(f"conn_{account.id}", account.id)
    return accounts


def load_dag(exchange: str = "binance"):
    bag = DagBag(str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags[f"exchange_sync_{exchange}"]


def task_states(dag_run, task_id: str = "account.import_account") -> dict[str, str]:
    """Per account (the grid's label for each mapped instance), the state of one task."""
    return {
        ti.rendered_map_index or str(ti.map_index): ti.state
        for ti in dag_run.get_task_instances()
        if ti.task_id == task_id
    }


@every_exchange
def test_scheduled_run_imports_every_account(airflow_db, two_accounts, warehouse, exchange):
    dag_run = load_dag(exchange).test()
    assert dag_run.state == "success"
    # Each mapped import shows its account id in the grid, not a bare index.
    assert task_states(dag_run) == {a.id: "success" for a in two_accounts}
    for account in two_accounts:
        assert_warehouse_matches(warehouse, account.id, account.history())
    assert_asset_events(two_accounts, exchange)


def test_one_broken_account_does_not_block_the_others(
    airflow_db, two_accounts, warehouse, simulator, connect
):
    broken, healthy = two_accounts
    dead = connect(f"conn_{broken.id}", broken.id)
    simulator.key_action(dead["api_key"], "revoke")

    dag_run = load_dag().test()
    states = task_states(dag_run)
    assert states == {broken.id: "failed", healthy.id: "success"}
    assert dag_run.state == "failed"  # a run with a failed account never looks green
    assert_warehouse_matches(warehouse, healthy.id, healthy.history())
    assert "AuthenticationError" in Warehouse.open().account_sync(broken.id)["last_error"]


def assert_asset_events(accounts, exchange: str) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        uris = set(
            session.scalars(
                select(AssetModel.uri).join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            ).all()
        )
    assert {f"exchange-sync://{exchange}/{a.id}" for a in accounts} <= uris


def test_dag_docs_list_the_accounts(two_accounts):
    doc = load_dag().doc_md
    for account in two_accounts:
        assert f"| {account.id} | `conn_{account.id}` |" in doc
    assert dedent("Pool `ccxt_binance`") in doc


@every_exchange
def test_next_run_fetches_only_the_new_activity(airflow_db, two_accounts, warehouse, simulator, exchange):
    assert load_dag(exchange).test().state == "success"
    account = two_accounts[0]
    made = simulator.add_activity(account.id, trades=3, deposits=1, withdrawals=1)
    seq = simulator.last_seq()

    assert load_dag(exchange).test().state == "success"
    paths = Counter(
        r["path"] for r in simulator.requests_since(seq)["requests"] if r["account"] == account.id
    )
    # One request per endpoint (the new activity is far below a page), one per candidate symbol
    # whose assets' balances moved where the exchange needs a symbol (Binance myTrades; the
    # others wait for their sweep): nothing imported is fetched again.
    per_symbol = [n for n in paths.values() if n > 1]
    assert len(per_symbol) <= 1 and all(n < 40 for n in per_symbol), paths
    if exchange == "binance":
        assert len({t["symbol"] for t in made["trades"]}) <= paths["/binance/api/v3/myTrades"]
    assert_warehouse_matches(warehouse, account.id, account.history())

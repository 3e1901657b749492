"""`exchange-sync setup`: idempotent, creates what the DAGs need, never touches real keys."""

from __future__ import annotations

from textwrap import dedent

from exchange_sync import setup
from exchange_sync.airflow_connections import find_connection, put_connection
from exchange_sync.hooks.ccxt import credentials_from_connection
from exchange_sync.registry import load_registry


def test_pools_exist_with_the_registry_sizes(airflow_db, tmp_path):
    from airflow.models import Pool

    path = tmp_path / "accounts.yaml"
    path.write_text("exchanges: {binance: {pool_slots: 5}}\naccounts: [{id: a, exchange: binance}]\n")
    assert setup.ensure_pools(load_registry(path)) == ["ccxt_binance"]
    assert Pool.get_pool("ccxt_binance").slots == 5
    setup.ensure_pools(load_registry(path))  # again: updated in place, not duplicated
    assert Pool.get_pool("ccxt_binance").slots == 5


def test_demo_connections_are_created_once_and_real_keys_are_left_alone(
    airflow_db, tmp_path, simulator, make_sim_account
):
    demo, real = make_sim_account(trades=10, symbols=1), make_sim_account(trades=10, symbols=1)
    path = tmp_path / "accounts.yaml"
    path.write_text(
        dedent(
            f"""
            accounts:
              - {{id: {demo.id}, exchange: binance, conn_id: setup_demo_{demo.id}}}
              - {{id: {real.id}, exchange: binance, conn_id: setup_real_{real.id}}}
            """
        )
    )
    registry = load_registry(path)
    put_connection(
        f"setup_real_{real.id}",
        conn_type="ccxt",
        login="REAL-KEY",
        password="real-secret",
        extra={"exchange": "binance"},
    )

    first = setup.ensure_demo_connections(registry, simulator)
    assert first == {demo.id: "created", real.id: "not a simulator connection, left alone"}
    created = credentials_from_connection(find_connection(f"setup_demo_{demo.id}"))
    assert created.base_url == simulator.exchange_url("binance")
    assert simulator.key(created.api_key)["state"] == "active"
    assert credentials_from_connection(find_connection(f"setup_real_{real.id}")).api_key == "REAL-KEY"

    assert setup.ensure_demo_connections(registry, simulator)[demo.id] == "kept"
    assert credentials_from_connection(find_connection(f"setup_demo_{demo.id}")).api_key == created.api_key

    # A dead demo key is replaced.
    simulator.key_action(created.api_key, "revoke")
    assert setup.ensure_demo_connections(registry, simulator)[demo.id] == "created"
    assert credentials_from_connection(find_connection(f"setup_demo_{demo.id}")).api_key != created.api_key

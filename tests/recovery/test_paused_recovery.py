"""Deployments that create DAGs paused (docker-compose sets DAGS_ARE_PAUSED_AT_CREATION): the
recovery and freeze DAGs must run anyway, and a recovery DAG someone paused must be named in
the failing health check instead of leaving the incident's run queued, unseen."""

from __future__ import annotations

import pytest

from tests.recovery.conftest import World


def test_recovery_and_freeze_dags_are_created_unpaused_whatever_the_deployments_default(world: World):
    from airflow.serialization.serialized_objects import LazyDeserializedDAG  # what the DAG processor stores

    dags = world.dags()
    created_paused = {
        dag_id: LazyDeserializedDAG.from_dag(dag).is_paused_upon_creation for dag_id, dag in dags.items()
    }
    recovery = [d for d in dags if d.endswith("_recovery")]
    assert recovery and all(created_paused[d] is False for d in recovery)
    assert created_paused["exchange_sync_freeze"] is False
    # The scheduled import DAGs follow the deployment's choice.
    assert all(created_paused[d] is None for d in dags if d not in recovery and d != "exchange_sync_freeze")


@pytest.fixture
def paused(world: World):
    """The world's recovery DAG paused in Airflow's metadata DB, as someone (or a default) left it."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    dag_id = f"exchange_sync_{world.exchange}_recovery"
    world.run_exchange_dag()  # a healthy run: every DAG of the file is in the metadata DB now
    with create_session() as session:
        session.query(DagModel).filter(DagModel.dag_id == dag_id).update({"is_paused": True})
    yield dag_id
    with create_session() as session:
        session.query(DagModel).filter(DagModel.dag_id == dag_id).update({"is_paused": False})


def test_a_paused_recovery_dag_is_named_by_the_health_check(world: World, paused, capfd):
    world.simulator.key_action(world.key["api_key"], "revoke")
    run = world.run_exchange_dag()
    assert run.state == "failed"
    output = capfd.readouterr()
    assert f"its recovery cannot run: DAG {paused} is paused, unpause it" in output.out + output.err


def test_an_unpaused_recovery_dag_is_not_blamed(world: World, capfd):
    world.simulator.key_action(world.key["api_key"], "revoke")
    world.run_exchange_dag()
    output = capfd.readouterr()
    assert "Accounts not importing" in output.out + output.err
    assert "its recovery cannot run" not in output.out + output.err

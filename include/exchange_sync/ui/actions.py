"""The page's actions: freeze (optionally after a final sync), unfreeze, retry now.

Quick ones run here, through the same functions the CLI uses (recovery/freeze.py). Anything
that talks to the exchange runs where Airflow runs work, as a DAG run: a final sync is the
`exchange_sync_freeze` DAG, a retry is the account's recovery (open incident) or its exchange
DAG. The API server never imports an account itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from exchange_sync.recovery.freeze import freeze, unfreeze
from exchange_sync.registry import AccountConfig, Registry
from exchange_sync.warehouse import Warehouse

FREEZE_DAG_ID = "exchange_sync_freeze"  # pipeline/dag_factory.py (not imported: it builds DAGs)
ACTIVE = ("queued", "running")


class ActionError(Exception):
    """The action could not be done; the message says why, for the user."""


def freeze_account(
    account: AccountConfig, warehouse: Warehouse, reason: str, final_sync: bool, user: str
) -> dict[str, Any]:
    reason = reason.strip() or f"frozen by {user} on the Connections page"
    if final_sync:
        run_id = _trigger(
            FREEZE_DAG_ID,
            f"freeze-{account.id}-{_stamp()}",
            {"account": account.id, "action": "freeze", "final_sync": True, "reason": reason},
            user,
        )
        return {
            "message": f"A final sync of {account.id} runs now ({FREEZE_DAG_ID} run {run_id}); the account "
            "is frozen once it has finished.",
            "run_id": run_id,
            "dag_id": FREEZE_DAG_ID,
        }
    result = freeze(account, warehouse, reason=reason)
    closed = f"; incident #{result['closed_incident']} closed quietly" if result["closed_incident"] else ""
    return {"message": f"{account.id} is frozen: it is skipped without alerts until unfrozen{closed}."}


def unfreeze_account(account: AccountConfig, warehouse: Warehouse) -> dict[str, Any]:
    unfreeze(account, warehouse)
    return {"message": f"{account.id} is unfrozen: its next run imports again and fills the frozen period."}


def retry_account(
    account: AccountConfig, registry: Registry, warehouse: Warehouse, user: str
) -> dict[str, Any]:
    """The recovery of the open incident (started again if it is not running), else an import."""
    exchange = registry.exchange_config(account.exchange)
    incident = warehouse.incidents.open_for(account.id)
    if incident is not None:
        dag_id = exchange.recovery_dag_id
        # The run id the failure path gives the incident's recovery (pipeline/tasks.py): one waiter.
        first_run_id = f"incident-{incident.id}-{account.id}"
        waiting = _active_recovery(dag_id, first_run_id)
        if waiting is not None:
            return {
                "message": f"The recovery of {account.id} is already waiting (run {waiting}): it reads "
                "the connection every few seconds and checks a new key at once.",
                "dag_id": dag_id,
                "run_id": waiting,
            }
        state = _run_state(dag_id, first_run_id)
        run_id = first_run_id if state is None else f"{first_run_id}-retry-{_stamp()}"
        _trigger(dag_id, run_id, {"account": account.id, "incident_id": incident.id}, user)
        return {
            "message": f"The recovery of {account.id} started (run {run_id}): it checks the key now.",
            "dag_id": dag_id,
            "run_id": run_id,
        }
    if warehouse.accounts.get(account.id) is not None and warehouse.accounts.get(account.id).frozen:
        raise ActionError(f"{account.id} is frozen: unfreeze it first.")
    dag_id = exchange.dag_id
    run_id = _trigger(dag_id, f"manual__retry-{account.id}-{_stamp()}", {}, user)
    return {
        "message": f"An import of every {account.exchange} account started now ({dag_id} run {run_id}).",
        "dag_id": dag_id,
        "run_id": run_id,
    }


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


def _run_state(dag_id: str, run_id: str) -> str | None:
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.run_id == run_id).one_or_none()
        return str(run.state.value if hasattr(run.state, "value") else run.state) if run else None


def _active_recovery(dag_id: str, first_run_id: str) -> str | None:
    """The incident's recovery run that is queued or running: its first run or a retry's (a second
    click on Retry now must not start a second waiter next to the first retry)."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = (
            session.query(DagRun.run_id)
            .filter(DagRun.dag_id == dag_id, DagRun.state.in_(ACTIVE))
            .order_by(DagRun.id)
            .all()
        )
    # Matched here, not with LIKE: account ids may hold "_", which LIKE reads as a wildcard.
    ours = [r for (r,) in runs if r == first_run_id or r.startswith(f"{first_run_id}-retry-")]
    return ours[-1] if ours else None


def _trigger(dag_id: str, run_id: str, conf: dict[str, Any], user: str) -> str:
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.exceptions import DagNotFound, DagRunAlreadyExists
    from airflow.utils.types import DagRunTriggeredByType

    try:
        run = trigger_dag(
            dag_id,
            triggered_by=DagRunTriggeredByType.UI,
            run_id=run_id,
            conf=conf,
            triggering_user_name=user,
            note="from the exchange-sync Connections page",
        )
    except DagNotFound:
        raise ActionError(
            f"The DAG {dag_id} is not in Airflow yet (is the DAG processor running?)."
        ) from None
    except DagRunAlreadyExists:
        raise ActionError(f"A run {run_id} of {dag_id} exists already.") from None
    return run.run_id if run is not None else run_id

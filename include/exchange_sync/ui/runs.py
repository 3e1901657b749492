"""The account's last runs in Airflow, for the board's links: its own mapped task instance in each
import run (Airflow renders the map index as the account id: pipeline/tasks.py ACCOUNT_LABEL) and
the recovery runs started for it (their conf names the account). Read from Airflow's metadata
database, which the API server serving the page has open anyway; the warehouse knows no runs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

IMPORT_TASK_ID = "account.import_account"  # the task group "account" of pipeline/dag_factory.py
SHOWN = 3  # runs per account and kind: the last one, and enough to see whether it keeps failing
RECOVERY_RUNS_READ = 200  # an exchange's latest recovery runs, searched for each account's


def recent_runs(dag_id: str, recovery_dag_id: str, account_ids: list[str]) -> dict[str, dict[str, list]]:
    """account id -> {"imports": [...], "recoveries": [...]}, newest first, each with its state,
    when it ran and the link to its page in Airflow's UI."""
    from airflow.utils.session import create_session

    with create_session() as session:
        recoveries = _recoveries(session, recovery_dag_id, set(account_ids))
        return {
            account: {"imports": _imports(session, dag_id, account), "recoveries": recoveries[account]}
            for account in account_ids
        }


def _imports(session: Any, dag_id: str, account_id: str) -> list[dict[str, Any]]:
    from airflow.models import DagRun, TaskInstance
    from sqlalchemy import select

    query = (
        select(TaskInstance.run_id, TaskInstance.map_index, TaskInstance.state, DagRun.run_after)
        .join(DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id))
        .where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.task_id == IMPORT_TASK_ID,
            TaskInstance.rendered_map_index == account_id,
        )
        .order_by(DagRun.run_after.desc())
        .limit(SHOWN)
    )
    return [
        _entry(
            f"/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{IMPORT_TASK_ID}/mapped/{map_index}",
            run_id,
            state,
            run_after,
        )
        for run_id, map_index, state, run_after in session.execute(query)
    ]


def _recoveries(session: Any, dag_id: str, account_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    from airflow.models import DagRun
    from sqlalchemy import select

    found: dict[str, list[dict[str, Any]]] = {account_id: [] for account_id in account_ids}
    query = (
        select(DagRun.run_id, DagRun.state, DagRun.run_after, DagRun.conf)
        .where(DagRun.dag_id == dag_id)
        .order_by(DagRun.run_after.desc())
        .limit(RECOVERY_RUNS_READ)
    )
    for run_id, state, run_after, conf in session.execute(query):
        account_id = (conf or {}).get("account") if isinstance(conf, dict) else None
        if account_id in found and len(found[account_id]) < SHOWN:
            found[account_id].append(
                _entry(f"/dags/{dag_id}/runs/{quote(run_id, safe='')}", run_id, state, run_after)
            )
    return found


def _entry(link: str, run_id: str, state: Any, run_after: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "state": str(getattr(state, "value", state)) if state is not None else "none",
        "run_after": run_after.isoformat() if run_after else None,
        "link": link,
    }

"""Task callables for the exchange DAGs. Thin: each opens the warehouse, calls the domain function
(recovery/, importer/) and turns its outcome into Airflow's terms (skip, fail without retry)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, AssetAlias, TriggerRule, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

log = logging.getLogger(__name__)

IMPORT_RETRIES = 3
# One try of an import or backfill chunk ends after this long, and its retry resumes from the
# cursors. Shorter than the broker's visibility timeout (docker-compose.yaml: 6 h), so Celery never
# hands a running try to a second worker.
TRY_TIMEOUT = timedelta(hours=4)
ACCOUNT_LABEL = "{{ account_label }}"


def account_asset(exchange: str, account_id: str) -> Asset:
    """The Asset an account's successful import updates; downstream DAGs can schedule on it."""
    return Asset(
        name=f"exchange_sync.{exchange}.{account_id}",
        uri=f"exchange-sync://{exchange}/{account_id}",
        group="exchange-sync",
    )


def accounts_alias(exchange: str) -> AssetAlias:
    """Declared as the import task's outlet; each mapped instance adds its own account's Asset."""
    return AssetAlias(f"exchange_sync.{exchange}.accounts")


def _account(arg: dict[str, Any] | str) -> Any:
    """The account's config; labels the mapped task instance with the account id in the grid."""
    from exchange_sync.registry import AccountConfig, load_registry
    from exchange_sync.settings import registry_path

    context = get_current_context()
    config = (
        AccountConfig.from_task_arg(arg)
        if isinstance(arg, dict)
        else load_registry(registry_path()).account(arg)
    )
    context["account_label"] = config.id
    return config


def _warehouse() -> Any:
    from exchange_sync.warehouse import Warehouse

    return Warehouse.open()


# -- the scheduled run: import, and on failure diagnose and notify ---------------------------------


@task(
    map_index_template=ACCOUNT_LABEL,
    retries=IMPORT_RETRIES,
    retry_exponential_backoff=True,
    execution_timeout=TRY_TIMEOUT,
)
def import_account(account: dict[str, Any]) -> dict[str, Any]:
    """Import every configured stream of one account; a small report as XCom (no secrets)."""
    from exchange_sync.recovery.failure_path import NeedsPerson, SkipAccount, import_step

    config = _account(account)
    context = get_current_context()
    with _warehouse() as warehouse:
        try:
            report = import_step(config, warehouse, lambda f: context["ti"].xcom_push(key="failure", value=f))
        except SkipAccount as skip:
            raise AirflowSkipException(str(skip)) from None
        except NeedsPerson as person:
            # Retrying a refused key only hammers the exchange (which may lock the key or ban the IP).
            raise AirflowFailException(str(person)) from person
    context["outlet_events"][accounts_alias(config.exchange)].add(
        account_asset(config.exchange, config.id), extra={"rows": report["rows"]}
    )
    return report


@task(trigger_rule=TriggerRule.ONE_FAILED, map_index_template=ACCOUNT_LABEL)
def diagnose(account: dict[str, Any]) -> dict[str, Any]:
    """Name the cause (probing the exchange at most once more) and open the incident."""
    from exchange_sync.recovery.failure_path import diagnose_step

    config = _account(account)
    ti = get_current_context()["ti"]
    # None when the import died without recording why (killed, lost worker): still an incident.
    failure = ti.xcom_pull(task_ids="account.import_account", key="failure", map_indexes=ti.map_index)
    with _warehouse() as warehouse:
        return diagnose_step(config, failure, warehouse)


@task(multiple_outputs=True, map_index_template=ACCOUNT_LABEL)
def notify(account: dict[str, Any], diagnosis: dict[str, Any]) -> dict[str, Any]:
    """Send the incident's alert (once); pass on what the recovery run needs."""
    from exchange_sync.recovery.failure_path import SkipAccount, notify_step

    config = _account(account)
    with _warehouse() as warehouse:
        try:
            sent = notify_step(config, diagnosis, warehouse)
        except SkipAccount as skip:
            raise AirflowSkipException(str(skip)) from None
    incident_id = sent["incident_id"]
    return {
        "conf": {"account": config.id, "incident_id": incident_id},
        "run_id": f"incident-{incident_id}-{config.id}",
    }


@task(trigger_rule=TriggerRule.ALL_DONE)
def check_accounts(accounts: list[dict[str, Any]], recovery_dag_id: str) -> None:
    """Read the healthy keys' permissions when due (key_audit.py), deliver due reminders and
    retries; fail the run while any account is not importing, saying so where its recovery
    cannot run because the recovery DAG is paused."""
    from exchange_sync.key_audit import audit_keys
    from exchange_sync.recovery.failure_path import health_step
    from exchange_sync.registry import AccountConfig

    configs = [AccountConfig.from_task_arg(a) for a in accounts]
    with _warehouse() as warehouse:
        audit_keys(configs, warehouse)
        broken = health_step(configs, warehouse, paused_recovery=_paused(recovery_dag_id))
    if broken:
        raise AirflowFailException("Accounts not importing:\n" + "\n".join(f"  - {line}" for line in broken))


def _paused(dag_id: str) -> str | None:
    """`dag_id` if Airflow has it paused (its runs queue and never start), else None."""
    try:
        dag = get_current_context()["ti"].get_dag(dag_id)
    except Exception as exc:  # not parsed yet, or an API server without this call: no verdict
        log.warning("could not read whether %s is paused: %s", dag_id, exc)
        return None
    return dag_id if dag.is_paused else None


# -- the recovery run: wait for keys (sensor), backfill, close --------------------------------------


@task
def plan_backfill(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The first wave of backfill chunks; the incident and start time go to XCom for the close."""
    from exchange_sync.recovery.backfill import incident_to_recover
    from exchange_sync.recovery.backfill import plan_backfill as plan

    context = get_current_context()
    params = context["params"]
    config = _account(params["account"])
    with _warehouse() as warehouse:
        incident = incident_to_recover(config, params.get("incident_id"), warehouse)
        if incident is None or event.get("status") == "no_incident":
            raise AirflowSkipException(f"{config.id}: no open incident to recover")
        planned = plan(config, incident, event, warehouse)
    context["ti"].xcom_push(key="incident_id", value=incident.id)
    context["ti"].xcom_push(key="started_at", value=planned["started_at"])
    return planned["chunks"]


@task(
    map_index_template="{{ chunk_label }}",
    retries=IMPORT_RETRIES,
    retry_exponential_backoff=True,
    execution_timeout=TRY_TIMEOUT,
)
def backfill_chunk(chunk: dict[str, Any]) -> int:
    """One bounded chunk of the gap (a stream, or a batch of symbols); resumable from its cursors."""
    from exchange_sync.recovery.backfill import backfill_stream

    context = get_current_context()
    config = _account(context["params"]["account"])
    context["chunk_label"] = "+".join(chunk["streams"]) + (
        f" ({len(chunk['symbols'])} symbols)" if chunk.get("symbols") else ""
    )
    with _warehouse() as warehouse:
        return backfill_stream(config, chunk, warehouse)


@task
def plan_trade_chunks() -> list[dict[str, Any]]:
    from exchange_sync.recovery.backfill import plan_trade_chunks as plan

    context = get_current_context()
    config = _account(context["params"]["account"])
    # The balance the first wave stored since the backfill began names the assets held.
    started_at = context["ti"].xcom_pull(task_ids="plan_backfill", key="started_at")
    with _warehouse() as warehouse:
        return plan(config, warehouse, datetime.fromisoformat(started_at) if started_at else None)


# A second wave over no symbols (exchanges whose trades need none) is skipped, not failed.
@task(trigger_rule=TriggerRule.NONE_FAILED)
def close_incident(rows: list[int], trade_rows: list[int] | None) -> dict[str, Any]:
    """Verify coverage is continuous, close the incident with its figures, send "recovered"."""
    from exchange_sync.recovery.backfill import close_recovered

    context = get_current_context()
    config = _account(context["params"]["account"])
    incident_id = context["ti"].xcom_pull(task_ids="plan_backfill", key="incident_id")
    started_at = context["ti"].xcom_pull(task_ids="plan_backfill", key="started_at")
    with _warehouse() as warehouse:
        incident = warehouse.incidents.get(incident_id)
        total = sum(rows) + sum(trade_rows or [])
        closed = close_recovered(config, incident, datetime.fromisoformat(started_at), total, warehouse)
    return {"incident_id": closed.id, "backfilled_rows": closed.backfilled_rows}


# -- freezing -------------------------------------------------------------------------------------


@task
def apply_freeze() -> dict[str, Any]:
    from exchange_sync.recovery.freeze import freeze, unfreeze

    params = get_current_context()["params"]
    config = _account(params["account"])
    with _warehouse() as warehouse:
        if params["action"] == "unfreeze":
            return unfreeze(config, warehouse)
        return freeze(
            config, warehouse, reason=params.get("reason") or "", final_sync=bool(params.get("final_sync"))
        )

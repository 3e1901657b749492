"""Build the DAGs from the registry (config -> validate -> build).

Per exchange:
- `exchange_sync_<exchange>` (scheduled): per account, import; if that fails for a reason a person
  must fix, diagnose, notify and start a recovery run; finally check every account's health.
- `exchange_sync_<exchange>_recovery` (one run per incident): wait for working keys (deferrable),
  backfill the gap in chunks, verify, close the incident.
And `exchange_sync_freeze` (manual) to freeze or unfreeze an account.

Parse-time work is reading one YAML file; ccxt, the warehouse and the network are touched only
inside tasks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, get_parsing_context, task_group

from exchange_sync.pipeline import tasks
from exchange_sync.registry import AccountConfig, ExchangeConfig, Registry, load_registry
from exchange_sync.sensors.wait_for_keys import WaitForNewKeysSensor
from exchange_sync.settings import registry_path

START_DATE = datetime(2025, 1, 1, tzinfo=UTC)
FREEZE_DAG_ID = "exchange_sync_freeze"


def build_dags(default_registry: Path | None = None) -> dict[str, DAG]:
    """Every DAG the registry's valid entries call for, keyed by dag_id."""
    registry = load_registry(registry_path(default_registry))
    wanted = get_parsing_context().dag_id  # set when a worker parses only to run one DAG's task
    builders = []
    for exchange in registry.exchanges_in_use():
        accounts = registry.accounts_of(exchange.exchange)
        builders.append((exchange.dag_id, lambda e=exchange, a=accounts: build_exchange_dag(e, a, registry)))
        builders.append((exchange.recovery_dag_id, lambda e=exchange, a=accounts: build_recovery_dag(e, a)))
    if registry.accounts:
        builders.append((FREEZE_DAG_ID, lambda: build_freeze_dag(registry)))
    return {dag_id: build() for dag_id, build in builders if not wanted or wanted == dag_id}


def check_registry(default_registry: Path | None = None) -> None:
    """Raise naming every invalid entry, so it shows in Airflow's import errors."""
    load_registry(registry_path(default_registry)).raise_for_errors()


def build_exchange_dag(
    exchange: ExchangeConfig, accounts: tuple[AccountConfig, ...], registry: Registry
) -> DAG:
    schedule: Any = None
    if exchange.schedule:
        schedule = CronDataIntervalTimetable(exchange.schedule, timezone="UTC")
    with DAG(
        dag_id=exchange.dag_id,
        description=f"Import {exchange.exchange} account history into the warehouse",
        doc_md=_doc(exchange, accounts, registry),
        schedule=schedule,
        start_date=START_DATE,
        catchup=False,
        # Runs of one exchange go one at a time: each continues from the cursors the last one left.
        max_active_runs=1,
        tags=["exchange-sync", exchange.exchange],
    ) as dag:

        @task_group(group_id="account")
        def account(config: dict[str, Any]) -> None:
            imported = tasks.import_account.override(
                pool=exchange.pool,
                outlets=[tasks.accounts_alias(exchange.exchange)],
                retry_delay=timedelta(seconds=exchange.retry_delay_seconds),
            )(config)
            diagnosis = tasks.diagnose.override(pool=exchange.pool)(config)
            notified = tasks.notify(config, diagnosis)
            start_recovery = TriggerDagRunOperator(
                task_id="start_recovery",
                trigger_dag_id=exchange.recovery_dag_id,
                conf=notified["conf"],
                trigger_run_id=notified["run_id"],
                skip_when_already_exists=True,  # never a second waiter for one incident
            )
            imported >> diagnosis
            notified >> start_recovery

        task_args = [a.to_task_arg() for a in accounts]
        account.expand(config=task_args) >> tasks.check_accounts(task_args, exchange.recovery_dag_id)
    return dag


# Account params offer the registry's accounts as proposals rather than an enum: Airflow checks a
# triggered run's conf against the serialized DAG, which may predate the latest registry edit.


def build_recovery_dag(exchange: ExchangeConfig, accounts: tuple[AccountConfig, ...]) -> DAG:
    with DAG(
        dag_id=exchange.recovery_dag_id,
        description=f"Wait for working {exchange.exchange} keys, then backfill the gap (a run per incident)",
        doc_md=RECOVERY_DOC,
        schedule=None,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=32,
        # Started by the import DAG when a connection breaks: a deployment that creates DAGs
        # paused (docker-compose, DAGS_ARE_PAUSED_AT_CREATION) would leave that run queued, unseen.
        is_paused_upon_creation=False,
        params={
            "account": Param(
                accounts[0].id,
                type="string",
                examples=[a.id for a in accounts],
                description="The account to recover",
            ),
            "incident_id": Param(
                None, type=["null", "integer"], description="Empty: the account's open incident"
            ),
        },
        tags=["exchange-sync", exchange.exchange, "recovery"],
    ) as dag:
        event = WaitForNewKeysSensor(
            task_id="wait_for_new_keys",
            account_id="{{ params.account }}",
            incident_id="{{ params.incident_id }}",
            poll_interval=exchange.key_poll_seconds,
            recheck_interval=exchange.key_recheck_seconds,
            timeout=timedelta(hours=exchange.wait_for_keys_hours).total_seconds(),
        )
        plan = tasks.plan_backfill(event.output)
        first_wave = tasks.backfill_chunk.override(pool=exchange.pool).expand(chunk=plan)
        trade_chunks = tasks.plan_trade_chunks.override(pool=exchange.pool)()
        trades = tasks.backfill_chunk.override(task_id="backfill_trades", pool=exchange.pool).expand(
            chunk=trade_chunks
        )
        first_wave >> trade_chunks
        tasks.close_incident(first_wave, trades)
    return dag


def build_freeze_dag(registry: Registry) -> DAG:
    with DAG(
        dag_id=FREEZE_DAG_ID,
        description="Freeze an account (skipped without alerts, e.g. before closing it) or unfreeze it",
        schedule=None,
        start_date=START_DATE,
        catchup=False,
        is_paused_upon_creation=False,  # the Connections page's freeze and unfreeze run it
        params={
            "account": Param(
                registry.accounts[0].id, type="string", examples=[a.id for a in registry.accounts]
            ),
            "action": Param("freeze", enum=["freeze", "unfreeze"]),
            "final_sync": Param(
                False, type="boolean", description="Import everything once more before freezing"
            ),
            "reason": Param("", type="string", description="Shown in status and task logs"),
        },
        tags=["exchange-sync"],
    ) as dag:
        tasks.apply_freeze()
    return dag


RECOVERY_DOC = """\
### Recovering a broken connection
Started by the exchange DAG when an account's import fails for a reason a person must fix (one run
per incident). `wait_for_new_keys` defers to the triggerer (no worker slot) until the account's
Airflow connection holds new keys that work and belong to the same exchange account — or, for a
missing permission or IP allow-list, until the existing key works again. Then the gap is imported
in chunks, coverage is verified and the incident is closed with a "recovered" message.

Trigger it by hand (params: the account) to resume waiting after the wait timed out.
"""


def _doc(exchange: ExchangeConfig, accounts: tuple[AccountConfig, ...], registry: Registry) -> str:
    lines = [
        f"### {exchange.exchange}: {len(accounts)} account(s)",
        f"Built from `{registry.path}`. Pool `{exchange.pool}` limits concurrent requests to the exchange.",
        "A failed import that needs a person runs `diagnose` and `notify`, then starts "
        f"`{exchange.recovery_dag_id}`; `check_accounts` fails the run while any account is not importing.",
        "",
        "| account | connection | streams | history from |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {a.id} | `{a.conn_id}` | {', '.join(a.streams)} | {a.history_start.date()} |" for a in accounts
    ]
    return "\n".join(lines)

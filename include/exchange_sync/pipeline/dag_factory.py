"""Build one DAG per exchange from the registry (config -> validate -> build).

Parse-time work is reading one YAML file; ccxt, SQLAlchemy engines and the network are only touched
inside tasks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, get_parsing_context

from exchange_sync.pipeline.tasks import accounts_alias, import_account
from exchange_sync.registry import AccountConfig, ExchangeConfig, Registry, load_registry
from exchange_sync.settings import registry_path

START_DATE = datetime(2025, 1, 1, tzinfo=UTC)


def build_dags(default_registry: Path | None = None) -> dict[str, DAG]:
    """Every exchange DAG the registry's valid entries call for, keyed by dag_id."""
    registry = load_registry(registry_path(default_registry))
    wanted = get_parsing_context().dag_id  # set when a worker parses only to run one DAG's task
    dags = {}
    for exchange in registry.exchanges_in_use():
        if wanted and wanted != exchange.dag_id:
            continue
        dags[exchange.dag_id] = build_exchange_dag(
            exchange, registry.accounts_of(exchange.exchange), registry
        )
    return dags


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
        import_account.override(pool=exchange.pool, outlets=[accounts_alias(exchange.exchange)]).expand(
            account=[a.to_task_arg() for a in accounts]
        )
    return dag


def _doc(exchange: ExchangeConfig, accounts: tuple[AccountConfig, ...], registry: Registry) -> str:
    lines = [
        f"### {exchange.exchange}: {len(accounts)} account(s)",
        f"Built from `{registry.path}`. Pool `{exchange.pool}` limits concurrent requests to the exchange.",
        "",
        "| account | connection | streams | history from |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {a.id} | `{a.conn_id}` | {', '.join(a.streams)} | {a.history_start.date()} |" for a in accounts
    ]
    return "\n".join(lines)

"""The board: one row per registry account, from the same code as `exchange-sync status`
(status.registry_status reads the warehouse; nothing here queries it), plus what the account's
Airflow connection says (its key fingerprint, or why it cannot be used) and words for people."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from exchange_sync.airflow_connections import find_connection
from exchange_sync.hooks.credentials import ConnectionProblem, account_credentials
from exchange_sync.registry import Registry
from exchange_sync.status import registry_status
from exchange_sync.warehouse import Warehouse

log = logging.getLogger(__name__)

# The board's colours: green works, amber needs a person but is being waited for, red is broken.
COLOURS = {
    "healthy": "green",
    "waiting_for_keys": "amber",
    "failing": "red",
    "frozen": "blue",
    "never_synced": "grey",
}
STATE_WORDS = {
    "healthy": "healthy",
    "waiting_for_keys": "waiting for keys",
    "failing": "failing",
    "frozen": "frozen",
    "never_synced": "never synced",
}


def board(
    registry: Registry, warehouse: Warehouse, exchange: str | None = None, state: str | None = None
) -> dict[str, Any]:
    status = registry_status(registry, warehouse)
    now = datetime.now(UTC)
    runs = _runs(registry, [a["account"] for a in status["accounts"]])
    rows = [_row(a, registry, now, runs.get(a["account"])) for a in status["accounts"]]
    return {
        "rows": [
            r
            for r in rows
            if (not exchange or r["exchange"] == exchange) and (not state or r["state"] == state)
        ],
        "exchanges": sorted({r["exchange"] for r in rows}),
        "states": list(COLOURS),
        "invalid_entries": [e["error"] for e in status["invalid_entries"]],
        "generated_at": now.isoformat(),
    }


def connection_summary(conn_id: str, exchange: str) -> dict[str, Any]:
    """The current key's fingerprint, or the connection's problem in its own words. Never a secret."""
    try:
        credentials = account_credentials(find_connection(conn_id), conn_id, exchange)
    except ConnectionProblem as problem:
        return {"fingerprint": None, "problem": str(problem), "field": problem.field}
    return {"fingerprint": credentials.fingerprint, "problem": None, "field": None}


def _runs(registry: Registry, account_ids: list[str]) -> dict[str, dict[str, list]]:
    """Each account's last import and recovery runs in Airflow (runs.py), one read per exchange.
    Without them the board still shows everything else, with links to the DAGs' run lists."""
    from exchange_sync.ui.runs import recent_runs

    found: dict[str, dict[str, list]] = {}
    for exchange in sorted({registry.account(a).exchange for a in account_ids}):
        config = registry.exchange_config(exchange)
        ids = [a for a in account_ids if registry.account(a).exchange == exchange]
        try:
            found |= recent_runs(config.dag_id, config.recovery_dag_id, ids)
        except Exception:
            log.exception("The last runs of the %s accounts could not be read from Airflow", exchange)
    return found


def _row(
    account: dict[str, Any], registry: Registry, now: datetime, runs: dict[str, list] | None
) -> dict[str, Any]:
    exchange = registry.exchange_config(account["exchange"])
    connection = connection_summary(account["conn_id"], account["exchange"])
    incident = account["incident"]
    state = account["state"]
    stale_since = _stale_since(account)
    cause, since = _cause_and_since(account, connection)
    warnings = list(account["warnings"])
    if connection["problem"] and incident is None:
        warnings.append(connection["problem"])
    return {
        "account": account["account"],
        "exchange": account["exchange"],
        "conn_id": account["conn_id"],
        "state": state,
        "state_words": STATE_WORDS.get(state, state),
        "colour": COLOURS.get(state, "grey"),
        "cause": cause,
        "cause_code": incident["cause"] if incident else None,
        "remediation": incident["remediation"] if incident else None,
        "incident_id": incident["id"] if incident else None,
        "since": since,
        "stale_since": stale_since if state != "healthy" else None,
        "gap": _gap(stale_since, now) if state not in ("healthy", "never_synced") else None,
        # Rows missing are known only once a backfill has read the gap: the last one filled.
        "last_gap": _last_gap(account["last_gap"]),
        "last_success_at": account["last_success_at"],
        "streams": account["streams"],
        # Is the history complete (status.py, from reconcile/): for the page to show as it likes.
        "reconciliation": account["reconciliation"],
        "coverage": account["coverage"],
        "fingerprint": connection["fingerprint"],
        "connection_problem": connection["problem"],
        "warnings": warnings,
        "frozen": account["frozen"],
        # The account's own task instances and recovery runs; the DAGs' run lists besides.
        "runs": runs or {"imports": [], "recoveries": []},
        "links": {
            "runs": f"/dags/{exchange.dag_id}/runs",
            "recovery_runs": f"/dags/{exchange.recovery_dag_id}/runs",
            "connection": f"/connections/{account['conn_id']}",
        },
    }


def _cause_and_since(account: dict[str, Any], connection: dict[str, Any]) -> tuple[str | None, str | None]:
    incident = account["incident"]
    if account["frozen"]:
        return f"Frozen: {account['frozen']['reason']}", account["frozen"]["since"]
    if incident is not None:
        return incident["title"], incident["opened_at"]
    if account["state"] == "failing":
        return account["last_error"] or "The last import failed", account["last_attempt_at"]
    if connection["problem"]:
        return connection["problem"], None
    return None, None


def _stale_since(account: dict[str, Any]) -> str | None:
    incident = account["incident"]
    if incident and incident["stale_since"]:
        return incident["stale_since"]
    moments = [s["synced_until"] for s in account["streams"].values() if s["synced_until"]]
    return min(moments) if moments else None


def _gap(stale_since: str | None, now: datetime) -> str | None:
    if not stale_since:
        return None
    return human_duration(now - _moment(stale_since))


def _last_gap(gap: dict[str, Any] | None) -> dict[str, Any] | None:
    if gap is None:
        return None
    start, end = (_moment(gap[k]) for k in ("from", "to"))
    length = human_duration(end - start) if start and end else "a gap"
    rows = "rows unknown" if gap["rows"] is None else f"{gap['rows']} row{'s' if gap['rows'] != 1 else ''}"
    why = f"{gap['cause']}, incident #{gap['incident_id']}"
    return gap | {"words": f"last gap {length}: {rows} backfilled ({why})"}


def _moment(iso: str | None) -> datetime | None:
    if not iso:
        return None
    moment = datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def human_duration(delta: Any) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"

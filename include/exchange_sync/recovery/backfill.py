"""The recovery run's side: accept new keys, backfill the gap in bounded chunks, verify, close."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from exchange_sync import streams
from exchange_sync.hooks.ccxt import CcxtHook, build_client
from exchange_sync.importer.account import AccountImporter
from exchange_sync.importer.run import run_account_import
from exchange_sync.notify.deliver import deliver_due
from exchange_sync.notify.messages import (
    recovered_message,
    rejected_key_message,
    targets_for,
    wrong_account_message,
)
from exchange_sync.profiles import get_profile
from exchange_sync.redact import scrub_exception
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Warehouse
from exchange_sync.warehouse.incidents import RECOVERING, Incident

log = logging.getLogger(__name__)

TRADE_SYMBOLS_PER_CHUNK = 10


class CoverageGap(RuntimeError):
    pass


def incident_to_recover(account: AccountConfig, incident_id: Any, warehouse: Warehouse) -> Incident | None:
    """The incident a recovery run is for: the given one, or the account's open one."""
    if incident_id not in (None, "", "None"):
        incident = warehouse.incidents.get(int(incident_id))
        return None if incident.closed_at else incident
    return warehouse.incidents.open_for(account.id)


def refuse_keys(account: AccountConfig, incident: Incident, event: dict, warehouse: Warehouse) -> None:
    """New keys that cannot be used: tell the user why, remember the key version as failed."""
    now = datetime.now(UTC)
    targets = targets_for(account.notify)
    if event["status"] == "wrong_account":
        messages = wrong_account_message(incident, targets, event["fingerprint"], now)
        cause = "wrong_account"
    else:
        messages = rejected_key_message(
            incident, targets, event["fingerprint"], event["detail"] or event["cause"], now
        )
        cause = event["cause"] or "unknown"
    with warehouse.engine.begin() as conn:
        warehouse.outbox.enqueue(conn, messages)
    warehouse.keys.failed(account.id, event["fingerprint"], cause)
    deliver_due(warehouse, account.id)


def plan_backfill(account: AccountConfig, incident: Incident, event: dict, warehouse: Warehouse) -> dict:
    """Keys work again: mark the incident recovering and list the first chunks (one per stream)."""
    warehouse.incidents.set_state(incident.id, RECOVERING)
    warehouse.keys.worked(account.id, event["fingerprint"], event.get("exchange_uid"))
    started = datetime.now(UTC)
    log.info(
        "%s: keys %s accepted (%s); backfilling from %s",
        account.id,
        event["fingerprint"],
        event["status"],
        incident.stale_since,
    )
    prime_markets(account, warehouse)
    return {"started_at": started.isoformat(), "chunks": first_wave(account)}


def prime_markets(account: AccountConfig, warehouse: Warehouse) -> None:
    """The first wave's chunks start side by side: the market list is loaded (or found fresh)
    here, once, so none of them downloads it. Only an optimisation: should it fail, the first
    chunk that needs the list loads it (with its retries) and stores it for the others."""
    try:
        backfill_client(account, warehouse).load_markets()
    except Exception as exc:
        log.warning("%s: market list not loaded ahead of the backfill (%s)", account.id, scrub_exception(exc))


def backfill_client(account: AccountConfig, warehouse: Warehouse) -> Any:
    """A client of the backfill: the market list and request budget shared with its chunks."""
    credentials = CcxtHook(account.conn_id).get_credentials(account.exchange)
    return build_client(credentials, shared=warehouse.clients)


def first_wave(account: AccountConfig) -> list[dict]:
    """Chunks backfilled side by side first: one per stream, except that streams fed by another
    stay in its chunk, in import order (a ledger that holds the transfers goes before them).
    Where the exchange counts calls per key (and wants strictly increasing nonces), one chunk:
    clients side by side on one key would overrun its counter. Per-symbol streams follow in a
    second wave, since symbol discovery reads the transfers."""
    profile = get_profile(account.exchange)
    wanted = [s for s in profile.import_order if s in account.streams]
    per_symbol = {s for s in wanted if s in profile.sources and profile.sources[s].paging.per_symbol}
    fed_by_ledger = {streams.DEPOSITS, streams.WITHDRAWALS} if profile.transfers_from_ledger else set()
    chunks: list[list[str]] = []
    for stream in wanted:
        if stream in per_symbol:
            continue
        if chunks and profile.call_counter is not None:
            chunks[0].append(stream)
        elif stream in fed_by_ledger and streams.LEDGER in wanted:
            next(c for c in chunks if streams.LEDGER in c).append(stream)
        else:
            chunks.append([stream])
    return [{"streams": chunk} for chunk in chunks]


def backfill_stream(account: AccountConfig, chunk: dict, warehouse: Warehouse) -> int:
    """One bounded, resumable chunk: some streams (or a batch of symbols) from their cursors to now."""
    report = run_account_import(
        account, warehouse, only=tuple(chunk["streams"]), symbols=chunk.get("symbols")
    )
    return report["rows"]


def plan_trade_chunks(
    account: AccountConfig, warehouse: Warehouse, since: datetime | None = None
) -> list[dict]:
    """The second wave: per-symbol streams in batches of symbols (none where every stream pages
    without a symbol). The balance the first wave stored after `since` (the backfill's start)
    names the assets held; the balance is read again only where there is none."""
    profile = get_profile(account.exchange)
    per_symbol = [s for s in account.streams if s in profile.sources and profile.sources[s].paging.per_symbol]
    if not per_symbol:
        return []
    importer = AccountImporter(account, backfill_client(account, warehouse), warehouse, profile)
    symbols = importer.candidate_symbols(_balance_since(account, warehouse, since))
    size = TRADE_SYMBOLS_PER_CHUNK
    return [{"streams": per_symbol, "symbols": symbols[i : i + size]} for i in range(0, len(symbols), size)]


def _balance_since(account: AccountConfig, warehouse: Warehouse, since: datetime | None) -> dict | None:
    """The account's latest stored balance, as ccxt's totals, if it was taken after `since`."""
    snapshot = warehouse.latest_balances(account.id) if since is not None else {}
    if not snapshot or min(row["taken_at"] for row in snapshot.values()) < since:
        return None
    return {"total": {asset: row["total"] for asset, row in snapshot.items()}}


def coverage_gaps(account: AccountConfig, since: datetime, warehouse: Warehouse) -> list[str]:
    """Streams (or symbols) whose import does not reach `since`: a backfill is not complete.
    (To the second: exchanges that take times in seconds page windows ending on one.)"""
    since = since.replace(microsecond=0)
    gaps = []
    for stream in account.streams:
        cursors = warehouse.cursors(account.id, stream)
        if not cursors:
            gaps.append(f"{stream}: never imported")
        gaps += [
            f"{stream}{' ' + c.scope if c.scope else ''}: synced until {c.synced_until.isoformat()}"
            for c in cursors
            if c.synced_until < since
        ]
    return gaps


def lost_to_retention(
    account: AccountConfig, incident: Incident, started_at: datetime
) -> dict[str, tuple[datetime, datetime]]:
    """Per stream, the part of the gap the exchange's API had stopped serving when the backfill
    began: from the last good cursor to the start of what it still keeps."""
    profile = get_profile(account.exchange)
    lost = {}
    for stream, last_good in incident.last_good_cursors.items():
        served_from = profile.served_from(stream, started_at)
        if served_from is None or not last_good:
            continue
        if datetime.fromisoformat(last_good) < served_from:
            lost[stream] = (datetime.fromisoformat(last_good), served_from)
    return lost


def close_recovered(
    account: AccountConfig, incident: Incident, started_at: datetime, rows: int, warehouse: Warehouse
) -> Incident:
    gaps = coverage_gaps(account, started_at, warehouse)
    if gaps:
        raise CoverageGap(f"{account.id}: the backfill left gaps: {'; '.join(gaps)}")
    now = datetime.now(UTC)
    start = incident.stale_since or incident.opened_at
    lost = lost_to_retention(account, incident, started_at)
    messages = recovered_message(incident, targets_for(account.notify), rows, start, now, lost)
    closed = warehouse.incidents.close(
        incident.id, "recovered", messages, backfilled_rows=rows, backfill_from=start, backfill_to=now
    )
    deliver_due(warehouse, account.id)
    log.info(
        "%s: incident #%s closed, %d rows backfilled (%s → %s)", account.id, incident.id, rows, start, now
    )
    return closed

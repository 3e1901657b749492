"""Key audit: what the exchange says each healthy key may do, read a few times a day, so the board
and `exchange-sync status` warn about a key that expires soon or can trade or withdraw before
anything breaks (PRODUCT.md F14). The diagnosis reads the same facts, but only once a key fails.

One cheap authenticated read per key (the exchange's key-introspection endpoint from its
knowledge file), made by the exchange DAG's last task after the imports; it never fails a run.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Warehouse

log = logging.getLogger(__name__)

# A right the user removes after the warning stops being reported within this time; four cheap
# reads a day per key.
AUDIT_EVERY = timedelta(hours=6)


def audit_keys(accounts: list[AccountConfig], warehouse: Warehouse, now: datetime | None = None) -> int:
    """Read the facts of every importing account's key not read within AUDIT_EVERY; how many were read."""
    now = now or datetime.now(UTC)
    read = 0
    for account in accounts:
        version = _due(account, warehouse, now)
        if version is None:
            continue
        try:
            facts = _read_facts(account, version["fingerprint"])
        except Exception as exc:
            # Tried again after AUDIT_EVERY, not on every run; the facts read before stay. The
            # import itself went fine: this never fails the run.
            log.warning("%s: the key's permissions could not be read (%s)", account.id, type(exc).__name__)
            warehouse.keys.record_facts(account.id, version["fingerprint"], None)
            continue
        if facts is not None:
            warehouse.keys.record_facts(account.id, version["fingerprint"], facts)
            read += 1
    return read


def _due(account: AccountConfig, warehouse: Warehouse, now: datetime) -> dict[str, Any] | None:
    """The account's key version, if it is importing and its facts are older than AUDIT_EVERY."""
    from exchange_sync.diagnosis.knowledge import knowledge_for

    introspection = knowledge_for(account.exchange).introspection
    if introspection is None or not introspection.facts:
        return None
    state = warehouse.accounts.get(account.id)
    if (state and state.frozen) or warehouse.incidents.open_for(account.id) is not None:
        return None  # a broken key is the diagnosis's to read, a frozen one nobody's
    version = warehouse.keys.current(account.id)
    if version is None or version["last_ok_at"] is None or version["failed_at"] is not None:
        return None
    read_at = version["facts_read_at"]
    return version if read_at is None or now - read_at >= AUDIT_EVERY else None


def _read_facts(account: AccountConfig, fingerprint: str) -> dict[str, Any] | None:
    from exchange_sync.diagnosis.knowledge import knowledge_for
    from exchange_sync.diagnosis.probes import key_facts
    from exchange_sync.hooks.ccxt import CcxtHook, build_client

    credentials = CcxtHook(account.conn_id).get_credentials(account.exchange)
    if credentials.fingerprint != fingerprint:
        return None  # keys saved since the import: read once an import has used them
    client = build_client(credentials)
    return key_facts(knowledge_for(account.exchange), client).to_json()

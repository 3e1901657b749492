"""KeyRotationTrigger: waits in the triggerer (no worker slot) until an account's keys work again.

It watches the account's Airflow connection. New credentials (another fingerprint) are checked
once against the exchange: valid keys of the same exchange account fire "rotated"; keys of another
account fire "wrong_account", keys that fail fire "rejected" (the sensor tells the user and waits
on). Causes a user can fix on the exchange without new keys (permission, IP allow-list) are also
re-checked with the existing keys at a slow, doubling interval. Keys known to be dead are never
sent. Restart-safe: all state is in the constructor arguments.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

ROTATED, FIXED = "rotated", "fixed"
# How often the connection itself is read: a metastore read, no exchange request. Keys saved on
# the Connections page (or anywhere) are noticed within this, not after a whole poll interval.
CONNECTION_READ_SECONDS = 2.0


class KeyRotationTrigger(BaseTrigger):
    def __init__(
        self,
        conn_id: str,
        failing_fingerprint: str | None,
        expected_uid: str | None = None,  # who the account is at the exchange (key_check.py)
        recheck_existing: bool = False,
        poll_interval: float = 30.0,
        recheck_interval: float = 900.0,
        recheck_max_interval: float = 6 * 3600.0,
        rejected: list[str] | None = None,
        exchange: str | None = None,
    ):
        super().__init__()
        self.conn_id = conn_id
        self.exchange = exchange  # the account's; a connection for another exchange is not usable
        self.failing_fingerprint = failing_fingerprint
        self.expected_uid = expected_uid
        self.recheck_existing = recheck_existing
        self.poll_interval = poll_interval
        self.recheck_interval = recheck_interval
        self.recheck_max_interval = recheck_max_interval
        self.rejected = list(rejected or [])

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "exchange_sync.triggers.key_rotation.KeyRotationTrigger",
            {
                "conn_id": self.conn_id,
                "failing_fingerprint": self.failing_fingerprint,
                "expected_uid": self.expected_uid,
                "recheck_existing": self.recheck_existing,
                "poll_interval": self.poll_interval,
                "recheck_interval": self.recheck_interval,
                "recheck_max_interval": self.recheck_max_interval,
                "rejected": self.rejected,
                "exchange": self.exchange,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Imported here: the sensor (and so this module) is loaded at DAG parse time.
        from exchange_sync.triggers.key_check import UNANSWERED, VALID, check_keys

        interval = self.recheck_interval
        next_recheck = time.monotonic() + interval if self.recheck_existing else None
        self.log.info(
            "waiting for new keys in connection %s (the failing key is %s); the connection is read every "
            "%.0f s%s",
            self.conn_id,
            self.failing_fingerprint,
            min(self.poll_interval, CONNECTION_READ_SECONDS),
            f", and the existing key is checked again in {interval:.0f} s" if next_recheck else "",
        )
        seen = None
        while True:
            credentials = await self._credentials()
            if credentials is not None:
                fingerprint = seen = credentials.fingerprint
                if fingerprint != self.failing_fingerprint and fingerprint not in self.rejected:
                    check = await check_keys(credentials, self.expected_uid)
                    if check.outcome != UNANSWERED:
                        status = ROTATED if check.outcome == VALID else check.outcome
                        self.log.info("new credentials %s for %s: %s", fingerprint, self.conn_id, status)
                        yield TriggerEvent(_event(status, fingerprint, check, self.rejected))
                        return
                    self.log.info(
                        "new credentials %s for %s: the exchange did not answer (%s); checked again in "
                        "%.0f s",
                        fingerprint,
                        self.conn_id,
                        check.cause,
                        self.poll_interval,
                    )
                if next_recheck is not None and time.monotonic() >= next_recheck:
                    check = await check_keys(credentials, self.expected_uid)
                    if check.outcome == VALID:
                        yield TriggerEvent(_event(FIXED, fingerprint, check, self.rejected))
                        return
                    interval = min(interval * 2, self.recheck_max_interval)
                    next_recheck = time.monotonic() + interval
                    self.log.info(
                        "existing key %s still refused (%s); next check in %.0f s",
                        fingerprint,
                        check.cause,
                        interval,
                    )
            await self._sleep_unless_changed(seen)

    async def _sleep_unless_changed(self, seen: str | None) -> None:
        """Sleep a poll interval, but wake as soon as the connection holds other credentials."""
        deadline = time.monotonic() + self.poll_interval
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, CONNECTION_READ_SECONDS))
            if time.monotonic() >= deadline:
                return
            credentials = await self._credentials(quiet=True)
            if credentials is not None and credentials.fingerprint != seen:
                return

    async def _credentials(self, quiet: bool = False):
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        from exchange_sync.airflow_connections import find_connection
        from exchange_sync.hooks.credentials import account_credentials

        try:
            try:
                connection = await BaseHook.aget_connection(self.conn_id)
            except AirflowNotFoundException:
                # Where the trigger runs outside the triggerer (dag.test runs it in line), the
                # metastore is reachable only through Airflow core.
                connection = await asyncio.to_thread(find_connection, self.conn_id)
            return account_credentials(connection, self.conn_id, self.exchange) if connection else None
        except Exception as exc:  # deleted, half-edited or unusable connection: keep waiting
            if not quiet:
                self.log.warning("cannot read connection %s yet: %s", self.conn_id, exc)
            return None


def _event(status: str, fingerprint: str, check: Any, rejected: list[str]) -> dict[str, Any]:
    return {
        "status": status,
        "fingerprint": fingerprint,
        "rejected": rejected,
        "exchange_uid": check.exchange_uid,
        "cause": check.cause,
        "detail": check.detail,
    }

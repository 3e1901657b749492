"""WaitForNewKeysSensor: a deferrable sensor that waits, without a worker slot, until an account's
keys work again (see triggers/key_rotation.py), telling the user about unusable new keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator

from exchange_sync.triggers.key_rotation import FIXED, ROTATED, KeyRotationTrigger

# Causes a user can fix on the exchange without new keys: the existing key is re-checked slowly.
FIXABLE_IN_PLACE = ("permission_missing", "ip_not_allowed")


class WaitForNewKeysSensor(BaseSensorOperator):
    template_fields = ("account_id", "incident_id")

    def __init__(
        self,
        *,
        account_id: str,
        incident_id: str | int | None = None,
        poll_interval: float = 30,
        recheck_interval: float = 900,
        recheck_max_interval: float = 6 * 3600,
        **kwargs: Any,
    ):
        kwargs.setdefault("timeout", timedelta(days=7).total_seconds())
        super().__init__(**kwargs)
        self.account_id = account_id
        self.incident_id = incident_id
        self.poll_interval = poll_interval
        self.recheck_interval = recheck_interval
        self.recheck_max_interval = recheck_max_interval

    def execute(self, context: Any) -> Any:
        account, incident, warehouse = self._load()
        try:
            if incident is None:
                self.log.info("%s has no open incident: nothing to wait for", self.account_id)
                return {"status": "no_incident"}
            identity = known_identity(warehouse, account)
        finally:
            warehouse.close()
        self._defer(incident, identity, rejected=[])

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        if event["status"] in (ROTATED, FIXED):
            self.log.info(
                "%s: keys %s work again (%s)", self.account_id, event["fingerprint"], event["status"]
            )
            return event
        from exchange_sync.recovery.backfill import refuse_keys

        account, incident, warehouse = self._load()
        try:
            refuse_keys(account, incident, event, warehouse)
            identity = known_identity(warehouse, account)
        finally:
            warehouse.close()
        self.log.warning(
            "%s: new keys %s refused (%s); waiting on", self.account_id, event["fingerprint"], event["status"]
        )
        self._defer(incident, identity, rejected=[*event.get("rejected", []), event["fingerprint"]])

    def _defer(self, incident: Any, identity: str | None, rejected: list[str]) -> None:
        trigger = KeyRotationTrigger(
            conn_id=incident.conn_id,
            failing_fingerprint=incident.key_fingerprint,
            expected_uid=identity,
            # Also where the exchange's answer leaves such a cause open (Coinbase refuses a deleted
            # key and an IP off the allow-list with the same bare 401): fixing it there is enough.
            recheck_existing=bool({incident.cause, *incident.candidates} & set(FIXABLE_IN_PLACE)),
            poll_interval=self.poll_interval,
            recheck_interval=self.recheck_interval,
            recheck_max_interval=self.recheck_max_interval,
            rejected=rejected,
            exchange=incident.exchange,
        )
        recheck = (
            f"; the existing key is checked again in {self.recheck_interval:.0f} s, then at doubling "
            "intervals"
            if trigger.recheck_existing
            else ""
        )
        self.log.info(
            "%s: waiting for new keys in connection %s (incident #%s, %s; failing key %s). New keys are "
            "checked with the exchange as soon as they are saved (the connection is read every few "
            "seconds)%s; the wait ends after %.0f h.",
            self.account_id,
            incident.conn_id,
            incident.id,
            incident.cause,
            incident.key_fingerprint,
            recheck,
            self.timeout / 3600,
        )
        self.defer(trigger=trigger, method_name="execute_complete", timeout=timedelta(seconds=self.timeout))

    def _load(self) -> tuple[Any, Any, Any]:
        from exchange_sync.recovery.backfill import incident_to_recover
        from exchange_sync.registry import load_registry
        from exchange_sync.settings import registry_path
        from exchange_sync.warehouse import Warehouse

        account = load_registry(registry_path()).account(self.account_id)
        warehouse = Warehouse.open()
        return account, incident_to_recover(account, self.incident_id, warehouse), warehouse


def known_identity(warehouse: Any, account: Any) -> str | None:
    """Who the account is at the exchange, as its earlier keys said (None until a key worked)."""
    state = warehouse.accounts.get(account.id)
    return state.exchange_uid if state else None

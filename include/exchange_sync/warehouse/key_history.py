"""Key history: every credential version of an account, by fingerprint (never the secret)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from exchange_sync.warehouse import schema
from exchange_sync.warehouse.upsert import upsert


class KeyHistory:
    def __init__(self, engine: Engine):
        self.engine = engine

    def worked(self, account_id: str, fingerprint: str, exchange_uid: str | None = None) -> None:
        """The key just worked: it is the account's current version; earlier ones are replaced."""
        now = datetime.now(UTC)
        k = schema.key_versions.c
        with self.engine.begin() as conn:
            self._touch(conn, account_id, fingerprint, now)
            values: dict = {"last_ok_at": now}
            if exchange_uid:
                values["exchange_uid"] = exchange_uid
            conn.execute(
                update(schema.key_versions)
                .where(k.account_id == account_id, k.fingerprint == fingerprint)
                .values(**values)
            )
            conn.execute(
                update(schema.key_versions)
                .where(k.account_id == account_id, k.fingerprint != fingerprint, k.replaced_at.is_(None))
                .values(replaced_at=now)
            )

    def failed(self, account_id: str, fingerprint: str, cause: str) -> None:
        now = datetime.now(UTC)
        k = schema.key_versions.c
        with self.engine.begin() as conn:
            self._touch(conn, account_id, fingerprint, now)
            conn.execute(
                update(schema.key_versions)
                .where(k.account_id == account_id, k.fingerprint == fingerprint)
                .values(failed_at=now, failure_cause=cause)
            )

    def record_facts(self, account_id: str, fingerprint: str, facts: dict[str, Any] | None) -> None:
        """What the exchange says this key may do (JSON of diagnosis.facts.KeyFacts), read now;
        None: the read failed, the facts read before stay."""
        k = schema.key_versions.c
        values: dict[str, Any] = {"facts_read_at": datetime.now(UTC)}
        if facts is not None:
            values["facts"] = json.dumps(facts)
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.key_versions)
                .where(k.account_id == account_id, k.fingerprint == fingerprint)
                .values(**values)
            )

    def current(self, account_id: str) -> dict | None:
        """The version in use: the latest that is not replaced (it may have failed since)."""
        in_use = [v for v in self.versions(account_id) if v["replaced_at"] is None]
        if not in_use:
            return None
        version = max(in_use, key=lambda v: v["last_used_at"])
        return version | {"facts": json.loads(version["facts"]) if version["facts"] else None}

    def versions(self, account_id: str) -> list[dict]:
        k = schema.key_versions.c
        query = select(schema.key_versions).where(k.account_id == account_id).order_by(k.first_used_at)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    @staticmethod
    def _touch(conn, account_id: str, fingerprint: str, now: datetime) -> None:
        k = schema.key_versions.c
        exists = conn.execute(
            select(k.fingerprint).where(k.account_id == account_id, k.fingerprint == fingerprint)
        ).first()
        if exists:
            conn.execute(
                update(schema.key_versions)
                .where(k.account_id == account_id, k.fingerprint == fingerprint)
                .values(last_used_at=now)
            )
        else:
            row = {
                "account_id": account_id,
                "fingerprint": fingerprint,
                "first_used_at": now,
                "last_used_at": now,
            }
            upsert(conn, schema.key_versions, [row])

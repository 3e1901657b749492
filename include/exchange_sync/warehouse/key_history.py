"""Key history: every credential version of an account, by fingerprint (never the secret)."""

from __future__ import annotations

from datetime import UTC, datetime

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

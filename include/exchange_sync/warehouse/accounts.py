"""Account state that outlives keys: the exchange's own id for the account, and freezing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from exchange_sync.warehouse import schema
from exchange_sync.warehouse.upsert import upsert


@dataclass(frozen=True)
class AccountState:
    account_id: str
    exchange: str
    exchange_uid: str | None = None
    frozen_at: datetime | None = None
    frozen_reason: str | None = None

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


class Accounts:
    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, account_id: str) -> AccountState | None:
        query = select(schema.accounts).where(schema.accounts.c.account_id == account_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return AccountState(**row) if row else None

    def remember_uid(self, account_id: str, exchange: str, uid: str) -> None:
        """The first uid seen is the account's identity; keys answering with another uid are refused."""
        if (state := self.get(account_id)) is not None and state.exchange_uid:
            return
        self._set(account_id, exchange, exchange_uid=uid)

    def freeze(self, account_id: str, exchange: str, reason: str) -> None:
        self._set(account_id, exchange, frozen_at=datetime.now(UTC), frozen_reason=reason)

    def unfreeze(self, account_id: str, exchange: str) -> None:
        self._set(account_id, exchange, frozen_at=None, frozen_reason=None)

    def _set(self, account_id: str, exchange: str, **values: object) -> None:
        with self.engine.begin() as conn:
            upsert(conn, schema.accounts, [{"account_id": account_id, "exchange": exchange, **values}])

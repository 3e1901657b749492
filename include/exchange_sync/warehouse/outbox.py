"""The notification outbox: messages are written with the state change that calls for them and
delivered later, at least once. A claim stops two deliverers from sending the same row; a sent row
is never sent again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from exchange_sync.warehouse import schema

CLAIM_TIMEOUT = timedelta(minutes=10)  # a deliverer that died mid-send frees its claim after this
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


@dataclass(frozen=True)
class Message:
    dedupe_key: str  # one message per key, ever: e.g. "incident-7:alert"
    account_id: str
    kind: str
    target: str  # an Apprise connection id
    title: str
    body: str
    due_at: datetime
    incident_id: int | None = None


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    account_id: str
    target: str
    title: str
    body: str
    attempts: int


class Outbox:
    def __init__(self, engine: Engine):
        self.engine = engine

    @staticmethod
    def enqueue(conn: Connection, messages: list[Message]) -> None:
        """Inside the caller's transaction; a message whose dedupe key exists is not added again."""
        if not messages:
            return
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[conn.dialect.name]
        rows = [
            {
                "dedupe_key": m.dedupe_key,
                "incident_id": m.incident_id,
                "account_id": m.account_id,
                "kind": m.kind,
                "target": m.target,
                "title": m.title,
                "body": m.body,
                "due_at": m.due_at,
                "attempts": 0,
            }
            for m in messages
        ]
        conn.execute(insert(schema.notifications).on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)

    @staticmethod
    def cancel_pending(conn: Connection, incident_id: int, kinds: tuple[str, ...]) -> None:
        n = schema.notifications.c
        conn.execute(
            update(schema.notifications)
            .where(
                n.incident_id == incident_id, n.kind.in_(kinds), n.sent_at.is_(None), n.cancelled_at.is_(None)
            )
            .values(cancelled_at=datetime.now(UTC))
        )

    def claim_due(self, now: datetime | None = None, account_id: str | None = None) -> list[Claimed]:
        now = now or datetime.now(UTC)
        n = schema.notifications.c
        claimable = and_(
            n.sent_at.is_(None),
            n.cancelled_at.is_(None),
            n.due_at <= now,
            or_(n.claimed_at.is_(None), n.claimed_at < now - CLAIM_TIMEOUT),
        )
        query = select(schema.notifications).where(claimable).order_by(n.due_at, n.id)
        if account_id is not None:
            query = query.where(n.account_id == account_id)
        claimed = []
        with self.engine.begin() as conn:
            for row in conn.execute(query).mappings().all():
                # The row is ours only if nobody claimed it between the select and this update.
                won = conn.execute(
                    update(schema.notifications)
                    .where(n.id == row["id"], claimable)
                    .values(claimed_at=now, attempts=n.attempts + 1)
                ).rowcount
                if won:
                    claimed.append(
                        Claimed(
                            id=row["id"],
                            kind=row["kind"],
                            account_id=row["account_id"],
                            target=row["target"],
                            title=row["title"],
                            body=row["body"],
                            attempts=row["attempts"] + 1,
                        )
                    )
        return claimed

    def mark_sent(self, message_id: int) -> None:
        self._update(message_id, sent_at=datetime.now(UTC), last_error=None)

    def mark_failed(self, message_id: int, attempts: int, error: str) -> None:
        delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
        self._update(message_id, claimed_at=None, last_error=error[:2000], due_at=datetime.now(UTC) + delay)

    def messages(self, account_id: str) -> list[dict]:
        n = schema.notifications.c
        query = select(schema.notifications).where(n.account_id == account_id).order_by(n.due_at, n.id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def _update(self, message_id: int, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.notifications).where(schema.notifications.c.id == message_id).values(**values)
            )

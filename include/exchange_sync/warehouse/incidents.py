"""Incidents: a broken connection that needs a person, from diagnosis to recovery.

Opening an incident and queueing its alert and reminders is one transaction, and the partial unique
index allows one open incident per account: a second failure (or a retried task) finds the open
one instead of alerting twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from exchange_sync.warehouse import schema
from exchange_sync.warehouse.outbox import Message, Outbox

OPEN, RECOVERING, CLOSED = "open", "recovering", "closed"


@dataclass(frozen=True)
class Incident:
    id: int
    account_id: str
    exchange: str
    conn_id: str
    cause: str
    candidates: tuple[str, ...]
    title: str
    remediation: str
    evidence: dict[str, Any]
    key_fingerprint: str | None
    opened_at: datetime
    stale_since: datetime | None
    last_good_cursors: dict[str, str]
    state: str
    closed_at: datetime | None = None
    resolution: str | None = None
    backfilled_rows: int | None = None
    backfill_from: datetime | None = None
    backfill_to: datetime | None = None

    @classmethod
    def from_row(cls, row: Any) -> Incident:
        data = dict(row)
        data["candidates"] = tuple(json.loads(data["candidates"]))
        data["evidence"] = json.loads(data["evidence"])
        data["last_good_cursors"] = json.loads(data["last_good_cursors"])
        return cls(**data)

    def history_leaving(self, retention: dict[str, timedelta]) -> dict[str, tuple[datetime, datetime]]:
        """Per stream the exchange's API keeps for `retention` only: (the oldest moment not
        imported since the connection broke, when it leaves the API)."""
        leaving = {}
        for stream, kept in retention.items():
            last_good = self.last_good_cursors.get(stream)
            if not last_good:
                continue
            oldest_missing = datetime.fromisoformat(last_good)
            if oldest_missing.tzinfo is None:
                oldest_missing = oldest_missing.replace(tzinfo=UTC)
            leaving[stream] = (oldest_missing, oldest_missing + kept)
        return leaving

    def to_summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cause": self.cause,
            "candidates": list(self.candidates),
            "title": self.title,
            "state": self.state,
            "opened_at": self.opened_at.isoformat(),
            "stale_since": self.stale_since.isoformat() if self.stale_since else None,
            "key_fingerprint": self.key_fingerprint,
        }


class Incidents:
    def __init__(self, engine: Engine):
        self.engine = engine

    def open(
        self, fields: dict[str, Any], compose: Callable[[Incident], list[Message]]
    ) -> tuple[Incident, bool]:
        """Open the account's incident and queue its messages, or return the one already open.

        `fields` are the incidents columns (JSON ones as Python values); `compose` builds the
        messages once the incident has its id. Returns (incident, created).
        """
        row = dict(fields)
        for name in ("candidates", "evidence", "last_good_cursors"):
            row[name] = json.dumps(row[name], default=str)
        row.setdefault("opened_at", datetime.now(UTC))
        row["state"] = OPEN
        try:
            with self.engine.begin() as conn:
                incident_id = conn.execute(insert(schema.incidents).values(**row)).inserted_primary_key[0]
                incident = self._get(conn, incident_id)
                Outbox.enqueue(conn, compose(incident))
        except IntegrityError:
            existing = self.open_for(fields["account_id"])
            if existing is None:
                raise
            return existing, False
        return incident, True

    def open_for(self, account_id: str) -> Incident | None:
        i = schema.incidents.c
        query = select(schema.incidents).where(i.account_id == account_id, i.closed_at.is_(None))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return Incident.from_row(row) if row else None

    def get(self, incident_id: int) -> Incident:
        with self.engine.connect() as conn:
            return self._get(conn, incident_id)

    def history(self, account_id: str) -> list[Incident]:
        i = schema.incidents.c
        query = select(schema.incidents).where(i.account_id == account_id).order_by(i.opened_at)
        with self.engine.connect() as conn:
            return [Incident.from_row(r) for r in conn.execute(query).mappings()]

    def set_state(self, incident_id: int, state: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.incidents).where(schema.incidents.c.id == incident_id).values(state=state)
            )

    def close(self, incident_id: int, resolution: str, messages: list[Message], **figures: Any) -> Incident:
        """Close it, cancel its pending reminders and queue the closing messages, in one transaction."""
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.incidents)
                .where(schema.incidents.c.id == incident_id)
                .values(state=CLOSED, closed_at=datetime.now(UTC), resolution=resolution, **figures)
            )
            Outbox.cancel_pending(conn, incident_id, kinds=("reminder", "retention_warning"))
            Outbox.enqueue(conn, messages)
            return self._get(conn, incident_id)

    @staticmethod
    def _get(conn, incident_id: int) -> Incident:
        row = (
            conn.execute(select(schema.incidents).where(schema.incidents.c.id == incident_id))
            .mappings()
            .one()
        )
        return Incident.from_row(row)

"""Facts about a key, read from an exchange's key-introspection answer by the paths its knowledge
file gives, and the proactive warnings they raise (PRODUCT.md F14)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from exchange_sync.diagnosis.body import values_at
from exchange_sync.diagnosis.knowledge import Fact, Introspection

EXPIRY_WARNING = timedelta(days=14)


@dataclass(frozen=True)
class KeyFacts:
    can_read: bool | None = None
    can_trade: bool | None = None
    can_withdraw: bool | None = None
    ip_restricted: bool | None = None
    expires_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in vars(self).items()
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyFacts:
        expires = data.get("expires_at")
        return cls(
            **{name: data.get(name) for name in ("can_read", "can_trade", "can_withdraw", "ip_restricted")},
            expires_at=datetime.fromisoformat(expires) if expires else None,
        )


def read_facts(introspection: Introspection, answer: Any) -> KeyFacts:
    return KeyFacts(**{name: _read(fact, answer) for name, fact in introspection.facts.items()})


def _read(fact: Fact, answer: Any) -> Any:
    values = values_at(answer, fact.path)
    if fact.time:
        return _moment(values[0], fact.time) if values else None
    if not values:
        return None
    value = values[0] if len(values) == 1 else values
    if fact.contains is not None:
        result = fact.contains.lower() in (
            [str(v).lower() for v in value] if isinstance(value, list) else str(value).lower()
        )
    elif fact.equals is not None:
        result = str(value).lower() == str(fact.equals).lower()
    else:
        result = _truthy(value)
    return not result if fact.negate else result


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "none", "null")
    return bool(value)


def _moment(value: Any, unit: str) -> datetime | None:
    if value in (None, "", 0, "0"):
        return None
    if unit == "iso":
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(float(value) / (1000 if unit == "ms" else 1), tz=UTC)
    # Exchanges say "never expires" with the epoch itself (Bybit: 1970-01-01T00:00:00Z).
    return None if moment.timestamp() <= 0 else moment


def warnings_for(facts: KeyFacts, exchange_name: str, now: datetime | None = None) -> tuple[str, ...]:
    now = now or datetime.now(UTC)
    found = []
    if facts.expires_at is not None and now <= facts.expires_at <= now + EXPIRY_WARNING:
        days = max(0, (facts.expires_at - now).days)
        found.append(
            f"The {exchange_name} API key expires in {days} day{'s' if days != 1 else ''} "
            f"({facts.expires_at:%Y-%m-%d %H:%M} UTC): replace it before then to avoid a gap."
        )
    if facts.can_withdraw:
        found.append(
            f"The {exchange_name} API key can withdraw funds. exchange-sync only reads: remove the "
            "withdrawal permission (a leaked key could empty the account)."
        )
    if facts.can_trade:
        found.append(
            f"The {exchange_name} API key can trade. exchange-sync only reads: remove the trading "
            "permission to limit what a leaked key can do."
        )
    return tuple(found)

"""Live probes: narrow a diagnosis with the exchange's own answers about the key.

Exchanges lock out keys and ban IPs that keep failing, so an incident may cost at most two failing
authenticated requests: the import's own, and at most one probe. Probes run on a fresh ccxt
instance (a used Binance instance would turn -2015 into DDoSProtection), only for causes a person
must act on, and stop at the first failure.

Where the exchange's knowledge file has a key-introspection endpoint, that answers. Any other
exchange gets read_probe.py: one cheap authenticated read, which tells a key that works from here
(so the failing endpoint needs a permission) from a key refused everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from exchange_sync.diagnosis.body import values_at
from exchange_sync.diagnosis.classify import build, classify
from exchange_sync.diagnosis.facts import KeyFacts, read_facts, warnings_for
from exchange_sync.diagnosis.failure import Failure
from exchange_sync.diagnosis.knowledge import ExchangeKnowledge, knowledge_for
from exchange_sync.diagnosis.model import Diagnosis
from exchange_sync.diagnosis.read_probe import read_probe

# Causes whose answer the key-introspection endpoint can confirm or rule out. Not the account's
# state: where the failure already names it (Kraken "ETrade:User Locked"), a probe would only
# blur it (Kraken refuses GetApiKeyInfo of a locked account like one from a disallowed IP).
KEY_CAUSES = frozenset({"key_invalid", "key_revoked", "key_expired", "permission_missing", "ip_not_allowed"})


def diagnose(
    failure: Failure,
    new_client: Callable[[], Any],
    streams: tuple[str, ...] | None = None,
) -> Diagnosis:
    """Classify a failed request, then probe where the answer is about the key and left open.

    `streams` are the account's: a missing permission is named among the ones they need."""
    knowledge = knowledge_for(failure.exchange)
    diagnosis = classify(failure.exchange, failure.http_status, failure.body, error=failure.error())
    if diagnosis.transient or not set(diagnosis.candidates) & KEY_CAUSES:
        return diagnosis
    if knowledge.introspection is None:
        diagnosis, client, answered = read_probe(diagnosis, knowledge, new_client)
    else:
        client = new_client()
        diagnosis, answered = _probe(diagnosis, knowledge, client)
    if answered and diagnosis.cause == "permission_missing":
        # Only after a probe that answered: a failed one already spent the second failing request.
        diagnosis = _name_missing_permission(
            diagnosis, knowledge, client, streams or tuple(knowledge.permissions)
        )
    return diagnosis


def key_facts(knowledge: ExchangeKnowledge, client: Any) -> KeyFacts:
    """What the exchange says this key may do (for warnings while it is healthy)."""
    introspection = knowledge.introspection
    answer = getattr(client, introspection.method)(dict(introspection.params))
    return read_facts(introspection, answer)


def _probe(diagnosis: Diagnosis, knowledge: ExchangeKnowledge, client: Any) -> tuple[Diagnosis, bool]:
    """The narrowed diagnosis, and whether the introspection call answered."""
    introspection = knowledge.introspection
    try:
        answer = getattr(client, introspection.method)(dict(introspection.params))
    except Exception as exc:
        return _after_failed_introspection(diagnosis, knowledge, client, exc), False
    facts = read_facts(introspection, answer)
    note = f"{introspection.method}: answered ({_describe(facts)})"
    decided = _cause_from_facts(facts) or _cause_from_account_status(knowledge, client)
    if decided is None:
        # The key exists, is accepted from this IP and may read: nothing about the key explains the
        # failure, so what is left is a permission the failing endpoint needs beyond reading.
        decided = "permission_missing" if "permission_missing" in diagnosis.candidates else diagnosis.cause
    narrowed = build(knowledge, (decided,), diagnosis.evidence, warnings=warnings_for(facts, knowledge.name))
    return narrowed.with_probe(note).with_probe(f"decided: {decided}"), True


def _after_failed_introspection(
    diagnosis: Diagnosis, knowledge: ExchangeKnowledge, client: Any, exc: Exception
) -> Diagnosis:
    failed = Failure.from_exception(knowledge.exchange, exc, client)
    probe = classify(knowledge.exchange, failed.http_status, failed.body, error=exc, context="introspection")
    note = (
        f"{knowledge.introspection.method}: {failed.http_status} {probe.evidence.code or failed.error_class}"
    )
    if probe.transient:
        return diagnosis.with_probe(note + " (transient; diagnosis unchanged)")
    # Keep the original evidence (the import's failure) and add what the probe showed.
    narrowed = replace(probe, evidence=diagnosis.evidence)
    return narrowed.with_probe(note).with_probe(f"decided: {probe.cause}")


def _name_missing_permission(
    diagnosis: Diagnosis, knowledge: ExchangeKnowledge, client: Any, streams: tuple[str, ...]
) -> Diagnosis:
    """One cheap read per needed permission, stopping at the first refusal: that one is missing."""
    needed = {s: knowledge.permissions[s] for s in streams if s in knowledge.permissions}
    tried: set[str] = set()
    for stream, method in knowledge.permission_reads.items():
        if stream not in needed or needed[stream] in tried:
            continue
        tried.add(needed[stream])
        try:
            getattr(client, method)()
        except Exception:
            missing = needed[stream]
            named = replace(
                diagnosis,
                remediation=f"Missing permission: {missing} (for {stream}). {diagnosis.remediation}",
            )
            return named.with_probe(f"{method}: refused, so '{missing}' is missing")
    if not needed:
        return diagnosis
    names = ", ".join(sorted(set(needed.values())))
    return replace(diagnosis, remediation=f"The import needs: {names}. {diagnosis.remediation}")


def _cause_from_facts(facts: KeyFacts) -> str | None:
    if facts.expires_at is not None and facts.expires_at <= datetime.now(UTC):
        return "key_expired"
    if facts.can_read is False:
        return "permission_missing"
    return None


def _cause_from_account_status(knowledge: ExchangeKnowledge, client: Any) -> str | None:
    probe = knowledge.account_status
    if probe is None:
        return None
    try:
        answer = getattr(client, probe.method)()
    except Exception:
        return None  # a second failure would say nothing new; the introspection already passed
    values = [str(v) for v in values_at(answer, probe.path)]
    return None if values and all(v in probe.normal for v in values) else probe.cause


def _describe(facts: KeyFacts) -> str:
    parts = [f"{name}={value}" for name, value in vars(facts).items() if value is not None]
    return ", ".join(parts) or "no facts"

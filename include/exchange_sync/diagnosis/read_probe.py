"""The probe for any exchange without a key-introspection entry: one cheap authenticated read.

ccxt's `fetch_balance` needs nothing but a working key on nearly every exchange. If it answers,
the key exists, is accepted from this IP and signs right, so what failed is a permission of the
failing endpoint. If it is refused too, the key is refused everywhere: a key (or IP allow-list)
problem comes first. It costs at most one failing request (ccxt raises at the first refusal), and
runs only when its answer can change the diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exchange_sync.diagnosis.classify import build, classify
from exchange_sync.diagnosis.failure import Failure
from exchange_sync.diagnosis.knowledge import ExchangeKnowledge
from exchange_sync.diagnosis.model import Diagnosis

READ = "fetch_balance"
# Causes that refuse a key on every endpoint alike (an IP allow-list is per key, not per endpoint).
KEY_WIDE = frozenset({"key_invalid", "key_revoked", "key_expired", "ip_not_allowed"})


def read_probe(
    diagnosis: Diagnosis, knowledge: ExchangeKnowledge, new_client: Callable[[], Any]
) -> tuple[Diagnosis, Any, bool]:
    """The narrowed diagnosis, the fresh client (None if none was needed), and whether the read
    answered (then no failing request was spent)."""
    if "permission_missing" not in diagnosis.candidates or not KEY_WIDE & set(diagnosis.candidates):
        return diagnosis, None, False  # the read cannot tell these candidates apart: spend nothing
    client = new_client()
    if not client.has.get("fetchBalance"):
        return diagnosis.with_probe(f"not probed: ccxt has no {READ} for {knowledge.name}"), client, False
    try:
        getattr(client, READ)()
    except Exception as exc:
        return _refused(diagnosis, knowledge, client, exc), client, False
    narrowed = build(knowledge, ("permission_missing",), diagnosis.evidence)
    note = f"{READ}: answered (the key works from this IP)"
    return narrowed.with_probe(note).with_probe("decided: permission_missing"), client, True


def _refused(diagnosis: Diagnosis, knowledge: ExchangeKnowledge, client: Any, exc: Exception) -> Diagnosis:
    failed = Failure.from_exception(knowledge.exchange, exc, client)
    probe = classify(knowledge.exchange, failed.http_status, failed.body, error=exc)
    note = f"{READ}: refused ({failed.http_status} {probe.cause})"
    if probe.transient:
        return diagnosis.with_probe(note + "; transient, diagnosis unchanged")
    ranked = _ranked(diagnosis.candidates, probe.cause)
    return build(knowledge, ranked, diagnosis.evidence).with_probe(note).with_probe(f"decided: {ranked[0]}")


def _ranked(candidates: tuple[str, ...], refused_as: str) -> tuple[str, ...]:
    """The refusal's own cause first where it is one of the candidates (a balance read refused
    for a missing permission names that); otherwise the causes that refuse a key everywhere.
    Nothing is dropped: a key without any read permission is refused everywhere too."""
    if refused_as in candidates:
        first: tuple[str, ...] = (refused_as,)
    else:
        first = tuple(c for c in candidates if c in KEY_WIDE)
    return (*first, *(c for c in candidates if c not in first))

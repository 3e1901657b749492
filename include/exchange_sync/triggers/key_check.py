"""Check a set of credentials against the exchange, without a worker: the trigger's one request,
and (with `streams`) the fuller check the Connections page's Fix it and the Test button make."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from exchange_sync.diagnosis.classify import classify
from exchange_sync.diagnosis.failure import Failure
from exchange_sync.hooks.ccxt import Credentials, build_client
from exchange_sync.profiles import get_profile, identity_in

VALID, WRONG_ACCOUNT, REJECTED = "valid", "wrong_account", "rejected"
# The exchange could not say (rate limit, outage, a body that is not an answer): ask again later.
UNANSWERED = "unanswered"


@dataclass(frozen=True)
class KeyCheck:
    outcome: str  # valid | wrong_account | rejected | unanswered
    exchange_uid: str | None = None
    cause: str | None = None
    detail: str = ""
    remediation: str = ""  # what to do, in the exchange's own words (only with `streams`)
    warnings: tuple[str, ...] = ()  # e.g. the key can trade or withdraw (only with `streams`)


async def check_keys(
    credentials: Credentials, expected_uid: str | None, streams: tuple[str, ...] | None = None
) -> KeyCheck:
    """One authenticated read (the balance) with these keys, and whose account they open (the
    balance answer says on Binance; Kraken needs GetApiKeyInfo, which needs no permission).

    With `streams` (keys a person is entering now, who waits for the answer), also what the key
    may do: a refusal is narrowed the way the pipeline's diagnosis narrows one (so "no reading
    permission" is not reported as "revoked"), the exchange's key introspection and one cheap read
    per permission the streams need must pass, and trade or withdrawal rights become warnings."""
    profile = get_profile(credentials.exchange)
    client = build_client(credentials, asynchronous=True)
    try:
        balance = await client.fetch_balance()
        identity = profile.identity
        answer = balance
        if identity is not None and identity.method != "fetch_balance":
            answer = await getattr(client, identity.method)({})
        uid = identity_in(identity, answer) if identity is not None else None
    except Exception as exc:
        failure = Failure.from_exception(credentials.exchange, exc, client)
        if streams is not None:
            return await _narrowed_refusal(credentials, failure, streams)
        diagnosis = classify(failure.exchange, failure.http_status, failure.body, error=exc)
        outcome = UNANSWERED if diagnosis.transient else REJECTED
        return KeyCheck(outcome, cause=diagnosis.cause, detail=diagnosis.title)
    else:
        if expected_uid and uid and uid != expected_uid:
            return KeyCheck(WRONG_ACCOUNT, exchange_uid=uid, detail=f"the keys open account {uid}")
        if streams is not None:
            return await _permissions(credentials, client, uid, streams)
        return KeyCheck(VALID, exchange_uid=uid)
    finally:
        await client.close()


async def _narrowed_refusal(credentials: Credentials, failure: Failure, streams: tuple[str, ...]) -> KeyCheck:
    """The pipeline's own diagnosis (probes.py: at most one more request, on a fresh client)."""
    from exchange_sync.diagnosis.probes import diagnose

    diagnosis = await asyncio.to_thread(diagnose, failure, lambda: build_client(credentials), tuple(streams))
    return KeyCheck(
        UNANSWERED if diagnosis.transient else REJECTED,
        cause=diagnosis.cause,
        detail=diagnosis.title,
        remediation=diagnosis.remediation,
        warnings=diagnosis.warnings,
    )


async def _permissions(
    credentials: Credentials, client, uid: str | None, streams: tuple[str, ...]
) -> KeyCheck:
    from exchange_sync.diagnosis.facts import read_facts, warnings_for
    from exchange_sync.diagnosis.knowledge import knowledge_for

    knowledge = knowledge_for(credentials.exchange)
    warnings: tuple[str, ...] = ()
    missing = None
    if knowledge.introspection is not None:
        introspection = knowledge.introspection
        try:
            answer = await getattr(client, introspection.method)(dict(introspection.params))
        except Exception:  # the balance read passed: the per-permission reads below decide
            answer = None
        if answer is not None:
            facts = read_facts(introspection, answer)
            warnings = warnings_for(facts, knowledge.name)
            if facts.can_read is False:
                missing = ", ".join(
                    sorted({knowledge.permissions[s] for s in streams if s in knowledge.permissions})
                )
    if missing is None:
        # One cheap read per permission the account's streams need; the first refusal names it.
        tried: set[str] = set()
        for stream, method in knowledge.permission_reads.items():
            permission = knowledge.permissions.get(stream)
            if stream not in streams or permission is None or permission in tried:
                continue
            tried.add(permission)
            try:
                await getattr(client, method)()
            except Exception:
                missing = f"{permission} (for {stream})"
                break
    if missing:
        return KeyCheck(
            REJECTED,
            exchange_uid=uid,
            cause="permission_missing",
            detail=f"The {knowledge.name} API key lacks a permission the import needs: {missing}",
            remediation=knowledge.remediation_for("permission_missing"),
            warnings=warnings,
        )
    return KeyCheck(VALID, exchange_uid=uid, warnings=warnings)

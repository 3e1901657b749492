"""Check a set of credentials against the exchange, without a worker: the trigger's one request."""

from __future__ import annotations

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


async def check_keys(credentials: Credentials, expected_uid: str | None) -> KeyCheck:
    """One authenticated read (the balance) with these keys, and whose account they open (the
    balance answer says on Binance; Kraken needs GetApiKeyInfo, which needs no permission)."""
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
        diagnosis = classify(failure.exchange, failure.http_status, failure.body, error=exc)
        outcome = UNANSWERED if diagnosis.transient else REJECTED
        return KeyCheck(outcome, cause=diagnosis.cause, detail=diagnosis.title)
    finally:
        await client.close()
    if expected_uid and uid and uid != expected_uid:
        return KeyCheck(WRONG_ACCOUNT, exchange_uid=uid, detail=f"the keys open account {uid}")
    return KeyCheck(VALID, exchange_uid=uid)

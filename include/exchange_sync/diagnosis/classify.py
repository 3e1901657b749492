"""The one classifier: (exchange, HTTP status, body[, ccxt exception]) -> Diagnosis.

Order, as ccxt users would expect it: the body first goes through the real ccxt exchange class's
own error handling, so ccxt's mapping is respected; then the exchange's knowledge file corrects
what ccxt maps generically or wrongly; then the HTTP status decides what is still open.
"""

from __future__ import annotations

from dataclasses import replace

from exchange_sync.diagnosis.body import parse, texts_at
from exchange_sync.diagnosis.causes import CAUSES, TRANSIENT
from exchange_sync.diagnosis.ccxt_verdict import Verdict, ccxt_verdict
from exchange_sync.diagnosis.failure import Failure
from exchange_sync.diagnosis.knowledge import ExchangeKnowledge, generic, knowledge_for
from exchange_sync.diagnosis.model import Diagnosis, Evidence

# ccxt classes, most specific first, and what they mean when ccxt recognised the body.
CLASS_CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AccountSuspended", ("account_suspended", "account_closed")),
    ("AccountNotEnabled", ("permission_missing",)),
    ("PermissionDenied", ("permission_missing", "ip_not_allowed")),
    ("InvalidNonce", ("clock_skew",)),
    (
        "AuthenticationError",
        ("key_invalid", "key_revoked", "key_expired", "ip_not_allowed", "permission_missing"),
    ),
    ("RateLimitExceeded", ("rate_limited",)),
    ("DDoSProtection", ("rate_limited",)),
    ("OnMaintenance", ("exchange_unavailable",)),
    ("ExchangeNotAvailable", ("exchange_unavailable", "network_error")),
    ("RequestTimeout", ("network_error", "exchange_unavailable")),
    ("NetworkError", ("network_error",)),
    # A success status with a body that is not the endpoint's answer (empty, HTML, wrong shape):
    # a proxy or an outage page, never data (hooks/answers.py).
    ("BadResponse", ("exchange_unavailable",)),
)

# Connection fields whose fix is a (new) key, as opposed to correcting the connection's settings.
KEY_FIELDS = (None, "login", "password", "passphrase", "uid")

# When neither ccxt's handler nor the knowledge file recognised the body. 403 is not ccxt's
# ExchangeNotAvailable here: most exchanges use it for keys, permissions and IPs.
STATUS_CAUSES: dict[int, tuple[str, ...]] = {
    401: ("key_invalid", "key_revoked", "key_expired", "ip_not_allowed", "permission_missing"),
    403: ("permission_missing", "ip_not_allowed", "account_suspended", "key_invalid"),
    407: ("network_error",),
    408: ("network_error",),
    418: ("rate_limited",),
    429: ("rate_limited",),
    451: ("account_suspended",),
    504: ("network_error", "exchange_unavailable"),
}


def classify(
    exchange: str,
    status: int | None = None,
    body: str | None = None,
    *,
    error: BaseException | None = None,
    context: str = "request",
) -> Diagnosis:
    """Classify one failed response (or a transport error without one)."""
    knowledge = knowledge_for(exchange)
    document = parse(body)
    codes = texts_at(document, knowledge.code_fields)
    messages = texts_at(document, knowledge.message_fields)
    verdict = ccxt_verdict(exchange, status, body) if (status is not None or body) else None
    if verdict is None and error is not None:
        verdict = Verdict(type(error), str(error), from_body=False)
    if error is not None:
        messages.append(str(error))  # e.g. ccxt's 'requires "apiKey" credential' before any request

    matched = None
    rules = (*knowledge.rules, *generic().rules)
    # A failed introspection call is read with its own rules first, then like any other request.
    contexts = (context,) if context == "request" else (context, "request")
    rule = next(
        (r for c in contexts for r in rules if r.matches(status, codes, messages, c)),
        None,
    )
    if rule is not None:
        candidates = rule.candidates
        matched = rule.why or f"rule for {rule.code or rule.message or rule.status}"
    else:
        candidates = _from_ccxt(verdict, status) or _from_status(status) or ("unknown",)

    return build(
        knowledge,
        candidates,
        Evidence(
            http_status=status,
            code=codes[0] if codes else None,
            message=messages[0] if messages else (verdict.message if verdict else None),
            ccxt_class=verdict.error.__name__ if verdict else None,
            matched=matched,
        ),
    )


def classify_failure(failure: Failure) -> Diagnosis:
    """classify() for a failure as the import recorded it."""
    if failure.made_no_request:
        return connection_problem(failure.exchange, failure.message, failure.conn_field)
    error = failure.error()
    if failure.http_status is None and not _from_ccxt_class(error):
        return internal_failure(failure.exchange, f"{failure.error_class}: {failure.message}")
    return classify(failure.exchange, failure.http_status, failure.body, error=error)


def internal_failure(exchange: str, message: str) -> Diagnosis:
    """The import (or its diagnosis) failed inside exchange-sync before the exchange answered:
    not the key's or the exchange's fault, and said so."""
    knowledge = knowledge_for(exchange)
    diagnosis = build(knowledge, ("unknown",), Evidence(message=message, matched="no exchange answer"))
    return replace(
        diagnosis,
        title=f"The import failed inside exchange-sync before {knowledge.name} answered",
        remediation=(
            f"Nothing points at the key or the {knowledge.name} account ({message}). Read the import "
            "task's log in Airflow, fix what it names (e.g. the warehouse connection, worker memory) "
            "and clear the task to retry; report it if it is a bug."
        ),
    )


def connection_problem(exchange: str, message: str, field: str | None) -> Diagnosis:
    """The account's Airflow connection cannot be used: no request was made, so nothing is the
    exchange's fault. The title is the problem itself, naming the connection and the field."""
    diagnosis = build(
        knowledge_for(exchange),
        ("credentials_missing",),
        Evidence(message=message, matched="the Airflow connection was checked before any request"),
    )
    if field in KEY_FIELDS:
        remediation = f"{message}. {diagnosis.remediation}"
    else:
        remediation = f"{message}. Correct it in the account's Airflow connection (Admin → Connections)."
    return replace(diagnosis, title=message, remediation=remediation)


def build(
    knowledge: ExchangeKnowledge, candidates: tuple[str, ...], evidence: Evidence, **extra
) -> Diagnosis:
    cause = candidates[0]
    return Diagnosis(
        exchange=knowledge.exchange,
        cause=cause,
        candidates=candidates,
        action_required=CAUSES[cause].action_required,
        transient=cause in TRANSIENT,
        title=CAUSES[cause].title.format(exchange=knowledge.name),
        remediation=knowledge.remediation_for(cause),
        evidence=evidence,
        **extra,
    )


def _from_ccxt_class(error: BaseException) -> bool:
    import ccxt

    return isinstance(error, ccxt.BaseError)


def _from_ccxt(verdict: Verdict | None, status: int | None) -> tuple[str, ...] | None:
    if verdict is None:
        return None
    if not verdict.from_body and verdict.error.__name__ in ("ExchangeNotAvailable", "AuthenticationError"):
        return None  # ccxt only looked at the status; STATUS_CAUSES reads it more carefully
    names = {cls.__name__ for cls in verdict.error.__mro__}
    if "BadResponse" in names and status is not None and status >= 400:
        return None  # ccxt could not parse an error body: the status says more
    return next((causes for name, causes in CLASS_CAUSES if name in names), None)


def _from_status(status: int | None) -> tuple[str, ...] | None:
    if status is None:
        return None
    if status in STATUS_CAUSES:
        return STATUS_CAUSES[status]
    if status >= 500:
        return ("exchange_unavailable",)
    return None

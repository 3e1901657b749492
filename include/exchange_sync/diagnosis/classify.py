"""The one classifier: (exchange, HTTP status, body[, ccxt exception]) -> Diagnosis.

Order, as ccxt users would expect it: the body first goes through the real ccxt exchange class's
own error handling, so ccxt's mapping is respected; then the exchange's knowledge file corrects
what ccxt maps generically or wrongly; then the HTTP status decides what is still open.
"""

from __future__ import annotations

from exchange_sync.diagnosis.body import parse, texts_at
from exchange_sync.diagnosis.causes import CAUSES, TRANSIENT
from exchange_sync.diagnosis.ccxt_verdict import Verdict, ccxt_verdict
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
)

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
        candidates = _from_ccxt(verdict) or _from_status(status) or ("unknown",)

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


def _from_ccxt(verdict: Verdict | None) -> tuple[str, ...] | None:
    if verdict is None:
        return None
    if not verdict.from_body and verdict.error.__name__ in ("ExchangeNotAvailable", "AuthenticationError"):
        return None  # ccxt only looked at the status; STATUS_CAUSES reads it more carefully
    names = {cls.__name__ for cls in verdict.error.__mro__}
    return next((causes for name, causes in CLASS_CAUSES if name in names), None)


def _from_status(status: int | None) -> tuple[str, ...] | None:
    if status is None:
        return None
    if status in STATUS_CAUSES:
        return STATUS_CAUSES[status]
    if status >= 500:
        return ("exchange_unavailable",)
    return None

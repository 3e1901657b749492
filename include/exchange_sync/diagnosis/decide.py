"""Which reading of a response decides, when no exchange knowledge rule did.

Precedence, strongest first:
1. the error's words, when their first rule is decisive (an "IP not in whitelist" is not the
   AuthenticationError or the 401 it arrived with);
2. ccxt's class, when ccxt's handler recognised the body: the words may narrow it (a "key not
   found" inside AuthenticationError) or fill in where the class is generic (ExchangeError,
   BadRequest, OperationFailed), never turn it into another cause, so a key or account class is
   never made transient (retried) by words that are not decisive;
3. ccxt's own error table, where it knows the answer's code or message but the handler raised a
   generic class;
4. ccxt's class from the status or transport alone, then the HTTP status itself.
Every cause any reading names stays among the candidates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exchange_sync.diagnosis.ccxt_table import TableHit
from exchange_sync.diagnosis.ccxt_verdict import Verdict
from exchange_sync.diagnosis.word_rules import WordRule

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

# When nothing in the body is recognised. 403 is not ccxt's ExchangeNotAvailable here: most
# exchanges use it for keys, permissions and IPs.
STATUS_CAUSES: dict[int, tuple[str, ...]] = {
    401: ("key_invalid", "key_revoked", "key_expired", "ip_not_allowed", "permission_missing"),
    403: ("permission_missing", "ip_not_allowed", "account_suspended", "key_invalid"),
    407: ("network_error",),
    408: ("network_error",),
    418: ("rate_limited",),
    420: ("rate_limited",),  # "Enhance your calm": Bitso's and Twitter's rate limit
    429: ("rate_limited",),
    451: ("account_suspended",),
    504: ("network_error", "exchange_unavailable"),
}


@dataclass(frozen=True)
class Decision:
    candidates: tuple[str, ...]
    matched: str  # which reading decided, and why


def decide(
    verdict: Verdict | None, status: int | None, words: list[WordRule], hits: list[TableHit]
) -> Decision:
    from_body = class_causes(verdict, status) if verdict is not None and verdict.from_body else None
    word_causes = union(rule.candidates for rule in words)
    # The first rule, in precedence order, that may decide against what ccxt recognised.
    chosen = next((r for r in words if from_body is None or r.decisive or r.cause in from_body), None)
    if chosen is not None:
        # What ccxt's class said stays possible, after what the words say.
        candidates = union((chosen.candidates, word_causes, from_body or ()))
        return Decision(candidates, f"words rule {chosen.name!r}: {chosen.why}")
    if from_body is not None:
        reason = f"ccxt's handler raised {verdict.error.__name__} for the body"
        if words:
            reason += f" (the words, rule {words[0].name!r}, also fit: {', '.join(word_causes)})"
        return Decision(union((from_body, word_causes)), reason)
    table = next(((h, c) for h in hits if (c := class_causes_of(h.error)) is not None), None)
    if table is not None:
        return Decision(table[1], f"ccxt's error table knows it: {table[0].describe()}")
    from_status = class_causes(verdict, status) if verdict is not None else None
    if from_status is not None:
        return Decision(from_status, f"ccxt raised {verdict.error.__name__} (from the status or transport)")
    if (by_status := status_causes(status)) is not None:
        return Decision(by_status, f"HTTP status {status}")
    return Decision(("unknown",), "nothing in the response is recognised")


def class_causes(verdict: Verdict, status: int | None) -> tuple[str, ...] | None:
    """What ccxt's class says, where it says more than the status would."""
    if not verdict.from_body and verdict.error.__name__ in ("ExchangeNotAvailable", "AuthenticationError"):
        return None  # ccxt only looked at the status; STATUS_CAUSES reads it more carefully
    names = {cls.__name__ for cls in verdict.error.__mro__}
    if "BadResponse" in names and status is not None and status >= 400:
        return None  # ccxt could not parse an error body: the status says more
    return class_causes_of(verdict.error)


def class_causes_of(error: type[BaseException]) -> tuple[str, ...] | None:
    names = {cls.__name__ for cls in error.__mro__}
    return next((causes for name, causes in CLASS_CAUSES if name in names), None)


def status_causes(status: int | None) -> tuple[str, ...] | None:
    if status is None:
        return None
    if status in STATUS_CAUSES:
        return STATUS_CAUSES[status]
    if status >= 500:
        return ("exchange_unavailable",)
    return None


def union(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """Causes in order of first mention, each once."""
    return tuple(dict.fromkeys(cause for group in groups for cause in group))

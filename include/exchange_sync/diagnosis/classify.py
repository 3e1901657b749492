"""The one classifier: (exchange, HTTP status, body[, ccxt exception]) -> Diagnosis.

Order, as ccxt users would expect it: the body first goes through the real ccxt exchange class's
own error handling on a fresh instance, so ccxt's mapping is respected; then the exchange's
knowledge file (exchanges/<id>.yaml) corrects what ccxt maps generically or wrongly, and always
wins; for what it does not know, the error's own words (exchanges/_words.yaml), ccxt's class,
ccxt's error table and the HTTP status decide in the precedence decide.py gives.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from exchange_sync.diagnosis.body import parse, texts_at
from exchange_sync.diagnosis.causes import CAUSES, TRANSIENT
from exchange_sync.diagnosis.ccxt_table import describe, table_hits
from exchange_sync.diagnosis.ccxt_verdict import Verdict, ccxt_verdict
from exchange_sync.diagnosis.decide import Decision, decide
from exchange_sync.diagnosis.failure import Failure
from exchange_sync.diagnosis.knowledge import ExchangeKnowledge, generic, knowledge_for
from exchange_sync.diagnosis.model import Diagnosis, Evidence
from exchange_sync.diagnosis.word_rules import word_rules
from exchange_sync.diagnosis.words import embedded_document, error_words, field_values

# Connection fields whose fix is a (new) key, as opposed to correcting the connection's settings.
KEY_FIELDS = (None, "login", "password", "passphrase", "uid")


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
    verdict = None
    if not _shape_refused(status, error) and (status is not None or body):
        verdict = ccxt_verdict(exchange, status, body)
    if verdict is None and error is not None:
        verdict = Verdict(type(error), str(error), from_body=False)
    if error is not None:
        messages.append(str(error))  # e.g. ccxt's 'requires "apiKey" credential' before any request

    rules = (*knowledge.rules, *generic().rules)
    # A failed introspection call is read with its own rules first, then like any other request.
    contexts = (context,) if context == "request" else (context, "request")
    rule = next(
        (r for c in contexts for r in rules if r.matches(status, codes, messages, c)),
        None,
    )
    # The exchange's own knowledge always wins; otherwise the generic readings decide.
    reads = _is_error_text(status, verdict)
    answer = _answer(document, body, error) if reads else None
    raw = (body or (str(error) if error is not None else None)) if reads else None
    hits = table_hits(exchange, field_values(answer, word_rules().message_keys), raw)
    if rule is not None:
        decision = Decision(
            rule.candidates, rule.why or f"rule for {rule.code or rule.message or rule.status}"
        )
    else:
        words = word_rules().matching(_words(answer, body, error)) if reads else []
        decision = decide(verdict, status, words, hits)

    return build(
        knowledge,
        decision.candidates,
        Evidence(
            http_status=status,
            code=codes[0] if codes else None,
            message=messages[0] if messages else (verdict.message if verdict else None),
            ccxt_class=verdict.error.__name__ if verdict else None,
            ccxt_table=describe(hits),
            matched=decision.matched,
        ),
    )


def _shape_refused(status: int | None, error: BaseException | None) -> bool:
    """A success whose body the shape check refused (hooks/answers.py): not the exchange's error,
    even where ccxt's handler would call the body one (OKX's reads `{}` as an ExchangeError)."""
    return status is not None and 200 <= status < 300 and type(error).__name__ == "BadResponse"


def _is_error_text(status: int | None, verdict: Verdict | None) -> bool:
    """Whether the body is an error's words. A success status whose body ccxt's handler found no
    error in is data, cut short or of the wrong shape (hooks/answers.py): a balance "frozen" in
    it is not a frozen account."""
    return status is None or status >= 400 or (verdict is not None and verdict.from_body)


def _words(answer: Any, body: str | None, error: BaseException | None) -> list[str]:
    extra = [str(error)] if error is not None else []
    return error_words(answer, body, word_rules().message_keys, extra)


def _answer(document: Any, body: str | None, error: BaseException | None) -> Any:
    """The parsed answer; for a failure recorded without its body, the JSON body ccxt put into
    the exception's text ('mexc {"code":700006,...}')."""
    if document is not None or body or error is None:
        return document
    return embedded_document(str(error))


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

"""An exchange answer is data only after its shape was checked.

ccxt hands back whatever a 200 carried: an empty body or an HTML page from a proxy becomes a
string, and the exchange classes then parse it (or a JSON object where a list belongs) into an
empty list, i.e. "no deposits in this window", and the importer would move its cursor over data
it never saw. So every successful answer is checked here, before ccxt parses it: it must be JSON
(an object or a list) for every exchange, and where the exchange's profile declares the shape of
an endpoint (a list of records, an object with these keys), that shape. Anything else raises
ccxt's `BadResponse`, which the diagnosis reads as the transient `exchange_unavailable`: retried,
never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

EVIDENCE_BYTES = 120  # how much of a bad body a message quotes


@dataclass(frozen=True)
class AnswerShape:
    """What a successful answer of one endpoint looks like on the wire."""

    path: str  # the endpoint's path, matched against the end of the request path
    kind: Literal["list", "object"]
    # Keys an object answer must hold, dotted for nested ones, each with the JSON kind of its value.
    keys: tuple[tuple[str, Literal["list", "object", "value"]], ...] = ()


def check_answer(exchange: str, path: str, answer: Any, shapes: tuple[AnswerShape, ...] = ()) -> None:
    """Raise ccxt.BadResponse unless `answer` (what ccxt's fetch returned for `path`) has its shape."""
    if not isinstance(answer, dict | list):
        problem = "an empty body" if not answer else "a body that is not JSON"
        _bad(exchange, path, problem, answer)
    shape = next((s for s in shapes if path.endswith(s.path)), None)
    if shape is None:
        return
    if not _is(answer, shape.kind):
        _bad(exchange, path, f"JSON {_kind(answer)} where {shape.kind} belongs", answer)
    if shape.kind == "list" and not all(isinstance(item, dict) for item in answer):
        _bad(exchange, path, "a list whose items are not records", answer)
    for dotted, kind in shape.keys:
        value = value_at(answer, dotted)
        if value is None or not _is(value, kind):
            _bad(exchange, path, f"no {kind} at '{dotted}'", answer)


def value_at(answer: Any, dotted: str) -> Any:
    """The value at a dotted path into an answer (`data.0.uid`; `-1`: a list's last item), None
    where there is none."""
    for part in dotted.split("."):
        if isinstance(answer, list) and part.lstrip("-").isdigit():
            answer = answer[int(part)] if -len(answer) <= int(part) < len(answer) else None
        else:
            answer = answer.get(part) if isinstance(answer, dict) else None
    return answer


def states_error(answer: Any, error_keys: tuple[str, ...]) -> bool:
    """Whether a body carries the keys the exchange states its errors (and successes) in."""
    return isinstance(answer, dict) and all(value_at(answer, key) is not None for key in error_keys)


def unparseable(client: Any, exc: Exception) -> Exception:
    """The error for an answer that passed the shape check but that ccxt's parser choked on."""
    import ccxt

    log = getattr(client, "request_log", None)
    path = log.entries[-1].path if log and log.entries else "?"
    body = (log.last_body or "") if log else ""
    return ccxt.BadResponse(
        f"{client.id} answered {path} in a form ccxt cannot parse ({type(exc).__name__}: {exc}); "
        f"nothing was stored from it (body starts {str(body)[:EVIDENCE_BYTES]!r})"
    )


def bad_record(what: str, field: str, value: Any, record: dict[str, Any]) -> Exception:
    """The error for a parsed record the warehouse cannot take as it is (a missing id, time, amount)."""
    import ccxt

    problem = "no" if value in (None, "") else f"an invalid {value!r} as"
    info = record.get("info", record)
    return ccxt.BadResponse(
        f"the exchange sent a {what} with {problem} '{field}'; nothing was stored from its page "
        f"(record {str(info)[:EVIDENCE_BYTES]!r})"
    )


def _is(value: Any, kind: str) -> bool:
    if kind == "list":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return not isinstance(value, dict | list)


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else "object" if isinstance(value, dict) else "value"


def _bad(exchange: str, path: str, problem: str, answer: Any) -> None:
    import ccxt

    head = answer if isinstance(answer, str) else repr(answer)
    raise ccxt.BadResponse(
        f"{exchange} answered {path} successfully but with {problem}; nothing was stored from it "
        f"(body starts {head[:EVIDENCE_BYTES]!r})"
    )

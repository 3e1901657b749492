"""Per-exchange knowledge, kept as data: one YAML file per exchange in `exchanges/`.

Each file says where the exchange puts its error code and message, which codes and messages mean
which cause (correcting what ccxt maps generically or wrongly), what to tell the user to do for
every cause in the exchange's own UI words, and how to probe a key (introspection endpoint,
account status). `_generic.yaml` covers any other ccxt exchange. The loader validates each file and
names the file and field of any mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from exchange_sync.diagnosis.causes import CAUSES

FOLDER = Path(__file__).with_name("exchanges")
GENERIC = "_generic"
CONTEXTS = ("request", "introspection")


class KnowledgeError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    """One known error. Matches when every given condition holds; the first match wins."""

    cause: str
    candidates: tuple[str, ...]
    code: str | None = None  # exact, compared as text
    message: str | None = None  # case-insensitive substring of any message field
    status: int | None = None
    context: str = "request"  # "introspection": only for a failed key-introspection call
    why: str = ""
    source: str = ""

    def matches(self, status: int | None, codes: list[str], messages: list[str], context: str) -> bool:
        if self.context != context:
            return False
        if self.code is not None and self.code not in codes:
            return False
        if self.message is not None and not any(self.message.lower() in m.lower() for m in messages):
            return False
        return self.status is None or self.status == status


@dataclass(frozen=True)
class Fact:
    """How to read one fact about a key from an introspection answer."""

    path: str
    contains: str | None = None  # the value (text or list) contains this
    equals: Any = None
    negate: bool = False
    time: str | None = None  # "ms", "s" or "iso": the value is a point in time


@dataclass(frozen=True)
class Introspection:
    method: str  # a ccxt implicit API method, e.g. sapi_get_account_apirestrictions
    facts: dict[str, Fact]
    params: dict[str, Any] = field(default_factory=dict)
    # A documented answer and the facts it must yield: the tests hold the fact paths to it.
    example: Any = None
    example_facts: dict[str, Any] = field(default_factory=dict)
    example_source: str = ""


@dataclass(frozen=True)
class StatusProbe:
    method: str
    path: str
    normal: tuple[str, ...]
    cause: str  # what any other value means


@dataclass(frozen=True)
class ExchangeKnowledge:
    exchange: str
    name: str
    api_management: str
    code_fields: tuple[str, ...]
    message_fields: tuple[str, ...]
    rules: tuple[Rule, ...]
    remediation: dict[str, str]
    introspection: Introspection | None = None
    account_status: StatusProbe | None = None
    permissions: dict[str, str] = field(default_factory=dict)  # stream -> permission, in the UI's words
    # stream -> a cheap ccxt read that needs exactly that stream's permission (probes name the
    # missing one with it)
    permission_reads: dict[str, str] = field(default_factory=dict)

    def remediation_for(self, cause: str) -> str:
        text = self.remediation.get(cause) or generic().remediation[cause]
        return text.strip().format(exchange=self.name, api_management=self.api_management)


FACT_NAMES = ("can_read", "can_trade", "can_withdraw", "ip_restricted", "expires_at")


@cache
def knowledge_for(exchange: str) -> ExchangeKnowledge:
    path = FOLDER / f"{exchange}.yaml"
    if not path.exists():
        base = generic()
        name = ccxt_name(exchange) or exchange.title()
        return ExchangeKnowledge(
            exchange=exchange,
            name=name,
            api_management=f"the API management page of {name}",
            code_fields=base.code_fields,
            message_fields=base.message_fields,
            rules=base.rules,
            remediation=base.remediation,
        )
    return load(path)


def ccxt_name(exchange: str) -> str | None:
    """The exchange as ccxt's class spells it ("Crypto.com" for cryptocom), for exchanges
    without a knowledge file."""
    import ccxt

    client_class = getattr(ccxt, exchange, None)
    return getattr(client_class(), "name", None) if isinstance(client_class, type) else None


@cache
def generic() -> ExchangeKnowledge:
    knowledge = load(FOLDER / f"{GENERIC}.yaml")
    missing = [c for c in CAUSES if c not in knowledge.remediation]
    if missing:
        raise KnowledgeError(f"{FOLDER / GENERIC}.yaml: remediation lacks {', '.join(missing)}")
    return knowledge


def covered_exchanges() -> list[str]:
    # "_"-files hold what is true everywhere (_generic.yaml, _words.yaml), not an exchange.
    return sorted(p.stem for p in FOLDER.glob("*.yaml") if not p.stem.startswith("_"))


def read_yaml(path: Path) -> dict:
    """A knowledge file's mapping; a file that is not YAML (or not a mapping) is named."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: must be a mapping of fields")
    return raw


def load(path: Path) -> ExchangeKnowledge:
    where = str(path)
    raw = read_yaml(path)
    try:
        return ExchangeKnowledge(
            exchange=_required(raw, "exchange", where),
            name=_required(raw, "name", where),
            api_management=raw.get("api_management", ""),
            code_fields=tuple(raw.get("code_fields", ())),
            message_fields=tuple(raw.get("message_fields", ())),
            rules=tuple(_rule(r, f"{where}: rules[{i}]") for i, r in enumerate(raw.get("rules") or [])),
            remediation={
                known_cause(c, f"{where}: remediation"): text
                for c, text in (raw.get("remediation") or {}).items()
            },
            introspection=_introspection(raw.get("introspection"), f"{where}: introspection"),
            account_status=_status_probe(raw.get("account_status"), f"{where}: account_status"),
            permissions=dict(raw.get("permissions") or {}),
            permission_reads=dict(raw.get("permission_reads") or {}),
        )
    except KnowledgeError:
        raise
    except (TypeError, AttributeError, ValueError) as exc:
        raise KnowledgeError(f"{where}: {exc}") from exc


def _rule(raw: dict, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{where}: must be a mapping")
    unknown = set(raw) - {"cause", "candidates", "code", "message", "status", "context", "why", "source"}
    if unknown:
        raise KnowledgeError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    if not any(k in raw for k in ("code", "message", "status")):
        raise KnowledgeError(f"{where}: needs at least one of code, message, status")
    cause = known_cause(_required(raw, "cause", where), where)
    candidates = tuple(known_cause(c, where) for c in raw.get("candidates") or [cause])
    if candidates[0] != cause:
        raise KnowledgeError(f"{where}: candidates must start with the cause {cause!r}")
    context = raw.get("context", "request")
    if context not in CONTEXTS:
        raise KnowledgeError(f"{where}: context must be one of {', '.join(CONTEXTS)}")
    return Rule(
        cause=cause,
        candidates=candidates,
        code=None if raw.get("code") is None else str(raw["code"]),
        message=raw.get("message"),
        status=raw.get("status"),
        context=context,
        why=raw.get("why", ""),
        source=raw.get("source", ""),
    )


def _introspection(raw: dict | None, where: str) -> Introspection | None:
    if raw is None:
        return None
    facts = {}
    for name, spec in (raw.get("facts") or {}).items():
        if name not in FACT_NAMES:
            raise KnowledgeError(f"{where}: unknown fact {name!r} (known: {', '.join(FACT_NAMES)})")
        facts[name] = Fact(**spec) if isinstance(spec, dict) else Fact(path=str(spec))
    return Introspection(
        method=_required(raw, "method", where),
        facts=facts,
        params=dict(raw.get("params") or {}),
        example=raw.get("example"),
        example_facts=dict(raw.get("example_facts") or {}),
        example_source=raw.get("example_source", ""),
    )


def _status_probe(raw: dict | None, where: str) -> StatusProbe | None:
    if raw is None:
        return None
    return StatusProbe(
        method=_required(raw, "method", where),
        path=_required(raw, "path", where),
        normal=tuple(raw.get("normal") or ()),
        cause=known_cause(_required(raw, "cause", where), where),
    )


def known_cause(cause: Any, where: str) -> str:
    if cause not in CAUSES:
        raise KnowledgeError(f"{where}: unknown cause {cause!r}")
    return cause


def _required(raw: dict, key: str, where: str) -> Any:
    if raw.get(key) in (None, ""):
        raise KnowledgeError(f"{where}: field {key!r} is required")
    return raw[key]

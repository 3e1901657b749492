"""What a diagnosis says: one cause, what else it could be, and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Evidence:
    http_status: int | None = None
    code: str | None = None  # the exchange's error code, as found in the body
    message: str | None = None  # the exchange's error message
    ccxt_class: str | None = None  # what ccxt's own error handling makes of it
    ccxt_table: str | None = None  # the entries of ccxt's error table the answer hits
    matched: str | None = None  # the rule or reading that decided, with its reason
    probes: tuple[str, ...] = ()  # what live probes found, in order


@dataclass(frozen=True)
class Diagnosis:
    exchange: str
    cause: str
    candidates: tuple[str, ...]
    action_required: bool
    transient: bool
    title: str
    remediation: str
    evidence: Evidence = field(default_factory=Evidence)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["candidates"] = list(self.candidates)
        data["warnings"] = list(self.warnings)
        data["evidence"]["probes"] = list(self.evidence.probes)
        return data

    def with_probe(self, note: str) -> Diagnosis:
        return replace(self, evidence=replace(self.evidence, probes=(*self.evidence.probes, note)))

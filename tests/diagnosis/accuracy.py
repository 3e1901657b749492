"""How often the generic layer names the right cause for exchanges without a knowledge file.

Two corpora of real responses: `corpus/generic/` (what the rules of `_words.yaml` were written
against) and `corpus/held_out/` (written before those rules and never tuned against). Run
`.venv/bin/python -m tests.diagnosis.accuracy` for the table per exchange.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from exchange_sync.diagnosis import CAUSES, Diagnosis, classify

CORPUS = Path(__file__).with_name("corpus")
TUNING = CORPUS / "generic"
HELD_OUT = CORPUS / "held_out"


@dataclass(frozen=True)
class Case:
    exchange: str
    name: str
    status: int | None
    body: str
    cause: str
    candidates_include: tuple[str, ...]
    source: str

    @property
    def id(self) -> str:
        return f"{self.exchange}-{self.name}".replace(" ", "_")


@dataclass
class Score:
    right: int = 0
    total: int = 0

    def add(self, right: bool) -> None:
        self.right += right
        self.total += 1

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.right}/{self.total} ({self.rate:.0%})"


@dataclass
class Accuracy:
    cause: Score = field(default_factory=Score)  # the named cause is the cited one
    urgency: Score = field(default_factory=Score)  # transient vs a person must act is right
    candidates: Score = field(default_factory=Score)  # every cause the case lists is a candidate
    per_exchange: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    misses: list[str] = field(default_factory=list)


def body_text(body: object) -> str:
    return body if isinstance(body, str) else json.dumps(body)


def load(folder: Path) -> list[Case]:
    cases = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["cases"]:
            cases.append(
                Case(
                    exchange=data["exchange"],
                    name=raw["name"],
                    status=raw.get("status"),
                    body=body_text(raw["body"]),
                    cause=raw["cause"],
                    candidates_include=tuple(raw.get("candidates_include", ())),
                    source=raw.get("source", ""),
                )
            )
    return cases


def urgency_right(case: Case, diagnosis: Diagnosis) -> bool:
    return diagnosis.action_required is CAUSES[case.cause].action_required


def measure(cases: list[Case]) -> Accuracy:
    accuracy = Accuracy()
    for case in cases:
        diagnosis = classify(case.exchange, case.status, case.body)
        right = diagnosis.cause == case.cause
        accuracy.cause.add(right)
        accuracy.per_exchange[case.exchange].add(right)
        accuracy.urgency.add(urgency_right(case, diagnosis))
        if case.candidates_include:
            accuracy.candidates.add(set(case.candidates_include) <= set(diagnosis.candidates))
        if not right:
            accuracy.misses.append(
                f"{case.id}: {case.cause} expected, {diagnosis.cause} ({diagnosis.evidence.matched})"
            )
    return accuracy


def report(title: str, accuracy: Accuracy) -> str:
    lines = [
        f"{title}: cause {accuracy.cause}, transient/action-required {accuracy.urgency}, "
        f"candidates listed {accuracy.candidates}",
        *(f"  {exchange:12} {score}" for exchange, score in sorted(accuracy.per_exchange.items())),
        *(f"  miss {miss}" for miss in accuracy.misses),
    ]
    return "\n".join(lines)


def main() -> None:
    for title, folder in (
        ("tuning set (corpus/generic)", TUNING),
        ("held-out set (corpus/held_out)", HELD_OUT),
    ):
        print(report(title, measure(load(folder))))


if __name__ == "__main__":
    main()

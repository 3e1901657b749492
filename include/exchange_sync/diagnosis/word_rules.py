"""What an error's words mean on any exchange: the rules of `exchanges/_words.yaml`, validated to
the field like the exchange knowledge files.

Rules are in precedence order: the first that matches names the cause, every one that matches
adds its candidates. A `decisive` rule's words name the cause even against the class ccxt raised
for the body ("IP not in whitelist" is not the AuthenticationError ccxt made of it); the others
only narrow ccxt's class or fill in where ccxt has none (see decide.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from exchange_sync.diagnosis.causes import TRANSIENT
from exchange_sync.diagnosis.knowledge import FOLDER, KnowledgeError, known_cause, read_yaml

WORDS_FILE = FOLDER / "_words.yaml"
RULE_FIELDS = frozenset({"name", "cause", "candidates", "words", "unless", "decisive", "why", "source"})


@dataclass(frozen=True)
class WordRule:
    name: str
    cause: str
    candidates: tuple[str, ...]
    words: tuple[re.Pattern[str], ...]  # any of them, searched in one normalised text
    unless: tuple[re.Pattern[str], ...]  # ... and none of these in that same text
    decisive: bool
    why: str
    source: str

    def matches(self, texts: list[str]) -> bool:
        return any(
            any(p.search(text) for p in self.words) and not any(p.search(text) for p in self.unless)
            for text in texts
        )


@dataclass(frozen=True)
class WordRules:
    message_keys: frozenset[str]  # where any exchange puts its words, lower case
    rules: tuple[WordRule, ...]

    def matching(self, texts: list[str]) -> list[WordRule]:
        return [rule for rule in self.rules if rule.matches(texts)]


@cache
def word_rules() -> WordRules:
    return load_word_rules(WORDS_FILE)


def load_word_rules(path: Path) -> WordRules:
    where = str(path)
    raw = read_yaml(path)
    unknown = set(raw) - {"message_keys", "rules"}
    if unknown:
        raise KnowledgeError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    keys = raw.get("message_keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise KnowledgeError(f"{where}: field 'message_keys' must be a non-empty list of key names")
    if not isinstance(raw.get("rules"), list) or not raw["rules"]:
        raise KnowledgeError(f"{where}: field 'rules' must be a non-empty list")
    rules = tuple(_rule(r, f"{where}: rules[{i}]") for i, r in enumerate(raw["rules"]))
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.name in seen:
            raise KnowledgeError(f"{where}: rules[{index}] ({rule.name}): name used twice")
        seen.add(rule.name)
    return WordRules(message_keys=frozenset(k.lower() for k in keys), rules=rules)


def _rule(raw: Any, where: str) -> WordRule:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{where}: must be a mapping")
    where = f"{where} ({raw.get('name', '?')})"
    unknown = set(raw) - RULE_FIELDS
    if unknown:
        raise KnowledgeError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    for field in ("name", "cause", "words", "why", "source"):
        if raw.get(field) in (None, "", []):
            raise KnowledgeError(f"{where}: field {field!r} is required")
    cause = known_cause(raw["cause"], f"{where}: field 'cause'")
    candidates = tuple(
        known_cause(c, f"{where}: field 'candidates'") for c in raw.get("candidates") or [cause]
    )
    if candidates[0] != cause:
        raise KnowledgeError(f"{where}: field 'candidates' must start with the cause {cause!r}")
    decisive = raw.get("decisive", False)
    if not isinstance(decisive, bool):
        raise KnowledgeError(f"{where}: field 'decisive' must be true or false")
    if decisive and cause in TRANSIENT:
        # A transient reading may never overrule ccxt's key or account class: that would retry a
        # refused key against the exchange.
        raise KnowledgeError(f"{where}: field 'decisive': a transient cause ({cause}) cannot be decisive")
    return WordRule(
        name=str(raw["name"]),
        cause=cause,
        candidates=candidates,
        words=_patterns(raw["words"], f"{where}: field 'words'"),
        unless=_patterns(raw.get("unless") or [], f"{where}: field 'unless'"),
        decisive=decisive,
        why=str(raw["why"]),
        source=str(raw["source"]),
    )


def _patterns(raw: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise KnowledgeError(f"{where}: must be a list of regular expressions")
    patterns = []
    for pattern in raw:
        literal = re.sub(r"\\.", "", pattern)  # an escape such as \S is not a letter of the text
        if literal != literal.lower():
            raise KnowledgeError(f"{where}: {pattern!r} must be lower case (texts are normalised)")
        try:
            patterns.append(re.compile(pattern))
        except re.error as exc:
            raise KnowledgeError(f"{where}: {pattern!r} is not a regular expression: {exc}") from exc
    return tuple(patterns)

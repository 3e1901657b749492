"""The per-exchange knowledge files: complete, cited, and consistent with ccxt."""

from __future__ import annotations

from datetime import UTC, datetime

import ccxt
import pytest

from exchange_sync.diagnosis.causes import CAUSES
from exchange_sync.diagnosis.facts import read_facts
from exchange_sync.diagnosis.knowledge import covered_exchanges, generic, knowledge_for
from tests.diagnosis.test_corpus import IN_DEPTH

FILES = covered_exchanges()


def test_generic_knowledge_covers_every_cause():
    assert set(generic().remediation) == set(CAUSES)


@pytest.mark.parametrize("exchange", FILES)
def test_every_cause_has_its_own_remediation(exchange):
    knowledge = knowledge_for(exchange)
    assert set(knowledge.remediation) == set(CAUSES), "every cause needs text in the exchange's own words"
    for cause, text in knowledge.remediation.items():
        assert len(text) > 80, (exchange, cause)
        assert text.strip() != generic().remediation[cause].strip(), (exchange, cause)


@pytest.mark.parametrize("exchange", FILES)
def test_every_rule_cites_a_source(exchange):
    for rule in knowledge_for(exchange).rules:
        assert rule.why and rule.source, rule


@pytest.mark.parametrize("exchange", FILES)
def test_probe_methods_exist_on_the_ccxt_class(exchange):
    knowledge = knowledge_for(exchange)
    client = getattr(ccxt, exchange)()
    for probe in (knowledge.introspection, knowledge.account_status):
        if probe is not None:
            assert callable(getattr(client, probe.method, None)), probe.method


@pytest.mark.parametrize("exchange", [e for e in FILES if knowledge_for(e).introspection])
def test_introspection_facts_read_the_documented_answer(exchange):
    introspection = knowledge_for(exchange).introspection
    if introspection.example is None:
        pytest.skip(f"{exchange}: no documented introspection answer in its knowledge file")
    assert introspection.example_source
    facts = read_facts(introspection, introspection.example)
    for name, expected in introspection.example_facts.items():
        value = getattr(facts, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        assert value == expected, (exchange, name)


def test_the_ten_largest_exchanges_are_covered():
    assert set(IN_DEPTH) <= set(FILES)


def test_epoch_means_no_expiry():
    """Bybit answers "expiredAt": "1970-01-01T00:00:00Z" for keys that never expire."""
    from exchange_sync.diagnosis.knowledge import Fact, Introspection

    introspection = Introspection(method="m", facts={"expires_at": Fact(path="expiredAt", time="iso")})
    assert read_facts(introspection, {"expiredAt": "1970-01-01T00:00:00Z"}).expires_at is None
    assert read_facts(introspection, {"expiredAt": "2030-01-01T00:00:00Z"}).expires_at.year == 2030

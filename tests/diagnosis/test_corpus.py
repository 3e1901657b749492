"""Real error responses, exactly as each exchange sends them, each case citing where its status and
body come from, through the library and the command.

corpus/*.yaml: the ten exchanges with their own knowledge file; every case must be right.
corpus/generic/ and corpus/held_out/: exchanges without one, read by the generic layer
(_words.yaml, ccxt's class and table, the status); the cause must be right at least nine times in
ten on each set, and transient vs action-required every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from exchange_sync.cli import main
from exchange_sync.diagnosis import CAUSES, classify
from exchange_sync.diagnosis.knowledge import covered_exchanges
from tests.diagnosis.accuracy import HELD_OUT, TUNING, Case, load, measure, report, urgency_right

CORPUS = Path(__file__).with_name("corpus")
IN_DEPTH = (
    "binance",
    "kraken",
    "coinbase",
    "okx",
    "bybit",
    "kucoin",
    "bitget",
    "gate",
    "bitfinex",
    "bitstamp",
)


def load_cases() -> list:
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for index, case in enumerate(data["cases"]):
            case_id = f"{data['exchange']}-{index}-{case['name']}".replace(" ", "_")
            cases.append(pytest.param(data["exchange"], case, id=case_id))
    return cases


CASES = load_cases()


def body_of(case: dict) -> str:
    body = case["body"]
    return body if isinstance(body, str) else json.dumps(body)


@pytest.mark.parametrize(("exchange", "case"), CASES)
def test_library(exchange, case):
    diagnosis = classify(exchange, case.get("status"), body_of(case))
    assert diagnosis.cause == case["cause"], diagnosis.evidence
    for cause in case.get("candidates_include", ()):
        assert cause in diagnosis.candidates
    assert diagnosis.action_required is CAUSES[case["cause"]].action_required
    assert diagnosis.transient is (not CAUSES[case["cause"]].action_required)
    assert diagnosis.remediation and diagnosis.title


def diagnose_command(exchange: str, status: int | None, body: str, tmp_path, capsys) -> dict:
    body_file = tmp_path / "body.txt"
    body_file.write_text(body, encoding="utf-8")
    argv = ["diagnose", "--exchange", exchange, "--body-file", str(body_file), "--json"]
    if status is not None:
        argv += ["--status", str(status)]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("exchange", "case"), CASES)
def test_command(exchange, case, tmp_path, capsys):
    result = diagnose_command(exchange, case.get("status"), body_of(case), tmp_path, capsys)
    assert result["cause"] == case["cause"]
    assert set(result) >= {
        "cause",
        "candidates",
        "action_required",
        "transient",
        "title",
        "remediation",
        "evidence",
    }


def test_every_case_cites_its_source():
    for param in CASES:
        _exchange, case = param.values
        assert len(case.get("source", "")) > 10, case["name"]
    for case in GENERIC:
        assert len(case.source) > 10, case.id


@pytest.mark.parametrize("exchange", IN_DEPTH)
def test_each_exchange_in_depth_has_five_cases_and_its_own_knowledge(exchange):
    assert exchange in covered_exchanges()
    assert sum(1 for p in CASES if p.values[0] == exchange) >= 5


SETS = {"tuning": load(TUNING), "held_out": load(HELD_OUT)}
GENERIC = [case for cases in SETS.values() for case in cases]
GENERIC_PARAMS = [
    pytest.param(case, id=f"{name}-{case.id}") for name, cases in SETS.items() for case in cases
]


@pytest.mark.parametrize("name", SETS)
def test_generic_layer_names_the_cause_nine_times_in_ten(name):
    accuracy = measure(SETS[name])
    assert accuracy.cause.total >= 30, "a set this small measures nothing"
    assert accuracy.cause.rate >= 0.9, report(name, accuracy)
    assert accuracy.candidates.rate >= 0.9, report(name, accuracy)


@pytest.mark.parametrize("case", GENERIC_PARAMS)
def test_generic_layer_never_mistakes_transient_for_action_required(case: Case):
    """No transient error may open an incident, no key error may be retried against the exchange."""
    diagnosis = classify(case.exchange, case.status, case.body)
    assert urgency_right(case, diagnosis), (case.cause, diagnosis.cause, diagnosis.evidence)
    assert diagnosis.transient is (not diagnosis.action_required)


@pytest.mark.parametrize("case", GENERIC_PARAMS)
def test_command_says_what_the_library_says_and_which_rule_decided(case: Case, tmp_path, capsys):
    result = diagnose_command(case.exchange, case.status, case.body, tmp_path, capsys)
    assert result == classify(case.exchange, case.status, case.body).to_dict()
    assert result["evidence"]["matched"]


def test_generic_corpus_covers_ten_exchanges_without_a_knowledge_file():
    for name, cases in SETS.items():
        exchanges = {case.exchange for case in cases}
        assert not exchanges & set(covered_exchanges()), f"{name}: these have knowledge files, not generic"
        assert len(exchanges) >= 10, name


def test_generic_case_names_are_unique():
    for cases in SETS.values():
        ids = [case.id for case in cases]
        assert len(ids) == len(set(ids))

"""Real error responses, exactly as each exchange sends them (tests/diagnosis/corpus/*.yaml, each
case citing where its status and body come from), through the library and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from exchange_sync.cli import main
from exchange_sync.diagnosis import CAUSES, classify
from exchange_sync.diagnosis.knowledge import covered_exchanges

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


@pytest.mark.parametrize(("exchange", "case"), CASES)
def test_command(exchange, case, tmp_path, capsys):
    body = tmp_path / "body.txt"
    body.write_text(body_of(case))
    argv = ["diagnose", "--exchange", exchange, "--body-file", str(body), "--json"]
    if case.get("status") is not None:
        argv += ["--status", str(case["status"])]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
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


@pytest.mark.parametrize("exchange", IN_DEPTH)
def test_each_exchange_in_depth_has_five_cases_and_its_own_knowledge(exchange):
    assert exchange in covered_exchanges()
    assert sum(1 for p in CASES if p.values[0] == exchange) >= 5

"""The shape check every successful exchange answer passes before ccxt parses it."""

from __future__ import annotations

import ccxt
import pytest

from exchange_sync.hooks.answers import AnswerShape, check_answer

SHAPES = (
    AnswerShape("/api/v3/account", "object", (("balances", "list"),)),
    AnswerShape("/api/v3/myTrades", "list"),
    AnswerShape("/0/private/Ledgers", "object", (("result.ledger", "object"), ("result.count", "value"))),
)


@pytest.mark.parametrize(
    ("path", "answer", "words"),
    [
        ("/api/v3/myTrades", "", "an empty body"),
        ("/api/v3/myTrades", "<html>502 Bad Gateway</html>", "not JSON"),
        ("/api/v3/myTrades", {"rows": []}, "JSON object where list belongs"),
        ("/api/v3/myTrades", [1, 2], "items are not records"),
        ("/api/v3/account", [{"balances": []}], "JSON list where object belongs"),
        ("/api/v3/account", {}, "no list at 'balances'"),
        ("/api/v3/account", {"balances": {}}, "no list at 'balances'"),
        ("/0/private/Ledgers", {"error": [], "result": {"ledger": {}}}, "no value at 'result.count'"),
        ("/anything/else", "ok", "not JSON"),
    ],
)
def test_bad_answers_raise_bad_response_quoting_the_body(path, answer, words):
    with pytest.raises(ccxt.BadResponse, match=words) as raised:
        check_answer("binance", path, answer, SHAPES)
    assert path in str(raised.value) and "nothing was stored" in str(raised.value)


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/api/v3/myTrades", []),  # "no trades": Binance gives no proof either way, so it is taken
        ("/api/v3/account", {"balances": []}),
        ("/0/private/Ledgers", {"error": [], "result": {"ledger": {}, "count": 0}}),
        ("/not/declared", {"any": "object"}),
    ],
)
def test_answers_of_the_declared_shape_pass(path, answer):
    check_answer("binance", path, answer, SHAPES)

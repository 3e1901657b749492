"""The generic layer: reading an error's own words in any shape, the rules file validated to the
field, and the precedence between the words, ccxt's class and table, and the status."""

from __future__ import annotations

import json

import ccxt
import pytest

from exchange_sync.diagnosis import classify
from exchange_sync.diagnosis.knowledge import KnowledgeError
from exchange_sync.diagnosis.word_rules import load_word_rules, word_rules
from exchange_sync.diagnosis.words import embedded_document, error_words, normalize

KEYS = word_rules().message_keys


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("IP_FORBIDDEN", "ip forbidden"),
        ("InvalidApiKey", "invalid api key"),
        ("APIKEY_EXPIRED", "apikey expired"),
        ("API key doesn't exist", "api key doesnt exist"),
        ("You can\u2019t trade", "you cant trade"),
        ("no_authorization_i_p", "no authorization ip"),
        ("Signature not valid: ip地址错误", "signature not valid ip 地址错误"),
        ('Request header "OK-ACCESS-PASSPHRASE" incorrect.', "request header ok access passphrase incorrect"),
    ],
)
def test_words_are_normalised_so_one_pattern_reads_every_spelling(text, words):
    assert normalize(text) == words


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"code": 700006, "msg": "IP not in the ip white list"}, ["ip not in the ip white list"]),
        (
            {"status": "error", "err-code": "api-signature-not-valid", "err-msg": "Verification failure"},
            ["api signature not valid", "verification failure"],
        ),
        (
            {"error": {"message": "잘못된 엑세스 키입니다.", "name": "invalid_access_key"}},
            ["잘못된 엑세스 키입니다", "invalid access key"],
        ),
        ({"error": ["EAPI:Invalid key"], "result": {}}, ["eapi invalid key"]),
        ({"code": "1", "data": [{"sCode": "50120", "sMsg": "No permission"}], "msg": ""}, ["no permission"]),
        (
            {"code": 0, "errors": {"amount": ["Amount must be greater than 0"]}},
            ["amount must be greater than 0"],
        ),
        (["error", 10100, "apikey: invalid"], ["error", "apikey invalid"]),
        ({"success": True, "result": {"note": "not an error field"}}, []),
    ],
)
def test_the_words_are_found_wherever_the_exchange_puts_them(body, expected):
    assert error_words(body, json.dumps(body), KEYS) == expected


def test_a_body_that_is_not_json_is_read_as_its_text_without_markup():
    page = "<html><head><title>503 Service Unavailable</title></head><body>down</body></html>"
    assert error_words(None, page, KEYS) == ["503 service unavailable down"]
    assert error_words(None, "Too many API requests.", KEYS) == ["too many api requests"]


def test_the_body_inside_a_ccxt_exception_is_found():
    assert embedded_document('mexc {"code":700006,"msg":"IP [1.2.3.4] not in the ip white list"}') == {
        "code": 700006,
        "msg": "IP [1.2.3.4] not in the ip white list",
    }
    assert embedded_document("mexc GET https://api.mexc.com/api/v3/account 503") is None


# --- the rules file, validated to the field ---------------------------------------------------------

GOOD_RULE = {"name": "r", "cause": "rate_limited", "words": ["\\btoo many\\b"], "why": "w", "source": "s"}


def write_rules(tmp_path, rules, keys=("msg",)):
    path = tmp_path / "_words.yaml"
    path.write_text(json.dumps({"message_keys": list(keys), "rules": rules}))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "rules[0] (r): unknown field 'colour'"),
        ({"why": ""}, "rules[0] (r): field 'why' is required"),
        ({"cause": "broken"}, "rules[0] (r): field 'cause': unknown cause 'broken'"),
        ({"candidates": ["ip_not_allowed"]}, "rules[0] (r): field 'candidates' must start with the cause"),
        ({"decisive": True}, "rules[0] (r): field 'decisive': a transient cause (rate_limited) cannot be"),
        ({"decisive": "yes"}, "rules[0] (r): field 'decisive' must be true or false"),
        ({"words": ["(unclosed"]}, "rules[0] (r): field 'words': '(unclosed' is not a regular expression"),
        ({"words": ["Too many"]}, "rules[0] (r): field 'words': 'Too many' must be lower case"),
        ({"unless": "ban"}, "rules[0] (r): field 'unless': must be a list of regular expressions"),
    ],
)
def test_a_broken_rule_names_the_file_the_rule_and_the_field(tmp_path, change, message):
    path = write_rules(tmp_path, [{**GOOD_RULE, **change}])
    with pytest.raises(KnowledgeError) as info:
        load_word_rules(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_a_rule_name_is_used_once_and_message_keys_are_required(tmp_path):
    with pytest.raises(KnowledgeError, match=r"rules\[1\] \(r\): name used twice"):
        load_word_rules(write_rules(tmp_path, [GOOD_RULE, GOOD_RULE]))
    with pytest.raises(KnowledgeError, match="field 'message_keys' must be a non-empty list"):
        load_word_rules(write_rules(tmp_path, [GOOD_RULE], keys=()))


def test_an_escape_is_not_taken_for_an_upper_case_letter(tmp_path):
    rules = load_word_rules(write_rules(tmp_path, [{**GOOD_RULE, "words": ["\\btoo\\Smany\\b"]}]))
    assert rules.rules[0].matches(["too5many"]) and not rules.rules[0].matches(["too many"])


# --- precedence ----------------------------------------------------------------------------------


def test_decisive_words_beat_the_authentication_error_ccxt_made_of_them():
    """BingX code 100001 is AuthenticationError in ccxt's table, whatever the message says."""
    diagnosis = classify("bingx", 200, '{"code":100001,"msg":"IP does not match IP whitelist"}')
    assert diagnosis.cause == "ip_not_allowed"
    assert diagnosis.evidence.ccxt_class == "AuthenticationError"
    assert diagnosis.evidence.matched.startswith("words rule 'ip_allowlist'")
    assert "key_invalid" in diagnosis.candidates  # what ccxt's class says stays possible


def test_transient_words_never_turn_a_key_error_ccxt_recognised_into_a_retry():
    diagnosis = classify(
        "bingx", 200, '{"code":100001,"msg":"The current system is busy, please try again later"}'
    )
    assert diagnosis.action_required and not diagnosis.transient
    assert diagnosis.cause == "key_invalid"
    assert "exchange_unavailable" in diagnosis.candidates


def test_transient_words_decide_where_ccxt_has_no_class_for_the_body():
    """BingX 100410 is ccxt's OperationFailed, which says nothing about the cause."""
    diagnosis = classify(
        "bingx", 200, '{"code":100410,"msg":"The current system is busy, please try again later"}'
    )
    assert diagnosis.cause == "exchange_unavailable" and diagnosis.transient


def test_the_exchanges_own_knowledge_file_always_wins():
    """Bybit's 403 'access too frequent' is an IP ban (bybit.yaml); the words alone say rate limit."""
    assert classify("bybit", 403, "access too frequent").cause == "ip_not_allowed"
    assert classify("phemex", 403, "access too frequent").cause == "rate_limited"


def test_ccxt_table_is_evidence_finer_than_the_class_its_handler_raised():
    """binanceusdm's handler reads the table its URL selects; -1005 is only in the futures ones."""
    diagnosis = classify("binanceusdm", 400, '{"code":-1005}')
    assert diagnosis.evidence.ccxt_class == "ExchangeError"
    assert "exceptions['linear']['exact']['-1005'] -> PermissionDenied" in diagnosis.evidence.ccxt_table
    assert diagnosis.cause == "permission_missing" and "ip_not_allowed" in diagnosis.candidates
    assert diagnosis.evidence.matched.startswith("ccxt's error table knows it")


def test_candidates_stay_honest_where_the_words_fit_several_causes():
    diagnosis = classify(
        "coinsph", 401, '{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'
    )
    assert diagnosis.cause == "key_revoked"
    assert {"ip_not_allowed", "permission_missing", "key_expired"} <= set(diagnosis.candidates)


def test_a_failure_recorded_without_its_body_is_read_from_the_exception_text():
    error = ccxt.BadRequest('mexc {"code":700006,"msg":"IP [198.51.100.23] not in the ip white list"}')
    diagnosis = classify("mexc", None, None, error=error)
    assert diagnosis.cause == "ip_not_allowed"


@pytest.mark.parametrize(
    ("status", "body", "matched"),
    [
        (503, "", "HTTP status 503"),
        (None, "", "nothing in the response is recognised"),
        (200, '{"code":429,"msg":"x"}', "ccxt's handler raised RateLimitExceeded for the body"),
    ],
)
def test_evidence_says_which_reading_decided_for_any_exchange(status, body, matched):
    assert classify("mexc", status, body).evidence.matched == matched


@pytest.mark.parametrize(
    "body",
    [
        '{"status":"ok","data":[{"currency":"usdt","amount":"5","description":"held: account frozen"}]}',
        '[{"symbol":"BTCUSDT","id":28457,"isMaker":true,"note":"account frozen',
    ],
)
def test_a_success_answer_of_the_wrong_shape_is_data_not_words(body):
    """hooks/answers.py raises BadResponse for a 200 answer cut short or of the wrong shape: the
    free text of its records ("account frozen") is data, not a frozen account: retried, never an
    incident."""
    diagnosis = classify("htx", 200, body, error=ccxt.BadResponse("htx answer of the wrong shape"))
    assert diagnosis.cause == "exchange_unavailable" and diagnosis.transient


def test_the_signed_url_in_a_ccxt_error_is_not_read_as_words():
    """ccxt's status-only errors quote the request URL, signed with timestamp and recvWindow."""
    url = "https://api.binance.us/api/v3/account?timestamp=1700000000000&recvWindow=5000&signature=<redacted>"
    error = ccxt.AuthenticationError(f"binanceus GET {url} 401 Unauthorized")
    diagnosis = classify("binanceus", None, None, error=error)
    assert diagnosis.cause == "key_invalid", diagnosis.evidence.matched

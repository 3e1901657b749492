"""Live probes against the simulator: Binance's -2015 narrowed to one cause, with at most two
failing authenticated requests per incident, and proactive key warnings; for an exchange without
a key-introspection entry, the one cheap authenticated read (read_probe.py)."""

from __future__ import annotations

import time

import ccxt
import pytest

from exchange_sync.diagnosis.facts import warnings_for
from exchange_sync.diagnosis.failure import Failure
from exchange_sync.diagnosis.knowledge import knowledge_for
from exchange_sync.diagnosis.probes import diagnose, key_facts
from exchange_sync.hooks.ccxt import Credentials, RequestLog, build_client

# A ccxt class without a knowledge file that speaks the simulator's (Binance's) protocol.
GENERIC_EXCHANGE = "binanceus"
REFUSED = '{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'


@pytest.fixture
def account(make_sim_account):
    return make_sim_account(trades=20, symbols=1)


def client_for(simulator, key: dict, exchange: str = "binance"):
    # binanceus (the generic path's stand-in) speaks Binance's protocol.
    protocol = "kraken" if exchange == "kraken" else "binance"
    credentials = Credentials(
        exchange, api_key=key["api_key"], secret=key["secret"], base_url=simulator.exchange_url(protocol)
    )
    return lambda: build_client(credentials)


def failing_import(new_client, exchange: str = "binance") -> Failure:
    client = new_client()
    with pytest.raises(ccxt.BaseError) as info:
        client.fetch_balance()
    return Failure.from_exception(exchange, info.value, client)


def failed_requests(simulator, account_id: str, since: int) -> int:
    return sum(
        1 for r in simulator.requests_since(since)["requests"] if r["account"] == account_id and r["refused"]
    )


def break_key(simulator, account_id: str, scenario: str) -> dict:
    """Set up one way a key stops working, as the user or exchange would cause it."""
    if scenario == "reading permission removed":
        key = simulator.create_key(account_id)
        simulator.update_key(key["api_key"], permissions=[])
    elif scenario == "IP allow-list excludes the caller":
        key = simulator.create_key(account_id)
        simulator.update_key(key["api_key"], ip_allowlist=["10.9.8.7"])
    elif scenario in ("revoked", "deleted", "expired"):
        key = simulator.create_key(account_id)
        simulator.key_action(
            key["api_key"], {"revoked": "revoke", "deleted": "delete", "expired": "expire"}[scenario]
        )
    else:
        key = simulator.create_key(account_id)
        simulator.set_account_status(account_id, scenario.split()[-1])
    return key


@pytest.mark.parametrize(
    ("scenario", "cause"),
    [
        ("revoked", "key_revoked"),
        ("deleted", "key_revoked"),
        ("expired", "key_expired"),
        ("reading permission removed", "permission_missing"),
        ("IP allow-list excludes the caller", "ip_not_allowed"),
        ("account suspended", "account_suspended"),
        ("account closed", "account_closed"),
    ],
)
def test_probes_name_the_one_cause(simulator, account, scenario, cause):
    key = break_key(simulator, account.id, scenario)
    seq = simulator.last_seq()
    new_client = client_for(simulator, key)
    failure = failing_import(new_client)
    diagnosis = diagnose(failure, new_client)
    assert diagnosis.cause == cause, diagnosis.evidence
    assert diagnosis.candidates == (cause,)
    assert diagnosis.action_required and not diagnosis.transient
    assert failed_requests(simulator, account.id, seq) <= 2


def test_minus_2015_on_a_used_instance_is_not_mistaken_for_a_rate_limit(simulator, account):
    """ccxt raises DDoSProtection for -2015 once the instance has authenticated (exchange-errors §0.2)."""
    key = simulator.create_key(account.id)
    new_client = client_for(simulator, key)
    client = new_client()
    client.fetch_balance()
    simulator.key_action(key["api_key"], "revoke")
    with pytest.raises(ccxt.DDoSProtection) as info:
        client.fetch_balance()
    failure = Failure.from_exception("binance", info.value, client)
    assert failure.http_status == 401 and '"code":-2015' in failure.body
    diagnosis = diagnose(failure, new_client)
    assert diagnosis.cause == "key_revoked"
    assert diagnosis.evidence.ccxt_class == "AuthenticationError"  # what a fresh instance makes of the body


def test_missing_credentials_cost_no_request(simulator, account):
    seq = simulator.last_seq()
    failure = Failure("binance", None, None, "AuthenticationError", 'binance requires "apiKey" credential')
    diagnosis = diagnose(failure, lambda: pytest.fail("no client may be built"))
    assert diagnosis.cause == "credentials_missing"
    assert simulator.requests_since(seq)["requests"] == []


def test_transient_failures_are_not_probed(simulator, account):
    key = simulator.create_key(account.id)
    new_client = client_for(simulator, key)
    simulator.set_maintenance(True)
    try:
        failure = failing_import(new_client)
        seq = simulator.last_seq()
        diagnosis = diagnose(failure, new_client)
    finally:
        simulator.set_maintenance(False)
    assert diagnosis.cause == "exchange_unavailable" and diagnosis.transient
    assert [r for r in simulator.requests_since(seq)["requests"] if r["account"] == account.id] == []


def test_warnings_for_a_key_that_can_trade_and_withdraw_and_expires_soon(simulator, account):
    expires_at = int(time.time() * 1000) + 3 * 86_400_000 + 60_000
    key = simulator.create_key(
        account.id, permissions=["reading", "spot_trading", "withdrawals"], expires_at=expires_at
    )
    knowledge = knowledge_for("binance")
    facts = key_facts(knowledge, client_for(simulator, key)())
    assert (facts.can_read, facts.can_trade, facts.can_withdraw) == (True, True, True)
    warnings = warnings_for(facts, knowledge.name)
    assert any("expires in 3 days" in w for w in warnings)
    assert any("can withdraw" in w for w in warnings)
    assert any("can trade" in w for w in warnings)


def test_a_read_only_key_without_expiry_gets_no_warning(simulator, account):
    key = simulator.create_key(account.id, permissions=["reading"])
    knowledge = knowledge_for("binance")
    assert warnings_for(key_facts(knowledge, client_for(simulator, key)()), knowledge.name) == ()


def test_the_missing_permission_is_named(simulator, account):
    key = break_key(simulator, account.id, "reading permission removed")
    seq = simulator.last_seq()
    new_client = client_for(simulator, key)
    diagnosis = diagnose(failing_import(new_client), new_client, streams=("balances", "trades"))
    assert diagnosis.cause == "permission_missing"
    assert diagnosis.remediation.startswith("Missing permission: Enable Reading (for balances).")
    assert any("private_get_account: refused" in note for note in diagnosis.evidence.probes)
    assert failed_requests(simulator, account.id, seq) <= 2


def test_kraken_names_the_missing_ledger_permission(simulator, make_sim_account):
    """Kraken grants reads one by one: a key without "Query Ledger Entries" reads balances and
    trades, and the probes name the one it lacks (GetApiKeyInfo answers; one read per permission)."""
    account = make_sim_account(exchange="kraken", trades=20, symbols=1)
    granted = ["query-funds", "query-open-trades", "query-closed-trades"]
    key = simulator.create_key(account.id, permissions=granted)
    new_client = client_for(simulator, key, "kraken")
    seq = simulator.last_seq()
    client = new_client()
    with pytest.raises(ccxt.PermissionDenied) as info:
        client.fetch_ledger()
    failure = Failure.from_exception("kraken", info.value, client)
    diagnosis = diagnose(failure, new_client, streams=("balances", "trades", "ledger"))
    assert diagnosis.cause == "permission_missing"
    assert diagnosis.remediation.startswith("Missing permission: Data → Query ledger entries (for ledger).")
    assert failed_requests(simulator, account.id, seq) == 2  # the import's, and the one refused read


def test_any_ccxt_exchange_gets_a_sensible_answer_from_class_and_status():
    """No knowledge file for these: ccxt's own handling and the HTTP status decide."""
    from exchange_sync.diagnosis import classify

    assert classify("mexc", 429, '{"code":429,"msg":"Too Many Requests"}').cause == "rate_limited"
    assert classify("htx", 503, "<html>Service Unavailable</html>").cause == "exchange_unavailable"
    unauthorized = classify("lbank", 401, "Unauthorized")
    assert unauthorized.action_required and "key_invalid" in unauthorized.candidates
    assert "API management page of LBank" in unauthorized.remediation


# --- any exchange: one cheap authenticated read on a fresh client --------------------------------


def test_any_exchange_a_key_refused_everywhere_is_a_key_problem(simulator, account):
    key = break_key(simulator, account.id, "revoked")
    seq = simulator.last_seq()
    new_client = client_for(simulator, key, GENERIC_EXCHANGE)
    diagnosis = diagnose(failing_import(new_client, GENERIC_EXCHANGE), new_client)
    assert diagnosis.cause == "key_revoked" and diagnosis.action_required
    assert diagnosis.evidence.probes[0] == "fetch_balance: refused (401 key_revoked)"
    # A key without any read permission is refused everywhere too: still named, after the key causes.
    assert diagnosis.candidates.index("permission_missing") > diagnosis.candidates.index("ip_not_allowed")
    assert failed_requests(simulator, account.id, seq) == 2


def test_any_exchange_a_key_the_read_accepts_lacks_the_failing_endpoints_permission(simulator, account):
    key = break_key(simulator, account.id, "reading permission removed")
    seq = simulator.last_seq()
    new_client = client_for(simulator, key, GENERIC_EXCHANGE)
    failure = failing_import(new_client, GENERIC_EXCHANGE)
    # By the time the diagnosis probes, the balance read is allowed again: only the endpoint that
    # failed lacked the permission.
    simulator.update_key(key["api_key"], permissions=["reading"])
    diagnosis = diagnose(failure, new_client)
    assert diagnosis.cause == "permission_missing" and diagnosis.candidates == ("permission_missing",)
    assert diagnosis.evidence.probes == (
        "fetch_balance: answered (the key works from this IP)",
        "decided: permission_missing",
    )
    assert failed_requests(simulator, account.id, seq) == 1


class FakeClient:
    """A ccxt client whose balance read answers, or is refused with the given status and body."""

    def __init__(self, refusal: tuple[int, str, Exception] | None = None, has_balance: bool = True):
        self.has = {"fetchBalance": has_balance}
        self.request_log = RequestLog()
        self.refusal = refusal

    def fetch_balance(self) -> dict:
        status = self.refusal[0] if self.refusal else 200
        self.request_log.record("GET", "/api/v3/account")
        self.request_log.answered(status)
        if self.refusal:
            self.request_log.last_body = self.refusal[1]
            raise self.refusal[2]
        return {"total": {}}


def generic_failure(body: str = REFUSED, status: int = 401) -> Failure:
    return Failure(GENERIC_EXCHANGE, status, body, "AuthenticationError", f"{GENERIC_EXCHANGE} {body}")


def test_the_read_is_not_spent_where_it_cannot_change_the_answer():
    clock = '{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}'
    diagnosis = diagnose(generic_failure(clock, 400), lambda: pytest.fail("no client may be built"))
    assert diagnosis.cause == "clock_skew" and diagnosis.evidence.probes == ()


def test_no_read_where_ccxt_offers_none():
    client = FakeClient(has_balance=False)
    diagnosis = diagnose(generic_failure(), lambda: client)
    assert client.request_log.count == 0
    assert diagnosis.cause == "key_revoked" and diagnosis.evidence.probes == (
        "not probed: ccxt has no fetch_balance for Binance US",
    )


def test_a_transient_refusal_of_the_read_leaves_the_diagnosis_as_it_was():
    busy = '{"code":-1001,"msg":"Internal error; unable to process your request. Please try again."}'
    client = FakeClient((503, busy, ccxt.ExchangeNotAvailable(f"binanceus {busy}")))
    diagnosis = diagnose(generic_failure(), lambda: client)
    assert diagnosis.cause == "key_revoked" and "permission_missing" in diagnosis.candidates
    assert diagnosis.evidence.probes[-1].endswith("transient, diagnosis unchanged")


def test_a_read_refused_for_its_own_permission_names_the_permission():
    no_read = '{"code":-2015,"msg":"This key does not allow showing account information."}'
    client = FakeClient((401, no_read, ccxt.AuthenticationError(f"binanceus {no_read}")))
    diagnosis = diagnose(generic_failure(), lambda: client)
    assert diagnosis.cause == "permission_missing"
    assert client.request_log.failures == 1

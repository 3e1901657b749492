"""Fixtures for the simulator's own tests.

The simulator runs once per session as a real subprocess of its own
(`python -m exchange_sync.simulator --port 0 --seed 7`, rate limit switched off afterwards; the
rate-limit tests switch it back on). These fixtures drive it with ccxt's real exchange classes
(pointed at it the way the project's hook does: `rebase_urls`) and with raw signed HTTP
requests, and put back every global setting a test changes (maintenance, clock, faults, rate
limit). Exchange-neutral scenarios take the `exchange` fixture and run for every exchange.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import ccxt
import pytest
import requests

from exchange_sync.hooks.ccxt import rebase_urls
from exchange_sync.sim_client import SimulatorClient
from exchange_sync.simulator.protocols.kraken.auth import signature
from exchange_sync.simulator.protocols.okx.auth import signature as okx_signature

SEED = 7
EXCHANGES = ["binance", "kraken", "okx", "coinbase"]
# One cheap private read per exchange: what "the key works" means in neutral tests.
PROBES: dict[str, Callable[[ccxt.Exchange], Any]] = {
    "binance": lambda exchange: exchange.private_get_account(),
    "kraken": lambda exchange: exchange.private_post_balanceex(),
    "okx": lambda exchange: exchange.private_get_account_balance(),
    "coinbase": lambda exchange: exchange.v3PrivateGetBrokerageKeyPermissions(),
}
PROBE_PATHS = {
    "binance": "/binance/api/v3/account",
    "kraken": "/kraken/0/private/BalanceEx",
    "okx": "/okx/api/v5/account/balance",
    "coinbase": "/coinbase/api/v3/brokerage/key_permissions",
}
# Exchanges whose ledger `amount` is the net change (fee included): OKX's balChg.
NET_LEDGERS = {"okx"}


def start_simulator(*args: str) -> tuple[subprocess.Popen, SimulatorClient]:
    """`python -m exchange_sync.simulator` on a free port; returns once it printed its URL."""
    argv = [sys.executable, "-m", "exchange_sync.simulator", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        [*argv, "--seed", str(SEED), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.fullmatch(r"simulator listening on (http://\S+)\n?", line)
        if match:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # never block on a full pipe
            return proc, SimulatorClient(match.group(1))
    raise RuntimeError(f"simulator did not start (exit code {proc.wait()})")


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorClient]:
    """This directory's own simulator (it shadows the project-wide fixture of the same name)."""
    proc, client = start_simulator()
    client.request("POST", "/_sim/ratelimit", {"enabled": False})
    yield client
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(params=EXCHANGES)
def exchange(request: pytest.FixtureRequest) -> str:
    return request.param


@dataclass
class Key:
    api_key: str
    secret: str
    account: str
    passphrase: str = ""  # OKX keys have one


CCXT_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {"fetchMarkets": {"types": ["spot"]}},
    "kraken": {},
    "okx": {"fetchMarkets": {"types": ["spot"]}},
    "coinbase": {},
}


_last_nonce = [0]


def shared_nonce() -> int:
    """Milliseconds, strictly increasing across every Kraken client of this test process: Kraken
    refuses a nonce not above the key's last one, and tests use one key from several clients."""
    _last_nonce[0] = max(int(time.time() * 1000), _last_nonce[0] + 1)
    return _last_nonce[0]


NONCES: dict[str, Callable[[], int]] = {"kraken": shared_nonce}


def _ccxt(simulator: SimulatorClient, exchange: str, key: Key | None, **options: Any) -> ccxt.Exchange:
    config: dict[str, Any] = {"enableRateLimit": False, "options": {**CCXT_OPTIONS[exchange], **options}}
    if key is not None:
        config.update(apiKey=key.api_key, secret=key.secret)
        if key.passphrase:
            config["password"] = key.passphrase  # ccxt's name for a key's passphrase
    client = getattr(ccxt, exchange)(config)
    client.number = str  # amounts stay strings: nothing passes through a binary float
    client.urls["api"] = rebase_urls(client.urls["api"], simulator.exchange_url(exchange))
    if exchange in NONCES:
        client.nonce = NONCES[exchange]
    return client


@pytest.fixture(scope="session")
def loaded_markets(simulator: SimulatorClient) -> Callable[[str], tuple[dict, dict]]:
    """Markets and currencies per exchange, loaded once (anonymously) and handed to every instance."""
    cache: dict[str, tuple[dict, dict]] = {}

    def load(exchange: str) -> tuple[dict, dict]:
        if exchange not in cache:
            client = _ccxt(simulator, exchange, None)
            cache[exchange] = (client.load_markets(), client.currencies)
        return cache[exchange]

    return load


@pytest.fixture
def client(
    simulator: SimulatorClient, loaded_markets: Callable[[str], tuple[dict, dict]]
) -> Callable[..., Any]:
    """A fresh ccxt instance of an exchange on the simulator; preload=False makes it load markets."""

    def make(exchange: str, key: Key | None = None, *, preload: bool = True, **options: Any) -> ccxt.Exchange:
        instance = _ccxt(simulator, exchange, key, **options)
        if preload:
            markets, currencies = loaded_markets(exchange)
            instance.set_markets(markets, currencies)
        return instance

    return make


@pytest.fixture
def binance(client: Callable[..., Any]) -> Callable[..., ccxt.binance]:
    def make(key: Key | None = None, *, preload: bool = True, **options: Any) -> ccxt.binance:
        return client("binance", key, preload=preload, **options)

    return make


@pytest.fixture
def kraken(client: Callable[..., Any]) -> Callable[..., ccxt.kraken]:
    def make(key: Key | None = None, *, preload: bool = True, **options: Any) -> ccxt.kraken:
        return client("kraken", key, preload=preload, **options)

    return make


@pytest.fixture
def okx(client: Callable[..., Any]) -> Callable[..., ccxt.okx]:
    def make(key: Key | None = None, *, preload: bool = True, **options: Any) -> ccxt.okx:
        return client("okx", key, preload=preload, **options)

    return make


@pytest.fixture
def coinbase(client: Callable[..., Any]) -> Callable[..., ccxt.coinbase]:
    def make(key: Key | None = None, *, preload: bool = True, **options: Any) -> ccxt.coinbase:
        return client("coinbase", key, preload=preload, **options)

    return make


@pytest.fixture(scope="session")
def spot_markets(loaded_markets: Callable[[str], tuple[dict, dict]]) -> dict:
    return loaded_markets("binance")[0]


DEFAULT_SPEC = {"seed": 5, "trades": 300, "symbols": 4, "deposits": 20, "withdrawals": 10, "days": 200}


@pytest.fixture
def new_account(simulator: SimulatorClient) -> Callable[..., str]:
    """A fresh seeded account per call, so tests never see each other's keys or activity."""

    def make(exchange: str = "binance", account_id: str | None = None, **spec: Any) -> str:
        # A fixed id makes the history the same in every run (the id seeds its generator).
        account_id = account_id or f"s{uuid.uuid4().hex[:10]}"
        simulator.create_account(account_id, exchange, **{**DEFAULT_SPEC, **spec})
        return account_id

    return make


@pytest.fixture
def new_key(simulator: SimulatorClient) -> Callable[..., Key]:
    def make(account_id: str, **spec: Any) -> Key:
        created = simulator.create_key(account_id, **spec)
        return Key(created["api_key"], created["secret"], account_id, created.get("passphrase", ""))

    return make


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@pytest.fixture
def signed_get(simulator: SimulatorClient) -> Callable[..., Raw]:
    """A raw Binance request signed like ccxt signs it, for asserting exact statuses and bodies."""

    def get(
        path: str,
        key: Key | None,
        params: dict[str, Any] | None = None,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        sign: bool = True,
        api_key: str | None = None,
    ) -> Raw:
        query = dict(params or {})
        if sign:
            query["timestamp"] = timestamp if timestamp is not None else int(time.time() * 1000)
        text = urlencode(query)
        if sign and key is not None:
            signature_ = hmac.new((secret or key.secret).encode(), text.encode(), hashlib.sha256).hexdigest()
            text = f"{text}&signature={signature_}"
        headers = {}
        if api_key is not None:
            headers["X-MBX-APIKEY"] = api_key
        elif key is not None:
            headers["X-MBX-APIKEY"] = key.api_key
        url = f"{simulator.exchange_url('binance')}{path}" + (f"?{text}" if text else "")
        response = requests.get(url, headers=headers, timeout=30)
        return Raw(response.status_code, dict(response.headers), response.text)

    return get


@pytest.fixture
def kraken_post(simulator: SimulatorClient) -> Callable[..., Raw]:
    """A raw Kraken private call signed like ccxt signs it (API-Key, API-Sign over nonce + body)."""

    def post(
        method: str,
        key: Key | None,
        params: dict[str, Any] | None = None,
        *,
        nonce: int | None = None,
        secret: str | None = None,
        api_key: str | None = None,
    ) -> Raw:
        fields = {"nonce": str(nonce if nonce is not None else shared_nonce()), **(params or {})}
        body = urlencode(fields)
        path = f"/0/private/{method}"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if key is not None or api_key is not None:
            headers["API-Key"] = api_key if api_key is not None else key.api_key  # type: ignore[union-attr]
        if key is not None:
            headers["API-Sign"] = signature(secret or key.secret, path, fields["nonce"], body) or ""
        response = requests.post(
            f"{simulator.exchange_url('kraken')}{path}", data=body, headers=headers, timeout=30
        )
        return Raw(response.status_code, dict(response.headers), response.text)

    return post


def okx_timestamp(ms: int | None = None) -> str:
    """OK-ACCESS-TIMESTAMP as ccxt writes it: ISO 8601 UTC with milliseconds."""
    ms = int(time.time() * 1000) if ms is None else ms
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


@pytest.fixture
def okx_get(simulator: SimulatorClient) -> Callable[..., Raw]:
    """A raw OKX private GET signed like ccxt signs it; any header can be replaced or left out
    (a value of None drops it)."""

    def get(path: str, key: Key | None, params: dict[str, Any] | None = None, **headers: Any) -> Raw:
        query = urlencode(params or {})
        request_path = f"/api/v5/{path}" + (f"?{query}" if query else "")
        timestamp = headers.pop("timestamp", None) or okx_timestamp()
        sent: dict[str, Any] = {}
        if key is not None:
            sent = {
                "OK-ACCESS-KEY": key.api_key,
                "OK-ACCESS-PASSPHRASE": key.passphrase,
                "OK-ACCESS-TIMESTAMP": timestamp,
                "OK-ACCESS-SIGN": okx_signature(
                    headers.pop("secret", None) or key.secret, timestamp, "GET", request_path, ""
                ),
            }
        for name, value in headers.items():
            sent[f"OK-ACCESS-{name.upper()}"] = value
        response = requests.get(
            f"{simulator.exchange_url('okx')}{request_path}",
            headers={k: v for k, v in sent.items() if v is not None},
            timeout=30,
        )
        return Raw(response.status_code, dict(response.headers), response.text)

    return get


def coinbase_token(key: Key, url: str, method: str = "GET", **claims: Any) -> str:
    """A JWT signed with the key's PEM as ccxt signs it, with claims overridden."""
    now = int(time.time())
    body = {
        "aud": ["retail_rest_api_proxy"],
        "iss": "coinbase-cloud",
        "nbf": now,
        "exp": now + 120,
        "sub": key.api_key,
        "iat": now,
        "uri": f"{method} {url.removeprefix('https://')}",
    } | claims
    opts = {"kid": key.api_key, "nonce": "ab12", "alg": "ES256"}
    return ccxt.Exchange.jwt(body, key.secret.encode(), "sha256", False, opts)


@pytest.fixture
def coinbase_get(simulator: SimulatorClient) -> Callable[..., Raw]:
    """A raw Coinbase GET with an ES256 JWT made like ccxt makes it (claims overridable)."""

    def get(
        path: str,
        key: Key | None,
        params: dict[str, Any] | None = None,
        *,
        authorization: str | None = None,
        **claims: Any,
    ) -> Raw:
        url = f"{simulator.exchange_url('coinbase')}{path}"
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif key is not None:
            headers["Authorization"] = "Bearer " + coinbase_token(key, url, **claims)  # no query in uri
        response = requests.get(url, params=params, headers=headers, timeout=30)
        return Raw(response.status_code, dict(response.headers), response.text)

    return get


@pytest.fixture
def world_settings(simulator: SimulatorClient) -> Iterator[SimulatorClient]:
    """For tests that flip global switches: everything is put back afterwards."""
    yield simulator
    simulator.set_maintenance(False)
    simulator.clear_faults()
    simulator.request("POST", "/_sim/clock", {"offset_ms": 0})
    simulator.request("POST", "/_sim/ratelimit", {"enabled": False, "weight_per_minute": 6000})


# -- ground-truth arithmetic ------------------------------------------------------------------


def net_balances(history: dict) -> dict[str, Decimal]:
    """Replay trades and transfers in time order (deposits, trades, withdrawals at equal times)
    and check no balance ever goes negative; returns the final non-zero totals. Only deposits that
    were credited count; withdrawals that failed or were canceled were refunded. (Staking rewards
    are only in the ledger: use ledger_balances for exchanges that pay them.)"""
    events: list[tuple[int, int, str, Decimal]] = []
    for d in history["deposits"]:
        if d["status"] == "ok":
            events.append((d["timestamp"], 0, d["currency"], Decimal(d["amount"])))
    for t in history["trades"]:
        base, quote = t["symbol"].split("/")
        amount, cost = Decimal(t["amount"]), Decimal(t["cost"])
        sign = 1 if t["side"] == "buy" else -1
        events.append((t["timestamp"], 1, base, sign * amount))
        events.append((t["timestamp"], 1, quote, -sign * cost))
        events.append((t["timestamp"], 1, t["fee_currency"], -Decimal(t["fee"])))
    for w in history["withdrawals"]:
        if w["status"] in ("ok", "pending"):
            events.append((w["timestamp"], 2, w["currency"], -(Decimal(w["amount"]) + Decimal(w["fee"]))))
    # Within one timestamp credits go first: a fill's proceeds may pay its own commission.
    events.sort(key=lambda e: (e[0], e[1], e[3] < 0))
    totals: dict[str, Decimal] = {}
    for when, _, asset, delta in events:
        totals[asset] = totals.get(asset, Decimal(0)) + delta
        assert totals[asset] >= 0, f"{asset} negative at {when}"
    return {asset: total for asset, total in totals.items() if total != 0}


def ledger_balances(history: dict, net: bool = False) -> dict[str, Decimal]:
    """sum(amount - fee) per asset over the ledger (sum(amount) where amounts are `net`, fee
    included: NET_LEDGERS), checking each entry's running balance."""
    totals: dict[str, Decimal] = {}
    for entry in history["ledger"]:
        asset = entry["currency"]
        fee = Decimal(0) if net else Decimal(entry["fee"] or 0)
        totals[asset] = totals.get(asset, Decimal(0)) + Decimal(entry["amount"]) - fee
        # Coinbase's ledger (ccxt) has no fee on most entries and no balance after any
        if entry["balance"] is not None:
            assert totals[asset] == Decimal(entry["balance"]) >= 0, entry
    return {asset: total for asset, total in totals.items() if total != 0}


def truth_balances(history: dict) -> dict[str, Decimal]:
    return {a: Decimal(b["free"]) + Decimal(b["locked"]) for a, b in history["balances"].items()}


def expected_balances(history: dict, exchange: str = "") -> dict[str, Decimal]:
    """What the balances must be: the ledger's sums where there is a ledger, else the replay."""
    if not history["ledger"]:
        return net_balances(history)
    return ledger_balances(history, net=exchange in NET_LEDGERS)


def ccxt_trade_facts(trade: dict) -> tuple:
    """What a ccxt trade says, comparable with truth_trade_facts of the ground truth's trade."""
    fee = trade["fee"]
    return (
        trade["id"],
        trade["order"],
        trade["symbol"],
        Decimal(trade["price"]),
        Decimal(trade["amount"]),
        Decimal(trade["cost"]),
        Decimal(fee["cost"]),
        fee["currency"],
        trade["timestamp"],
        trade["side"],
    )


def truth_trade_facts(trade: dict) -> tuple:
    return (
        trade["id"],
        trade["order_id"],
        trade["symbol"],
        Decimal(trade["price"]),
        Decimal(trade["amount"]),
        Decimal(trade["cost"]),
        Decimal(trade["fee"]),
        trade["fee_currency"],
        trade["timestamp"],
        trade["side"],
    )

"""Fixtures for the simulator's own tests.

The simulator runs once per session as a real subprocess of its own
(`python -m exchange_sync.simulator --port 0 --seed 7`, rate limit switched off afterwards; the
rate-limit tests switch it back on). These fixtures drive it with ccxt's real `ccxt.binance` and
with raw signed HTTP requests, and put back every global setting a test changes (maintenance,
clock, faults, rate limit).
"""

from __future__ import annotations

import hashlib
import hmac
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
from urllib.parse import urlencode, urlsplit

import ccxt
import pytest
import requests

from exchange_sync.sim_client import SimulatorClient

SEED = 7


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


def point_at(exchange: ccxt.Exchange, base_url: str) -> None:
    """Rewrite every ccxt API URL to the simulator, keeping the path (api/v3, sapi/v1, ...)."""

    def rebase(urls: Any) -> Any:
        if isinstance(urls, dict):
            return {k: rebase(v) for k, v in urls.items()}
        if isinstance(urls, str) and urls.startswith("http"):
            return base_url.rstrip("/") + urlsplit(urls).path
        return urls

    exchange.urls["api"] = rebase(exchange.urls["api"])


@dataclass
class Key:
    api_key: str
    secret: str
    account: str


@pytest.fixture(scope="session")
def spot_markets(simulator: SimulatorClient) -> dict:
    """Markets loaded once (anonymously: exchangeInfo only) and handed to every ccxt instance."""
    exchange = ccxt.binance({"options": {"fetchMarkets": {"types": ["spot"]}}})
    point_at(exchange, simulator.exchange_url("binance"))
    return exchange.load_markets()


@pytest.fixture
def binance(simulator: SimulatorClient, spot_markets: dict) -> Callable[..., ccxt.binance]:
    """A fresh ccxt.binance on the simulator; preload=False makes it load markets itself."""

    def make(key: Key | None = None, *, preload: bool = True, **options: Any) -> ccxt.binance:
        config: dict[str, Any] = {
            "enableRateLimit": False,
            "options": {"fetchMarkets": {"types": ["spot"]}, **options},
        }
        if key is not None:
            config.update(apiKey=key.api_key, secret=key.secret)
        exchange = ccxt.binance(config)
        exchange.number = str  # amounts stay strings: nothing passes through a binary float
        point_at(exchange, simulator.exchange_url("binance"))
        if preload:
            exchange.set_markets(spot_markets)
        return exchange

    return make


@pytest.fixture
def new_account(simulator: SimulatorClient) -> Callable[..., str]:
    """A fresh seeded account per call, so tests never see each other's keys or activity."""

    def make(**spec: Any) -> str:
        account_id = f"s{uuid.uuid4().hex[:10]}"
        defaults = {"seed": 5, "trades": 300, "symbols": 4, "deposits": 20, "withdrawals": 10, "days": 200}
        simulator.create_account(account_id, "binance", **{**defaults, **spec})
        return account_id

    return make


@pytest.fixture
def new_key(simulator: SimulatorClient) -> Callable[..., Key]:
    def make(account_id: str, **spec: Any) -> Key:
        created = simulator.create_key(account_id, **spec)
        return Key(created["api_key"], created["secret"], account_id)

    return make


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        import json

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
            signature = hmac.new((secret or key.secret).encode(), text.encode(), hashlib.sha256).hexdigest()
            text = f"{text}&signature={signature}"
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
def world_settings(simulator: SimulatorClient) -> Iterator[SimulatorClient]:
    """For tests that flip global switches: everything is put back afterwards."""
    yield simulator
    simulator.set_maintenance(False)
    simulator.clear_faults()
    simulator.request("POST", "/_sim/clock", {"offset_ms": 0})
    simulator.request("POST", "/_sim/ratelimit", {"enabled": False, "weight_per_minute": 6000})


def net_balances(history: dict) -> dict[str, Decimal]:
    """Replay a ground-truth history in time order (deposits, trades, withdrawals at equal times)
    and check no balance ever goes negative; returns the final non-zero totals."""
    events: list[tuple[int, int, str, Decimal]] = []
    for d in history["deposits"]:
        events.append((d["timestamp"], 0, d["currency"], Decimal(d["amount"])))
    for t in history["trades"]:
        base, quote = t["symbol"].split("/")
        amount, cost = Decimal(t["amount"]), Decimal(t["cost"])
        sign = 1 if t["side"] == "buy" else -1
        events.append((t["timestamp"], 1, base, sign * amount))
        events.append((t["timestamp"], 1, quote, -sign * cost))
        events.append((t["timestamp"], 1, t["fee_currency"], -Decimal(t["fee"])))
    for w in history["withdrawals"]:
        events.append((w["timestamp"], 2, w["currency"], -(Decimal(w["amount"]) + Decimal(w["fee"]))))
    # Within one timestamp credits go first: a fill's proceeds may pay its own commission.
    events.sort(key=lambda e: (e[0], e[1], e[3] < 0))
    totals: dict[str, Decimal] = {}
    for when, _, asset, delta in events:
        totals[asset] = totals.get(asset, Decimal(0)) + delta
        assert totals[asset] >= 0, f"{asset} negative at {when}"
    return {asset: total for asset, total in totals.items() if total != 0}


def truth_balances(history: dict) -> dict[str, Decimal]:
    return {a: Decimal(b["free"]) + Decimal(b["locked"]) for a, b in history["balances"].items()}

"""Shared by the importer tests: an account's registry entry and its requests on the simulator."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from exchange_sync.profiles import get_profile
from exchange_sync.registry import AccountConfig

HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)
# Small, but with several transfer windows and trade symbols, so faults can land mid-pagination.
SMALL = {"trades": 120, "symbols": 2, "deposits": 10, "withdrawals": 6, "days": 200}
_ENDPOINTS: dict[str, Counter] = {}


def account_config(account_id: str, exchange: str = "binance", **overrides) -> AccountConfig:
    """The registry entry of a test account: every stream its exchange has."""
    values = {
        "id": account_id,
        "exchange": exchange,
        "conn_id": f"conn_{account_id}",
        "streams": get_profile(exchange).streams,
        "history_start": HISTORY_START,
    }
    return AccountConfig(**{**values, **overrides})


def requests_of(simulator, account_id: str, since: int) -> list[dict]:
    return [r for r in simulator.requests_since(since)["requests"] if r["account"] == account_id]


@pytest.fixture(autouse=True)
def no_leftover_faults(simulator):
    """A fault a test armed but did not fire must not hit the next test."""
    yield
    simulator.clear_faults()


# An id in a path (Coinbase's /v2/accounts/{wallet uuid}/transactions): the endpoint is what
# follows it, the same for every account.
_PATH_ID = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _endpoint(path: str) -> str:
    return _PATH_ID.split(path)[-1]


def importer_endpoints(make_sim_account, connect, warehouse, exchange: str) -> Counter:
    """Every path a clean first import requests, with how often (found once per exchange)."""
    from exchange_sync.importer.run import run_account_import

    if exchange not in _ENDPOINTS:
        account = make_sim_account(**SMALL)
        connect(f"conn_{account.id}", account.id)
        seq = account.simulator.last_seq()
        run_account_import(account_config(account.id, exchange), warehouse)
        paths = [r["path"].split("?")[0] for r in account.simulator.requests_since(seq)["requests"]]
        _ENDPOINTS[exchange] = Counter(_endpoint(p) for p in paths if p.startswith(f"/{exchange}/"))
    return _ENDPOINTS[exchange]

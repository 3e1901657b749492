"""Fast paths (importer/fast_rows): the exchange's raw answer straight to rows must give exactly
what ccxt's parser + rows.py give, row for row, and a page a fast path does not know must go
through ccxt's parser as before. Parametrized over every stream whose profile has a fast path."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import ccxt
import pytest

from exchange_sync.hooks.ccxt import CcxtHook, build_client
from exchange_sync.importer.account import AccountImporter
from exchange_sync.importer.fast_rows import FastPath, RawAnswer
from exchange_sync.importer.rows import ROWS
from exchange_sync.profiles import PROFILES, ExchangeProfile
from exchange_sync.warehouse.schema import trades
from tests.fixtures.ground_truth import assert_warehouse_matches
from tests.importer.conftest import account_config

FAST = [
    pytest.param(exchange, stream, id=f"{exchange}-{stream}")
    for exchange, profile in PROFILES.items()
    for stream, source in profile.sources.items()
    if source.fast_rows is not None
]


def exact(rows: list[dict]) -> list[dict]:
    """Rows compared to the digit and the type: Decimal('1.50') is not Decimal('1.5') here."""
    return [{k: (type(v).__name__, str(v)) for k, v in row.items()} for row in rows]


def with_fast_path(profile: ExchangeProfile, stream: str, fast: FastPath | None) -> ExchangeProfile:
    source = dataclasses.replace(profile.sources[stream], fast_rows=fast)
    return dataclasses.replace(profile, sources={**profile.sources, stream: source})


def checking(stream: str, fast: FastPath, pages: list[int]) -> FastPath:
    """The fast path, checked on every page it serves against ccxt's parse of the same answer."""

    def rows(client, items, market, since, limit, account_id, exchange, imported_at):
        got = fast.rows(client, items, market, since, limit, account_id, exchange, imported_at)
        assert got is not None, f"a page of the simulator's {exchange} history left the fast path"
        parsed = getattr(type(client), fast.parser)(client, copy.deepcopy(items), market, since, limit, {})
        expected = [ROWS[stream](r, account_id, exchange, imported_at) for r in parsed]
        assert exact(got) == exact(expected)
        pages.append(len(got))
        return got

    return FastPath(fast.parser, rows)


def client_for(sim_account, exchange: str, connect) -> Any:
    """A client as the importer builds one, from the account's connection to a new simulator key."""
    conn_id = f"conn_{sim_account.id}"
    connect(conn_id, sim_account.id, exchange=exchange)
    return build_client(CcxtHook(conn_id).get_credentials(exchange))


@pytest.mark.parametrize(("exchange", "stream"), FAST)
@pytest.mark.parametrize("seed", [5, 11, 23])
def test_the_fast_path_gives_ccxts_rows_on_every_page_of_a_history(
    make_sim_account, connect, sqlite_url, exchange, stream, seed
):
    from exchange_sync.warehouse import Warehouse

    warehouse = Warehouse.open(sqlite_url)
    sim_account = make_sim_account(exchange, seed=seed, trades=2500, symbols=8, days=200)
    profile = PROFILES[exchange]
    pages: list[int] = []
    checked = with_fast_path(profile, stream, checking(stream, profile.sources[stream].fast_rows, pages))
    client = client_for(sim_account, exchange, connect)
    AccountImporter(account_config(sim_account.id, exchange), client, warehouse, checked).run()

    history = sim_account.history()
    assert sum(pages) == len(history[stream]) and len(pages) > 3
    assert_warehouse_matches(warehouse, sim_account.id, history)
    warehouse.close()


@pytest.mark.parametrize(("exchange", "stream"), FAST)
def test_an_import_takes_the_fast_path_and_stores_what_ccxts_parse_stores(
    make_sim_account, connect, warehouse_url, exchange, stream, monkeypatch, tmp_path
):
    """Two imports of one account, with and without the fast path: the same rows in the warehouse,
    and the fast one never called ccxt's per-record parser."""
    from exchange_sync.warehouse import Warehouse

    sim_account = make_sim_account(exchange, trades=1200, symbols=4)
    profile = PROFILES[exchange]
    parsed = []
    per_record = getattr(ccxt, exchange).parse_trade

    def counting(self, *args, **kwargs):
        parsed.append(1)
        return per_record(self, *args, **kwargs)

    monkeypatch.setattr(getattr(ccxt, exchange), "parse_trade", counting)
    stored = {}
    for name, chosen in (("fast", profile), ("ccxt", with_fast_path(profile, stream, None))):
        parsed.clear()
        url = warehouse_url if name == "fast" else f"sqlite:///{tmp_path / 'ccxt.db'}"
        warehouse = Warehouse.open(url)
        try:
            account = account_config(sim_account.id, exchange, streams=("balances", stream))
            AccountImporter(account, client_for(sim_account, exchange, connect), warehouse, chosen).run()
            rows = warehouse.rows(trades, sim_account.id)
            stored[name] = exact(
                sorted(({**r, "imported_at": None} for r in rows), key=lambda r: r["trade_id"])
            )
        finally:
            warehouse.close()
        if name == "fast":
            assert not parsed, "ccxt's per-record parser ran although the fast path knows every page"
        else:
            assert parsed
    assert len(stored["fast"]) == len(sim_account.history()[stream])
    assert stored["fast"] == stored["ccxt"]


SPOT_TRADE = {
    "symbol": "BNBBTC",
    "id": 28457,
    "orderId": 100234,
    "orderListId": -1,
    "price": "4.00000100",
    "qty": "12.00000000",
    "quoteQty": "48.000012",
    "commission": "10.10000000",
    "commissionAsset": "BNB",
    "time": 1499865549590,
    "isBuyer": True,
    "isMaker": False,
    "isBestMatch": True,
}
# Pages the Binance fast path must not take (each is ccxt's to parse, or to refuse).
UNKNOWN_PAGES = {
    "a field more": {"isDustTrade": True},
    "a margin record": {"isIsolated": False},
    "a number where a string belongs": {"price": 4.000001},
    "an empty amount": {"commission": ""},
    "not a number": {"qty": "twelve"},
    "not finite": {"qty": "Infinity"},
    "an id as a string": {"id": "28457"},
    "a time as a string": {"time": "1499865549590"},
    "a flag as a string": {"isBuyer": "true"},
    "no fee asset": {"commissionAsset": None},
    "another market's record": {"symbol": "ETHBTC"},
}


@pytest.fixture(scope="module")
def binance_client() -> Any:
    client = ccxt.binance()
    client.number = str
    client.set_markets(
        [
            {
                "id": "BNBBTC",
                "symbol": "BNB/BTC",
                "base": "BNB",
                "quote": "BTC",
                "baseId": "BNB",
                "quoteId": "BTC",
                "type": "spot",
                "spot": True,
                "option": False,
                "inverse": None,
            }
        ]
    )
    return client


@pytest.mark.parametrize("change", UNKNOWN_PAGES.values(), ids=UNKNOWN_PAGES.keys())
def test_a_binance_page_the_fast_path_does_not_know_is_left_to_ccxt(binance_client, change):
    fast = PROFILES["binance"].sources["trades"].fast_rows
    market = binance_client.market("BNB/BTC")
    known = fast.rows(binance_client, [SPOT_TRADE], market, None, 1000, "a", "binance", None)
    assert known is not None and known[0]["trade_id"] == "28457"
    record = {k: v for k, v in {**SPOT_TRADE, **change}.items() if v is not None}
    assert fast.rows(binance_client, [SPOT_TRADE, record], market, None, 1000, "a", "binance", None) is None


def test_a_page_asked_with_since_or_longer_than_its_limit_is_left_to_ccxt(binance_client):
    """ccxt filters by `since` and cuts to `limit` after parsing: the fast path never guesses how."""
    fast = PROFILES["binance"].sources["trades"].fast_rows
    market = binance_client.market("BNB/BTC")
    page = [SPOT_TRADE, {**SPOT_TRADE, "id": 28458}]
    assert fast.rows(binance_client, page, market, None, 2, "a", "binance", None) is not None
    assert fast.rows(binance_client, page, market, 1499865549590, 2, "a", "binance", None) is None
    assert fast.rows(binance_client, page, market, None, 1, "a", "binance", None) is None


def test_the_raw_answer_swap_is_undone_even_when_the_call_fails(binance_client):
    with pytest.raises(RuntimeError), RawAnswer(binance_client, "parse_trades"):
        assert binance_client.parse_trades([], None) == []
        raise RuntimeError("the request failed")
    assert "parse_trades" not in vars(binance_client)
    assert binance_client.parse_trades([], None) == []


def test_a_stream_that_holds_transfers_cannot_have_a_fast_path():
    source = PROFILES["binance"].sources["trades"]
    with pytest.raises(ValueError, match="holds transfers"):
        dataclasses.replace(source, transfer_types={"send": "withdrawal"})

"""A first full import per exchange as shipped, counted request by request against the least any
client can do: requests ÷ minimum (goal 1.00).

For each supported exchange, one simulator account (a year of history) is imported by the real
importer with the exchange's profile, and every request it makes is read from the simulator's
request log. The minimum per endpoint comes from the exchange's own rules, applied to the
account's ground truth: ccxt's market-loading calls once; one balance; the account identity once
where the balance does not name it; per list, as many pages as its page size needs for the rows
the API serves, plus one to see the end where the end is known only from a short page. Binance:
90-day transfer windows, 30-day conversion windows, and myTrades per symbol the account could
have traded (pairs of assets it holds or transferred: what a client can know; see
bench/import_vs_ccxt.py for the cost of not knowing). Rate limits and client pacing are off
here: wall time is the other benchmarks' business.

    .venv/bin/python bench/requests_vs_minimum.py [--trades 300] [--exchange okx]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from exchange_sync.hooks.ccxt import CLIENT_PACING_ENV, Credentials, build_client
from exchange_sync.importer.account import AccountImporter
from exchange_sync.importer.discovery import candidate_symbols
from exchange_sync.profiles import PROFILES, get_profile
from exchange_sync.registry import AccountConfig
from exchange_sync.sim_client import SimulatorClient, spawn_simulator
from exchange_sync.warehouse import Warehouse

DAY_MS = 86_400_000
HISTORY_DAYS = 400


def pages(rows: int, size: int, ends_on_short_page: bool = True) -> int:
    """Requests to read `rows` at `size` a page: a full last page needs one more to see the end,
    unless the exchange says there is no next page."""
    return rows // size + 1 if ends_on_short_page else max(1, math.ceil(rows / size))


def served(history: dict, stream: str) -> list[dict]:
    days = history["retention_days"].get(stream)
    since = 0 if days is None else history["server_time"] - days * DAY_MS
    return [r for r in history[stream] if r["timestamp"] >= since]


def binance(history: dict, client) -> dict[str, int]:
    markets = client.load_markets()
    held = {asset for asset, b in history["balances"].items() if float(b["free"]) or float(b["locked"])}
    transferred = {t["currency"] for t in history["deposits"] + history["withdrawals"]}
    symbols = candidate_symbols(markets, held | transferred)
    per_symbol = Counter(t["symbol"] for t in history["trades"])
    windows = math.ceil(HISTORY_DAYS / 90)
    return {
        "/api/v3/exchangeInfo": 1,
        "/api/v3/account": 1,
        "/sapi/v1/capital/deposit/hisrec": windows,
        "/sapi/v1/capital/withdraw/history": windows,
        # startTime and endTime at most 30 days apart, both required: one request per window.
        "/sapi/v1/convert/tradeFlow": math.ceil(HISTORY_DAYS / 30),
        "/api/v3/myTrades": sum(pages(per_symbol.get(s, 0), 1000) for s in symbols),
    }


def kraken(history: dict, client) -> dict[str, int]:
    return {
        "/0/public/AssetPairs": 1,
        "/0/public/Assets": 1,
        "/0/private/BalanceEx": 1,
        "/0/private/GetApiKeyInfo": 1,
        "/0/private/Ledgers": max(1, math.ceil(len(history["ledger"]) / 50)),
        "/0/private/TradesHistory": max(1, math.ceil(len(history["trades"]) / 50)),
        "/0/private/DepositStatus": 1,
        "/0/private/WithdrawStatus": 1,
    }


def okx(history: dict, client) -> dict[str, int]:
    return {
        "/api/v5/public/instruments": 1,
        "/api/v5/account/balance": 1,
        "/api/v5/account/config": 1,
        "/api/v5/trade/fills-history": pages(len(served(history, "trades")), 100),
        "/api/v5/account/bills-archive": pages(len(served(history, "ledger")), 100),
        "/api/v5/asset/deposit-history": pages(len(history["deposits"]), 100),
        "/api/v5/asset/withdrawal-history": pages(len(history["withdrawals"]), 100),
    }


def coinbase(history: dict, client) -> dict[str, int]:
    per_wallet = Counter(e["currency"] for e in history["ledger"])
    wallets = set(per_wallet) | set(history["balances"])
    return {
        # ccxt's load_markets: spot and futures products, the fee tier (with a key), currencies.
        "/api/v3/brokerage/market/products": 2,
        "/api/v3/brokerage/transaction_summary": 1,
        "/v2/currencies": 1,
        "/v2/currencies/crypto": 1,
        "/v2/exchange-rates": 1,
        "/api/v3/brokerage/accounts": max(1, math.ceil(len(wallets) / 250)),
        "/v2/user": 1,
        "/api/v3/brokerage/orders/historical/fills": pages(len(history["trades"]), 250, False),
        "/v2/accounts/{id}/transactions": sum(pages(per_wallet[w], 100, False) for w in wallets),
    }


MINIMUM: dict[str, Callable[[dict, object], dict[str, int]]] = {
    "binance": binance,
    "kraken": kraken,
    "okx": okx,
    "coinbase": coinbase,
}


def endpoint(exchange: str, path: str) -> str:
    path = path.removeprefix(f"/{exchange}")
    if path.startswith("/v2/accounts/") and path.endswith("/transactions"):
        return "/v2/accounts/{id}/transactions"
    return path


def measure(simulator: SimulatorClient, exchange: str, trades: int) -> tuple[Counter, dict[str, int], dict]:
    account_id = f"bench-{exchange}"
    simulator.create_account(
        account_id, exchange, seed=9, trades=trades, symbols=5, deposits=40, withdrawals=20, days=365
    )
    key = simulator.create_key(account_id)
    history = simulator.history(account_id)
    credentials = Credentials(
        exchange,
        api_key=key["api_key"],
        secret=key["secret"],
        passphrase=key.get("passphrase"),
        base_url=simulator.exchange_url(exchange),
    )
    profile = get_profile(exchange)
    account = AccountConfig(
        id=account_id,
        exchange=exchange,
        conn_id="unused",
        streams=profile.streams,
        history_start=datetime.now(UTC) - timedelta(days=HISTORY_DAYS),
    )
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Warehouse.open(f"sqlite:///{Path(tmp) / 'wh.db'}")
        seq = simulator.last_seq()
        AccountImporter(account, build_client(credentials), warehouse, profile).run()
        made = simulator.requests_since(seq)["requests"]
        warehouse.close()
    calls = Counter(endpoint(exchange, r["path"]) for r in made if r["path"].startswith(f"/{exchange}/"))
    anonymous = build_client(Credentials(exchange, base_url=simulator.exchange_url(exchange)))
    return calls, MINIMUM[exchange](history, anonymous), history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=300)
    parser.add_argument("--exchange", action="append", choices=sorted(MINIMUM))
    args = parser.parse_args()
    os.environ[CLIENT_PACING_ENV] = "off"
    logging.getLogger("exchange_sync").setLevel(logging.ERROR)  # the tables are the output

    proc, simulator = spawn_simulator(seed=42)
    try:
        simulator.request("POST", "/_sim/ratelimit", {"enabled": False})
        supported = [e for e in PROFILES if e in simulator.exchanges() and e in MINIMUM]
        summary = []
        for exchange in args.exchange or supported:
            calls, minimum, history = measure(simulator, exchange, args.trades)
            print(
                f"\n{exchange}: {len(history['trades'])} trades, {len(history['ledger'])} ledger entries, "
                f"{len(history['deposits'])} deposits, {len(history['withdrawals'])} withdrawals"
            )
            print(f"  {'endpoint':46}{'requests':>10}{'minimum':>10}")
            for path in sorted(set(calls) | set(minimum)):
                print(f"  {path:46}{calls.get(path, 0):>10}{minimum.get(path, 0):>10}")
            made, least = sum(calls.values()), sum(minimum.values())
            summary.append((exchange, made, least))
    finally:
        proc.terminate()
        proc.wait()
    print("\nrequests ÷ minimum (goal 1.00)")
    for exchange, made, least in summary:
        print(f"  {exchange:10}{made:>6} / {least:<6}= {made / least:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    main()

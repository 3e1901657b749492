"""How long `exchange-sync status` takes for one account of 100,000 rows, now that it reconciles
(reported against computed balances, coverage per stream) on every call.

A Binance account's history (trades in a few symbols, deposits, withdrawals and a daily balance
snapshot for a year) is written straight into a fresh SQLite warehouse, then `account_status` is
timed, and `reconcile_account` and `account_coverage` on their own.

    .venv/bin/python bench/status_reconcile.py [--trades 100000] [--url sqlite:///...]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from exchange_sync.reconcile import account_coverage, reconcile_account
from exchange_sync.registry import AccountConfig
from exchange_sync.status import account_status
from exchange_sync.warehouse import Warehouse
from exchange_sync.warehouse.schema import balance_snapshots, trades, transfers
from exchange_sync.warehouse.upsert import upsert

START = datetime(2025, 1, 1, tzinfo=UTC)


def fill(warehouse: Warehouse, account_id: str, count: int) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    step = (now - START) / (count + 1)
    base_row = {"account_id": account_id, "exchange": "binance", "imported_at": now, "source": "api"}
    rows = []
    for i in range(count):
        price = Decimal(rng.randint(20_000, 90_000))
        amount = Decimal(rng.randint(1, 10_000)).scaleb(-6)
        rows.append(
            base_row
            | {
                "symbol": rng.choice(("BTC/USDT", "ETH/USDT", "BTC/EUR")),
                "trade_id": str(i),
                "order_id": str(i),
                "side": rng.choice(("buy", "sell")),
                "price": price,
                "amount": amount,
                "cost": price * amount,
                "fee_cost": Decimal("0.0001"),
                "fee_currency": "BNB",
                "taker_or_maker": "taker",
                "traded_at": START + step * (i + 1),
            }
        )
    deposits = [
        base_row
        | {
            "kind": kind,
            "transfer_id": f"{kind}{i}",
            "currency": currency,
            "amount": Decimal(1000),
            "fee": Decimal(0),
            "status": "ok",
            "occurred_at": START + timedelta(days=i),
        }
        for i in range(300)
        for kind, currency in (("deposit", "USDT"), ("withdrawal", "EUR"))
    ]
    snapshots = [
        {
            "account_id": account_id,
            "exchange": "binance",
            "taken_at": START + timedelta(days=day),
            "asset": asset,
            "free": Decimal(day),
            "used": Decimal(0),
            "total": Decimal(day),
        }
        for day in range(365)
        for asset in ("BTC", "ETH", "USDT", "EUR", "BNB")
    ]
    with warehouse.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            upsert(conn, trades, rows[start : start + 5000])
        upsert(conn, transfers, deposits)
        upsert(conn, balance_snapshots, snapshots)


def timed(label: str, call) -> None:
    began = time.perf_counter()
    call()
    print(f"{label}: {time.perf_counter() - began:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='es-bench-')}/warehouse.db"
    account = AccountConfig(
        id="bench",
        exchange="binance",
        conn_id="conn_bench",
        streams=("balances", "trades", "deposits", "withdrawals"),
        history_start=START,
    )
    with Warehouse.open(url) as warehouse:
        fill(warehouse, account.id, args.trades)
        print(f"{args.trades} trades, 600 transfers, 365 snapshots of 5 assets")
        timed("reconcile_account", lambda: reconcile_account(warehouse, account))
        timed("account_coverage", lambda: account_coverage(warehouse, account))
        timed("account_status (both, and the rest)", lambda: account_status(account, warehouse))


if __name__ == "__main__":
    main()

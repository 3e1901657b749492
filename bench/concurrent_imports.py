"""Full imports of several accounts of one exchange at the same time, each its own client (as each
Celery worker's task is), against the time their weight takes at the exchange's per-IP budget.

The simulator's rate limits are on (Binance: 6,000 request weight per minute per IP) and ccxt's
pacing is as shipped. Weight is read from the simulator's request log: the per-IP REQUEST_WEIGHT
bucket (the sapi transfer endpoints have budgets of their own). The bound is that weight at the
budget; shared (hooks/shared.py), the imports together keep to it (wall / bound >= 1, no 429).

    .venv/bin/python bench/concurrent_imports.py [--imports 2] [--exchange binance] [--trades 5000]
        [--unshared]

`--unshared` runs the imports the way they ran before: each paces itself as if it were alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from exchange_sync.hooks.ccxt import CLIENT_PACING_ENV
from exchange_sync.importer.run import run_account_import
from exchange_sync.profiles import get_profile
from exchange_sync.registry import AccountConfig
from exchange_sync.sim_client import ip_weight, spawn_simulator
from exchange_sync.warehouse import Warehouse

WEIGHT_PER_MINUTE = 6000
HISTORY_DAYS = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imports", type=int, default=2)
    parser.add_argument("--exchange", default="binance")
    parser.add_argument("--trades", type=int, default=5000, help="per account")
    parser.add_argument("--symbols", type=int, default=12, help="symbols each account traded")
    parser.add_argument("--unshared", action="store_true", help="each import its own budget")
    args = parser.parse_args()
    logging.getLogger("exchange_sync").setLevel(logging.ERROR)
    os.environ.pop(CLIENT_PACING_ENV, None)  # as shipped: paced
    exchange = args.exchange

    proc, simulator = spawn_simulator(seed=42)
    try:
        simulator.set_ratelimit(enabled=True, weight_per_minute=WEIGHT_PER_MINUTE)
        accounts = []
        for n in range(args.imports):
            account_id, conn_id = f"bench-concurrent-{n}", f"bench_concurrent_{n}"
            spec = {"trades": args.trades, "symbols": args.symbols, "deposits": 10, "withdrawals": 6}
            simulator.create_account(account_id, exchange, seed=20 + n, days=HISTORY_DAYS, **spec)
            key = simulator.create_key(account_id)
            extra = {"exchange": exchange, "base_url": simulator.exchange_url(exchange)}
            connection = {"conn_type": "ccxt", "login": key["api_key"], "password": key["secret"]}
            os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(connection | {"extra": extra})
            # One transfer window each: withdraw/history's weight is the account's own budget.
            start = datetime.now(UTC) - timedelta(days=HISTORY_DAYS + 1)
            streams = get_profile(exchange).streams
            accounts.append(AccountConfig(account_id, exchange, conn_id, streams, history_start=start))
        with tempfile.TemporaryDirectory() as tmp, ExitStack() as patches:
            url = f"sqlite:///{Path(tmp) / 'wh.db'}"
            Warehouse.open(url).close()
            if args.unshared:  # as before: each client its own market list and budget
                patches.enter_context(mock.patch("exchange_sync.hooks.ccxt.share", lambda *a: None))

            def import_one(account: AccountConfig) -> int:
                with Warehouse.open(url) as warehouse:  # each worker its own engine and client
                    return run_account_import(account, warehouse)["rows"]

            seq = simulator.last_seq()
            began = time.monotonic()
            with ThreadPoolExecutor(max_workers=args.imports) as pool:
                rows = sum(pool.map(import_one, accounts))
            wall = time.monotonic() - began
            made = simulator.requests_since(seq)["requests"]
        costs = simulator.exchanges()[exchange]["costs"]
    finally:
        proc.terminate()
        proc.wait()

    weight = sum(ip_weight(costs, exchange, r["path"]) for r in made)
    bound = weight / (WEIGHT_PER_MINUTE / 60)
    mode = "unshared (each import its own budget, as before)" if args.unshared else "one shared budget"
    print(f"{exchange}: {args.imports} concurrent full imports, {mode}")
    print(f"  {rows} rows ({args.trades} trades in {args.symbols} symbols per account), {len(made)} requests")
    print(f"  total weight: {weight}; 429s: {sum(1 for r in made if r['status'] in (418, 429))}")
    print(
        f"  wall / (weight at {WEIGHT_PER_MINUTE}/min): {wall:.2f} s / {bound:.2f} s = {wall / bound:.3f}"
        " (shared: >= 1, never faster than the budget)"
    )


if __name__ == "__main__":
    main()

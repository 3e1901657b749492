"""A recovery's backfill of a 30-day gap on Binance, as the recovery DAG runs it, against the least
weight Binance's page sizes allow and the time that weight takes at 6,000 per minute.

One simulator account (trades in several symbols, deposits and withdrawals, all inside the last 30
days, none of it in the warehouse yet: the gap) is backfilled chunk by chunk with the recovery's
own functions: the market list primed (plan_backfill), the first wave (first_wave: one chunk per
stream) side by side, then plan_trade_chunks and its batches of symbols side by side, at most
`pool_slots` chunks at once (the exchange's Airflow pool), each chunk its own client
(backfill_stream) as each task instance is. The simulator's rate limits are on (6,000 request
weight per minute per IP) and ccxt's pacing is as shipped. Weight is read from the simulator's
request log: the REQUEST_WEIGHT bucket (the sapi transfer endpoints have budgets of their own).

The minimum: the market list once, the balance once, and per candidate symbol (pairs of assets
held or transferred: what any client can know) the fewest myTrades pages of 1,000, a short last
page showing the end; each at its weight. The time bound is that weight at 6,000 per minute.

    .venv/bin/python bench/backfill_vs_minimum.py [--trades 30000] [--symbols 12] [--unshared]

`--unshared` runs the chunks the way they ran before one client per backfill: each chunk loads
the market list itself and paces itself as if it were alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from exchange_sync.hooks.ccxt import Credentials, build_client
from exchange_sync.importer.discovery import candidate_symbols
from exchange_sync.profiles import get_profile
from exchange_sync.recovery import backfill
from exchange_sync.registry import AccountConfig
from exchange_sync.registry.model import DEFAULT_POOL_SLOTS
from exchange_sync.sim_client import SimulatorClient, ip_weight, spawn_simulator
from exchange_sync.warehouse import Warehouse

EXCHANGE = "binance"
ACCOUNT = "bench-gap"
CONN_ID = "bench_gap"
GAP_DAYS = 30
WEIGHT_PER_MINUTE = 6000
MARKET_LIST = "/api/v3/exchangeInfo"


def minimum_weight(simulator: SimulatorClient, costs: dict) -> tuple[int, dict[str, int]]:
    """The least REQUEST_WEIGHT the gap can cost, and the requests per endpoint that make it."""
    history = simulator.history(ACCOUNT)
    anonymous = build_client(Credentials(EXCHANGE, base_url=simulator.exchange_url(EXCHANGE)))
    held = {a for a, b in history["balances"].items() if float(b["free"]) or float(b["locked"])}
    transferred = {t["currency"] for t in history["deposits"] + history["withdrawals"]}
    symbols = candidate_symbols(anonymous.load_markets(), held | transferred)
    per_symbol = Counter(t["symbol"] for t in history["trades"])
    least = {
        MARKET_LIST: 1,
        "/api/v3/account": 1,
        "/api/v3/myTrades": sum(per_symbol.get(s, 0) // 1000 + 1 for s in symbols),
    }
    return sum(n * ip_weight(costs, EXCHANGE, p) for p, n in least.items()), least


def run_backfill(account: AccountConfig, warehouse: Warehouse, slots: int) -> int:
    """The recovery DAG's backfill tasks, in its order, `slots` chunks at a time."""
    started = datetime.now(UTC)
    backfill.prime_markets(account, warehouse)

    def wave(chunks: list[dict]) -> int:
        with ThreadPoolExecutor(max_workers=slots) as pool:
            return sum(pool.map(lambda chunk: backfill.backfill_stream(account, chunk, warehouse), chunks))

    rows = wave(backfill.first_wave(account))
    return rows + wave(backfill.plan_trade_chunks(account, warehouse, started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=30_000)
    parser.add_argument("--symbols", type=int, default=12, help="symbols the account traded")
    parser.add_argument("--pool-slots", type=int, default=DEFAULT_POOL_SLOTS)
    parser.add_argument("--unshared", action="store_true", help="each chunk its own market list and budget")
    args = parser.parse_args()
    logging.getLogger("exchange_sync").setLevel(logging.ERROR)

    proc, simulator = spawn_simulator(seed=42)
    try:
        simulator.request(
            "POST", "/_sim/ratelimit", {"enabled": True, "weight_per_minute": WEIGHT_PER_MINUTE}
        )
        simulator.create_account(
            ACCOUNT,
            EXCHANGE,
            seed=9,
            trades=args.trades,
            symbols=args.symbols,
            deposits=40,
            withdrawals=20,
            days=GAP_DAYS,
        )
        key = simulator.create_key(ACCOUNT)
        extra = {"exchange": EXCHANGE, "base_url": simulator.exchange_url(EXCHANGE)}
        connection = {"conn_type": "ccxt", "login": key["api_key"], "password": key["secret"], "extra": extra}
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(connection)
        account = AccountConfig(
            id=ACCOUNT,
            exchange=EXCHANGE,
            conn_id=CONN_ID,
            streams=get_profile(EXCHANGE).streams,
            history_start=datetime.now(UTC) - timedelta(days=GAP_DAYS + 1),
        )
        costs = simulator.exchanges()[EXCHANGE]["costs"]
        least, least_requests = minimum_weight(simulator, costs)
        with tempfile.TemporaryDirectory() as tmp, ExitStack() as patches:
            warehouse = Warehouse.open(f"sqlite:///{Path(tmp) / 'wh.db'}")
            if args.unshared:  # as before: no shared market list, no shared budget
                patches.enter_context(mock.patch("exchange_sync.hooks.ccxt.share", lambda *a: None))
                patches.enter_context(mock.patch.object(backfill, "prime_markets", lambda *a: None))
            seq = simulator.last_seq()
            began = time.monotonic()
            rows = run_backfill(account, warehouse, args.pool_slots)
            wall = time.monotonic() - began
            made = [r for r in simulator.requests_since(seq)["requests"] if r["account"] in (ACCOUNT, None)]
            gaps = backfill.coverage_gaps(account, datetime.now(UTC) - timedelta(minutes=5), warehouse)
            warehouse.close()
    finally:
        proc.terminate()
        proc.wait()

    used = sum(ip_weight(costs, EXCHANGE, r["path"]) for r in made)
    calls = Counter(r["path"].split("?")[0].removeprefix(f"/{EXCHANGE}") for r in made)
    bound = least / (WEIGHT_PER_MINUTE / 60)
    mode = "unshared (each chunk its own client, as before)" if args.unshared else "one client per backfill"
    print(f"{EXCHANGE}: backfill of a {GAP_DAYS}-day gap, {mode}, pool_slots {args.pool_slots}")
    print(f"  {rows} rows ({args.trades} trades in {args.symbols} symbols, 40 deposits, 20 withdrawals)")
    print(f"  {'endpoint':38}{'requests':>10}{'minimum':>10}")
    for path in sorted(set(calls) | set(least_requests)):
        print(f"  {path:38}{calls.get(path, 0):>10}{least_requests.get(path, 0):>10}")
    print(f"  weight used / minimum weight: {used} / {least} = {used / least:.3f}")
    print(
        f"  wall / (minimum weight at {WEIGHT_PER_MINUTE}/min): {wall:.2f} s / {bound:.2f} s = "
        f"{wall / bound:.3f} (goal <= 1.1)"
    )
    print(f"  market list downloads ({MARKET_LIST}): {calls.get(MARKET_LIST, 0)}")
    print(f"  429s seen: {sum(1 for r in made if r['status'] == 429)}; coverage gaps: {len(gaps)}")


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    main()

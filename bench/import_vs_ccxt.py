"""Full import of a large simulator account: exchange-sync against bare ccxt loops, side by side.

Both bare loops fetch the same data with the fewest requests Binance's limits allow: trades paged
by trade id at 1,000 per request, deposits and withdrawals in 90-day windows at 1,000 per page,
results kept in memory.
- "bare ccxt, same knowledge" finds the symbols to ask about the only way Binance allows: pairs of
  assets the account holds or transferred (myTrades has no "all symbols" form).
- "bare ccxt, oracle" is told the traded symbols from the simulator's ground truth: no client can
  do this; it shows what symbol discovery costs.
exchange-sync additionally writes every page to a warehouse with its cursor: SQLite, and, with
--postgres URL (default: $EXCHANGE_SYNC_TEST_PG_URL), PostgreSQL in a throwaway schema. Runs
alternate; figures are medians. Targets: wall-time ratio <= 1.15 and request ratio 1.0 against the
same-knowledge loop; PostgreSQL / SQLite <= 1.3.

    .venv/bin/python bench/import_vs_ccxt.py [--trades 100000] [--rounds 3] [--no-throttle]
        [--postgres postgresql+psycopg2://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from exchange_sync.hooks.ccxt import Credentials, build_client
from exchange_sync.importer.account import AccountImporter
from exchange_sync.profiles import BINANCE
from exchange_sync.registry import AccountConfig
from exchange_sync.sim_client import SimulatorClient, spawn_simulator
from exchange_sync.warehouse import Warehouse

ACCOUNT = "bench"
WINDOW_MS = int(BINANCE.sources["deposits"].paging.window.total_seconds() * 1000)


def bare_ccxt_loop(client, since_ms: int, symbols: list[str] | None = None) -> int:
    """The baseline: plain ccxt calls. Without `symbols`, it derives them from balances and transfers."""
    markets = client.load_markets()
    balance = client.fetch_balance()
    rows = 0
    assets = {asset for asset, total in balance["total"].items() if total and float(total)}
    now_ms = int(time.time() * 1000)
    for fetch in (client.fetch_deposits, client.fetch_withdrawals):
        start = since_ms
        while start < now_ms:
            end = min(start + WINDOW_MS, now_ms)
            offset = 0
            while True:
                page = fetch(None, start, 1000, {"until": end, "offset": offset})
                rows += len(page)
                assets.update(t["currency"] for t in page)
                if len(page) < 1000:
                    break
                offset += 1000
            start = end + 1
    if symbols is None:
        symbols = [
            s for s, m in markets.items() if m["spot"] and m["base"] in assets and m["quote"] in assets
        ]
    for symbol in symbols:
        from_id = 0
        while True:
            page = client.fetch_my_trades(symbol, None, 1000, {"fromId": from_id})
            rows += len(page)
            if len(page) < 1000:
                break
            from_id = int(page[-1]["id"]) + 1
    return rows


def exchange_sync_import(client, history_start: datetime, warehouse_url: str) -> int:
    warehouse = Warehouse.open(warehouse_url)
    account = AccountConfig(
        id=ACCOUNT,
        exchange="binance",
        conn_id="unused",
        streams=("balances", "trades", "deposits", "withdrawals"),
        history_start=history_start,
    )
    report = AccountImporter(account, client, warehouse, BINANCE).run()
    warehouse.close()
    return report.rows


@contextmanager
def postgres_schema(base: str | None) -> Iterator[object]:
    """A function that gives a fresh, empty schema's URL on each call; all dropped at the end
    (None without a PostgreSQL URL)."""
    if not base:
        yield None
        return
    admin = create_engine(base)
    made: list[str] = []

    def fresh() -> str:
        name = f"es_bench_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        made.append(name)
        url = make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
        return url.render_as_string(hide_password=False)

    try:
        yield fresh
    finally:
        with admin.begin() as conn:
            for name in made:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def measure(simulator: SimulatorClient, run) -> tuple[float, int, int]:
    seq = simulator.last_seq()
    started = time.perf_counter()
    rows = run()
    elapsed = time.perf_counter() - started
    requests = sum(1 for r in simulator.requests_since(seq)["requests"] if r["account"] == ACCOUNT)
    return elapsed, requests, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--deposits", type=int, default=1500)
    parser.add_argument("--withdrawals", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--no-throttle", action="store_true", help="switch off ccxt's client-side rate limiter on both sides"
    )
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="network latency the simulator adds to every request"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("EXCHANGE_SYNC_TEST_PG_URL"),
        help="a PostgreSQL URL: also import into a throwaway schema there",
    )
    args = parser.parse_args()

    proc, simulator = spawn_simulator(seed=42)
    try:
        simulator.request("POST", "/_sim/ratelimit", {"enabled": False})
        simulator.create_account(
            ACCOUNT,
            "binance",
            seed=5,
            trades=args.trades,
            symbols=args.symbols,
            deposits=args.deposits,
            withdrawals=args.withdrawals,
            days=365,
        )
        key = simulator.create_key(ACCOUNT)
        if args.latency_ms:
            simulator.add_fault("latency", latency_ms=args.latency_ms, count=1_000_000, account=ACCOUNT)
        history = simulator.history(ACCOUNT)
        symbols = sorted({t["symbol"] for t in history["trades"]})
        history_start = datetime.now(UTC) - timedelta(days=366)
        since_ms = int(history_start.timestamp() * 1000)
        credentials = Credentials(
            "binance",
            api_key=key["api_key"],
            secret=key["secret"],
            base_url=simulator.exchange_url("binance"),
        )

        def client():
            c = build_client(credentials)
            c.enableRateLimit = not args.no_throttle
            return c

        with tempfile.TemporaryDirectory() as tmp, postgres_schema(args.postgres) as fresh_schema:

            def sqlite_file() -> str:
                return f"sqlite:///{Path(tmp) / f'wh-{time.monotonic_ns()}.db'}"

            runners = {
                SAME: lambda: bare_ccxt_loop(client(), since_ms),
                ORACLE: lambda: bare_ccxt_loop(client(), since_ms, symbols),
                OURS: lambda: exchange_sync_import(client(), history_start, sqlite_file()),
            }
            if args.postgres:
                runners[OURS_PG] = lambda: exchange_sync_import(client(), history_start, fresh_schema())
            results: dict[str, list[tuple[float, int, int]]] = {name: [] for name in runners}
            for _ in range(args.rounds):
                for name, run in runners.items():
                    results[name].append(measure(simulator, run))
    finally:
        proc.terminate()
        proc.wait()

    expected_rows = len(history["trades"]) + len(history["deposits"]) + len(history["withdrawals"])
    print(
        f"Full import: {len(history['trades']):,} trades in {len(symbols)} symbols, "
        f"{len(history['deposits']):,} deposits, {len(history['withdrawals']):,} withdrawals "
        f"(simulator on loopback + {args.latency_ms} ms latency, "
        f"ccxt throttle {'off' if args.no_throttle else 'on'}, "
        f"median of {args.rounds})"
    )
    print(f"{'':28}{'wall s':>10}{'requests':>10}{'rows':>10}")
    medians = {}
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        requests = statistics.median(r[1] for r in runs)
        medians[name] = (wall, requests)
        print(f"{name:28}{wall:>10.2f}{requests:>10.0f}{runs[-1][2]:>10,}")
    ours, same, oracle = medians[OURS], medians[SAME], medians[ORACLE]
    print(
        f"exchange-sync / same knowledge:  wall {ours[0] / same[0]:.3f} (target <= 1.15), "
        f"requests {ours[1] / same[1]:.3f} (target 1.0)"
    )
    print(
        f"exchange-sync / oracle:          wall {ours[0] / oracle[0]:.3f}, "
        f"requests {ours[1] / oracle[1]:.3f} "
        f"({ours[1] - oracle[1]:.0f} myTrades probes of symbols with no trades)"
    )
    if OURS_PG in medians:
        pg = medians[OURS_PG]
        print(
            f"exchange-sync PostgreSQL / SQLite: wall {pg[0] / ours[0]:.3f} (target <= 1.3); "
            f"PostgreSQL / same knowledge: wall {pg[0] / same[0]:.3f} (target <= 1.15)"
        )
    print(f"ground truth rows: {expected_rows:,} (exchange-sync also stores one balance row per asset)")


SAME = "bare ccxt, same knowledge"
ORACLE = "bare ccxt, oracle symbols"
OURS = "exchange-sync"
OURS_PG = "exchange-sync, PostgreSQL"


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    main()

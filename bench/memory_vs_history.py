"""Peak memory of a full import against the account's history size: it must stay flat.

For each size (default 10,000, 100,000 and 1,000,000 trades in 10 symbols, 1,500 deposits and
800 withdrawals over a year, on the simulator's Binance with its rate limits and ccxt's throttle
off) the real exchange-sync import (import_vs_ccxt.exchange_sync_import: AccountImporter into a
fresh warehouse) runs in a fresh child process, into SQLite and, with --postgres URL (default:
$EXCHANGE_SYNC_TEST_PG_URL), into a throwaway PostgreSQL schema. Per import: the child's peak RSS
(getrusage ru_maxrss), its RSS after the imports and the client's construction (the baseline),
and the rows the warehouse holds, which must equal the simulator's ground truth or the benchmark
fails. Targets: peak of the 1,000,000-trade import <= 300 MB; peak(1M) / peak(10k) and
peak(100k) / peak(10k) <= 1.2.

    .venv/bin/python bench/memory_vs_history.py [--sizes 10000,100000,1000000] [--seed 5]
        [--postgres postgresql+psycopg2://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from import_vs_ccxt import ACCOUNT, exchange_sync_import, postgres_schema

from exchange_sync import streams
from exchange_sync.hooks.ccxt import CLIENT_PACING_ENV, Credentials, build_client
from exchange_sync.sim_client import SimulatorClient, spawn_simulator
from exchange_sync.warehouse import Warehouse

TARGET_PEAK_MB = 300
TARGET_RATIO = 1.2
COUNTED = (streams.TRADES, streams.DEPOSITS, streams.WITHDRAWALS)


@dataclass(frozen=True)
class Measured:
    peak_kib: int  # the child's ru_maxrss (KiB on Linux)
    baseline_kib: int  # its RSS once modules are imported and the client is built
    rows: int  # rows the import reported
    stored: dict[str, int]  # rows per stream the warehouse holds afterwards
    seconds: float


def rss_kib() -> int:
    """This process's resident set now (Linux /proc); elsewhere its peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def import_in_child(credentials: Credentials, history_start: datetime, warehouse_url: str) -> Measured:
    """Runs in a fresh process: import once, then say how much memory it took."""
    os.environ[CLIENT_PACING_ENV] = "off"
    logging.getLogger("exchange_sync").setLevel(logging.WARNING)  # no per-symbol lines
    client = build_client(credentials)
    baseline = rss_kib()
    started = time.perf_counter()
    rows = exchange_sync_import(client, history_start, warehouse_url)
    seconds = time.perf_counter() - started
    # Read before anything else runs here: the peak is the import's.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Warehouse.open(warehouse_url) as warehouse:
        counts = warehouse.row_counts(ACCOUNT)
    return Measured(peak, baseline, rows, {s: counts[s] for s in COUNTED}, seconds)


def measure(credentials: Credentials, history_start: datetime, warehouse_url: str) -> Measured:
    # "spawn": a new interpreter each time, so no import inherits the parent's (or an earlier
    # import's) heap and ru_maxrss is this import's alone.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(import_in_child, credentials, history_start, warehouse_url).result()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="trades per account, comma-separated")
    parser.add_argument("--seed", type=int, default=5, help="the simulator account's seed")
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--deposits", type=int, default=1500)
    parser.add_argument("--withdrawals", type=int, default=800)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("EXCHANGE_SYNC_TEST_PG_URL"),
        help="a PostgreSQL URL: also import into a throwaway schema there",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    warehouses = ["SQLite", "PostgreSQL"] if args.postgres else ["SQLite"]
    results: dict[tuple[str, int], Measured] = {}
    truth: dict[int, dict[str, int]] = {}
    proc, simulator = spawn_simulator(seed=42)
    try:
        simulator.set_ratelimit(enabled=False)
        with tempfile.TemporaryDirectory() as tmp, postgres_schema(args.postgres) as fresh_schema:
            for size in sizes:
                credentials, truth[size] = account_of(simulator, size, args)
                history_start = datetime.now(UTC) - timedelta(days=366)
                for name in warehouses:
                    sqlite = f"sqlite:///{Path(tmp) / f'wh-{size}.db'}"
                    url = fresh_schema() if name == "PostgreSQL" else sqlite
                    m = results[name, size] = measure(credentials, history_start, url)
                    print(f"  {name} {size:,} trades: imported in {m.seconds:.1f} s", flush=True)
    finally:
        proc.terminate()
        proc.wait()
    return report(args, sizes, warehouses, results, truth)


def account_of(
    simulator: SimulatorClient, size: int, args: argparse.Namespace
) -> tuple[Credentials, dict[str, int]]:
    """A simulator account with `size` trades, its key and its ground-truth counts per stream."""
    account_id = f"mem-{size}"
    view = simulator.create_account(
        account_id,
        "binance",
        seed=args.seed,
        trades=size,
        symbols=args.symbols,
        deposits=args.deposits,
        withdrawals=args.withdrawals,
        days=365,
    )
    key = simulator.create_key(account_id)
    credentials = Credentials(
        "binance", api_key=key["api_key"], secret=key["secret"], base_url=simulator.exchange_url("binance")
    )
    return credentials, view["counts"]


def report(
    args: argparse.Namespace,
    sizes: list[int],
    warehouses: list[str],
    results: dict[tuple[str, int], Measured],
    truth: dict[int, dict[str, int]],
) -> int:
    print(
        f"Peak RSS of a full import by history size (Binance simulator, seed {args.seed}, "
        f"{args.symbols} symbols, {args.deposits:,} deposits, {args.withdrawals:,} withdrawals, "
        "fresh child process and warehouse per import)"
    )
    columns = ("trades", 11), ("rows", 11), ("baseline MB", 13), ("peak MB", 10), ("peak-base", 11), ("s", 8)
    print(f"{'warehouse':12}" + "".join(f"{title:>{width}}" for title, width in columns))
    failures = []
    for name in warehouses:
        for size in sizes:
            m = results[name, size]
            print(
                f"{name:12}{size:>11,}{m.rows:>11,}{m.baseline_kib / 1024:>13.1f}{m.peak_kib / 1024:>10.1f}"
                f"{(m.peak_kib - m.baseline_kib) / 1024:>11.1f}{m.seconds:>8.1f}"
            )
            if m.stored != truth[size]:
                failures.append(
                    f"{name} {size:,}: the warehouse holds {m.stored}, ground truth is {truth[size]}"
                )
    for name in warehouses:
        smallest, largest = sizes[0], sizes[-1]
        base = results[name, smallest].peak_kib
        ratios = ", ".join(
            f"peak({size:,}) / peak({smallest:,}) {results[name, size].peak_kib / base:.3f}"
            for size in sizes[1:]
        )
        peak_mb = results[name, largest].peak_kib / 1024
        print(
            f"{name}: {ratios or 'one size only'} (target <= {TARGET_RATIO}); peak({largest:,}) "
            f"{peak_mb:.1f} MB = {peak_mb / TARGET_PEAK_MB:.3f} of the {TARGET_PEAK_MB} MB target"
        )
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    sys.exit(main())

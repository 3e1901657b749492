"""What a scheduled run of an idle account costs on an exchange asked per symbol (Binance), against
a sweep (every candidate symbol asked: what every run cost before quiet symbols), side by side.

One simulator account (300 trades in 5 symbols, 40 deposits, 20 withdrawals, a year), imported
once; then scheduled runs with nothing new, one after new trades, and a sweep. Requests and
Binance request weight (the IP's REQUEST_WEIGHT bucket, 6,000 per minute) are counted on the
simulator's side. No timing: the figures are counts.

    .venv/bin/python bench/idle_accounts.py [--accounts 200]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from exchange_sync.hooks.ccxt import CLIENT_PACING_ENV, Credentials, build_client
from exchange_sync.importer.account import AccountImporter
from exchange_sync.profiles import get_profile
from exchange_sync.registry import AccountConfig
from exchange_sync.sim_client import SimulatorClient, spawn_simulator
from exchange_sync.warehouse import Warehouse

EXCHANGE = "binance"
ACCOUNT = "bench-idle"
SWEEP_SECONDS = 2


def run(simulator: SimulatorClient, importer: AccountImporter, sweep: bool) -> tuple[int, int, int]:
    """(requests, request weight, symbols asked) of one run."""
    costs = simulator.exchanges()[EXCHANGE]["costs"]
    seq = simulator.last_seq()
    report = importer.run(sweep=sweep)
    # Public calls (the market list) carry no account but cost the IP's weight all the same.
    made = [r for r in simulator.requests_since(seq)["requests"] if r["account"] in (ACCOUNT, None)]
    weight = 0
    for r in made:
        cost = costs.get(r["path"].split("?")[0].removeprefix(f"/{EXCHANGE}"), {})
        if "REQUEST_WEIGHT" in cost.get("buckets", ()):
            weight += cost["weight"]
    return len(made), weight, report.symbols_queried


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200, help="idle accounts on one IP, hourly")
    args = parser.parse_args()
    os.environ[CLIENT_PACING_ENV] = "off"
    logging.getLogger("exchange_sync").setLevel(logging.ERROR)

    proc, simulator = spawn_simulator(seed=42)
    try:
        simulator.request("POST", "/_sim/ratelimit", {"enabled": False})
        simulator.create_account(
            ACCOUNT, EXCHANGE, seed=9, trades=300, symbols=5, deposits=40, withdrawals=20, days=365
        )
        key = simulator.create_key(ACCOUNT)
        credentials = Credentials(
            EXCHANGE, api_key=key["api_key"], secret=key["secret"], base_url=simulator.exchange_url(EXCHANGE)
        )
        profile = get_profile(EXCHANGE)
        account = AccountConfig(
            id=ACCOUNT,
            exchange=EXCHANGE,
            conn_id="unused",
            streams=profile.streams,
            history_start=datetime.now(UTC) - timedelta(days=366),
            trade_sweep_hours=SWEEP_SECONDS / 3600,
        )
        with tempfile.TemporaryDirectory() as tmp:
            warehouse = Warehouse.open(f"sqlite:///{Path(tmp) / 'wh.db'}")

            def importer() -> AccountImporter:
                return AccountImporter(account, build_client(credentials), warehouse, profile)

            def record(name: str) -> None:
                # A run records its outcome as the pipeline does: the next one compares with it.
                figures[name] = run(simulator, importer(), sweep=name == "sweep")
                warehouse.record_attempt(ACCOUNT, EXCHANGE, ok=True)

            figures: dict[str, tuple[int, int, int]] = {}
            record("first import")
            record("idle, scheduled")
            simulator.add_activity(ACCOUNT, trades=3)
            record("after 3 new trades")
            record("idle again")
            time.sleep(SWEEP_SECONDS + 0.5)
            record("sweep")
            warehouse.close()
    finally:
        proc.terminate()
        proc.wait()

    print(f"{EXCHANGE}: scheduled runs of one account (300 trades in 5 symbols, a year)")
    print(f"  {'run':24}{'requests':>10}{'weight':>10}{'symbols asked':>15}")
    for name, (requests, weight, symbols) in figures.items():
        print(f"  {name:24}{requests:>10}{weight:>10}{symbols:>15}")
    idle, sweep = figures["idle again"], figures["sweep"]
    budget = 6000 * 60  # REQUEST_WEIGHT per hour on one IP
    ratios = f"requests {idle[0] / sweep[0]:.3f}, weight {idle[1] / sweep[1]:.3f}"
    print(f"idle run / sweep: {ratios} ({idle[0]} requests; target <= 5)")
    print(
        f"{args.accounts} idle accounts hourly from one IP: {args.accounts * idle[1] / budget:.1%} of the "
        f"hourly request weight between sweeps; {args.accounts * sweep[1] / budget:.1%} in a sweep hour "
        f"(every run cost that before)"
    )


if __name__ == "__main__":
    main()

"""A full Kraken import as shipped, against the simulator with Kraken's rate limits on.

Two ratios, each against what Kraken's own rules make the least any client can do:
- requests ÷ minimum: the fewest requests the page limits allow for this account's history:
  ceil(ledger / 50) Ledgers pages + ceil(trades / 50) TradesHistory pages (each at least one), one
  balance, one DepositStatus, one WithdrawStatus, the account identity (GetApiKeyInfo) and the
  two public market calls ccxt makes (AssetPairs, Assets). Goal 1.00.
- wall ÷ bound: the bound is the time Kraken's per-key call counter forces on those requests: each
  private call adds its cost (history calls 2, others 1), the counter decays at its rate and may
  not pass its maximum, so (total cost - maximum) / decay seconds at least. The counter's numbers
  come from the simulator (GET /_sim/exchanges), which enforces them: an import that went faster
  would be refused with "EAPI:Rate limit exceeded". Goal <= 1.1.

    .venv/bin/python bench/kraken_pacing.py [--trades 300]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from exchange_sync.hooks.ccxt import CLIENT_PACING_ENV, Credentials, build_client
from exchange_sync.importer.account import AccountImporter
from exchange_sync.profiles import KRAKEN
from exchange_sync.registry import AccountConfig
from exchange_sync.sim_client import spawn_simulator
from exchange_sync.warehouse import Warehouse

ACCOUNT = "bench-kraken"
PAGE = 50


def counter_rule(facts: dict) -> tuple[float, float, dict[str, float]]:
    """(maximum, decay per second, cost per private path) as the simulator enforces them."""
    counter = next(limit for limit in facts["rate_limits"] if limit["model"] == "counter")
    costs = {path: float(cost["weight"]) for path, cost in facts["costs"].items() if "/private/" in path}
    return float(counter["max"]), float(Decimal(str(counter["decay_per_second"]))), costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=300)
    args = parser.parse_args()
    os.environ.pop(CLIENT_PACING_ENV, None)  # as shipped: paced

    proc, simulator = spawn_simulator(seed=42)
    try:
        simulator.create_account(
            ACCOUNT, "kraken", seed=9, trades=args.trades, symbols=5, deposits=40, withdrawals=20, days=365
        )
        key = simulator.create_key(ACCOUNT)
        history = simulator.history(ACCOUNT)
        limit, decay, costs = counter_rule(simulator.exchanges()["kraken"])
        credentials = Credentials(
            "kraken", api_key=key["api_key"], secret=key["secret"], base_url=simulator.exchange_url("kraken")
        )
        account = AccountConfig(
            id=ACCOUNT,
            exchange="kraken",
            conn_id="unused",
            streams=KRAKEN.streams,
            history_start=datetime.now(UTC) - timedelta(days=400),
        )
        with tempfile.TemporaryDirectory() as tmp:
            warehouse = Warehouse.open(f"sqlite:///{Path(tmp) / 'wh.db'}")
            client = build_client(credentials)
            seq = simulator.last_seq()
            started = time.perf_counter()
            report = AccountImporter(account, client, warehouse, KRAKEN).run()
            wall = time.perf_counter() - started
            warehouse.close()
        made = [r for r in simulator.requests_since(seq)["requests"] if r["path"].startswith("/kraken/")]
    finally:
        proc.terminate()
        proc.wait()

    calls = Counter(r["path"].removeprefix("/kraken") for r in made)
    pages = {
        "/0/private/Ledgers": max(1, math.ceil(len(history["ledger"]) / PAGE)),
        "/0/private/TradesHistory": max(1, math.ceil(len(history["trades"]) / PAGE)),
    }
    once = ("/0/private/BalanceEx", "/0/private/GetApiKeyInfo", "/0/private/DepositStatus")
    minimum = {**pages, **dict.fromkeys((*once, "/0/private/WithdrawStatus"), 1)}
    minimum.update({"/0/public/AssetPairs": 1, "/0/public/Assets": 1})
    total_cost = sum(costs.get(path, 1.0) * n for path, n in minimum.items() if "/private/" in path)
    bound = max(0.0, total_cost - limit) / decay

    print(
        f"Kraken full import: {len(history['trades']):,} trades, {len(history['ledger']):,} ledger entries, "
        f"{len(history['deposits'])} deposits, {len(history['withdrawals'])} withdrawals "
        f"(simulator with Kraken's counter on: max {limit:g}, -{decay:g}/s)"
    )
    print(f"{'endpoint':28}{'requests':>10}{'minimum':>10}")
    for path in sorted(set(calls) | set(minimum)):
        print(f"{path:28}{calls.get(path, 0):>10}{minimum.get(path, 0):>10}")
    requests, least = sum(calls.values()), sum(minimum.values())
    print(f"requests / minimum: {requests} / {least} = {requests / least:.3f} (goal 1.00)")
    print(
        f"wall / counter bound: {wall:.1f} s / {bound:.1f} s = {wall / bound:.3f} (goal <= 1.1); "
        f"paced {client.pacer.waited:.1f} s; never refused (a refusal would fail the import); "
        f"rows {report.rows:,}"
    )


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    main()

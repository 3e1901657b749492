"""How long the DAG processor spends on our DAG files with a 200-account registry (target < 0.5 s).

Measures what Airflow measures: DagBag.process_file on each file, Airflow itself already imported.
Side by side, a DAG file with one trivial DAG, as the floor any DAG file pays.

    .venv/bin/python bench/parse_dags.py [--accounts 200] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRIVIAL_DAG = """
from datetime import datetime
from airflow.sdk import DAG, task

with DAG("trivial", schedule=None, start_date=datetime(2025, 1, 1)):
    @task
    def noop():
        pass
    noop()
"""


def write_registry(folder: Path, accounts: int) -> Path:
    lines = ["defaults: {history_start: 2024-01-01}", "accounts:"]
    lines += [f"  - {{id: acct-{i:04d}, exchange: binance}}" for i in range(accounts)]
    path = folder / "accounts.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def time_file(path: Path, repeat: int) -> tuple[float, int]:
    from airflow.dag_processing.dagbag import DagBag

    durations, dags = [], 0
    for _ in range(repeat):
        bag = DagBag(dag_folder=str(path.parent), collect_dags=False)
        started = time.perf_counter()
        found = bag.process_file(str(path))
        durations.append(time.perf_counter() - started)
        assert not bag.import_errors, bag.import_errors
        dags = len(found)
    return statistics.median(durations), dags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["EXCHANGE_SYNC_REGISTRY"] = str(write_registry(folder, args.accounts))
        os.environ.setdefault("AIRFLOW_HOME", str(folder / "airflow-home"))
        os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        trivial = folder / "trivial_dag.py"
        trivial.write_text(TRIVIAL_DAG)
        ours, dags = time_file(REPO / "dags" / "exchange_sync_dags.py", args.repeat)
        check, _ = time_file(REPO / "dags" / "exchange_sync_registry_check.py", args.repeat)
        floor, _ = time_file(trivial, args.repeat)
    print(f"DAG file parse, {args.accounts} accounts, median of {args.repeat} (DagBag.process_file):")
    print(f"  exchange_sync_dags.py            {ours:.3f} s  ({dags} DAG)   target < 0.5 s")
    print(f"  exchange_sync_registry_check.py  {check:.3f} s")
    print(f"  trivial one-task DAG (baseline)  {floor:.3f} s")
    print(f"  ratio exchange_sync_dags / trivial: {ours / floor:.2f}")


if __name__ == "__main__":
    main()

"""The project's own fault suite: seeded random faults at random moments of an import, for every
exchange, on SQLite and PostgreSQL, each import retried as Airflow retries it, then compared with
ground truth.

Fault kinds: 5xx (500/502/503), 429 bursts, truncated bodies, dropped connections and bad 200
answers (empty, HTML, broken JSON, wrong shape, `{}`), armed on any endpoint the importer calls,
after a random number of matching requests (mid-pagination), one to three at once; new activity
may arrive between attempts. (Timeouts cost 10 s each and have their own test.)

    make fault-suite                                  # 200 scenarios per backend
    EXCHANGE_SYNC_FAULT_SCENARIOS=50 EXCHANGE_SYNC_FAULT_SEED=7 pytest tests/importer/test_fault_suite.py -s

The summary line per backend says how many scenarios, faults fired and retried attempts, and the
lost / duplicated / wrong amounts (each must be 0) and faults misdiagnosed as needing a person.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field

from exchange_sync.diagnosis.classify import classify_failure
from exchange_sync.importer.run import AccountImportError, run_account_import
from tests.fixtures.ground_truth import discrepancies
from tests.fixtures.simulator import every_exchange
from tests.importer.conftest import SMALL, account_config, importer_endpoints
from tests.importer.test_bad_answers import VARIANTS

SCENARIOS = int(os.environ.get("EXCHANGE_SYNC_FAULT_SCENARIOS", "8"))
SEED = int(os.environ.get("EXCHANGE_SYNC_FAULT_SEED", "20261201"))
MAX_ATTEMPTS = 8  # Airflow's retries, generously: a scenario arms at most 6 firings

FAULTS = (
    {"kind": "http_5xx", "status": 500},
    {"kind": "http_5xx", "status": 502},
    {"kind": "http_5xx", "status": 503},
    {"kind": "rate_limit", "retry_after": 0},
    {"kind": "truncate"},
    {"kind": "drop"},
    *({"kind": "bad_body", "variant": v} for v in VARIANTS),
)


@dataclass
class Tally:
    scenarios: int = 0
    fired: int = 0
    retried: int = 0
    lost: int = 0
    duplicated: int = 0
    wrong: int = 0
    misdiagnosed: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # the first differences, with their faults

    def line(self, backend: str) -> str:
        return (
            f"fault suite [{backend}] seed {SEED}: {self.scenarios} scenarios, {self.fired} faults fired, "
            f"{self.retried} failed attempts retried; lost {self.lost}, duplicated {self.duplicated}, "
            f"wrong amounts {self.wrong}, misdiagnosed {len(self.misdiagnosed)}, "
            f"unfinished {len(self.unfinished)}"
        )


def _arm(simulator, rng: random.Random, endpoints) -> list[str]:
    """One to three faults on random endpoints, after 0-3 matching requests (fewer than a clean
    import makes of the endpoint, so every fault fires). Not scoped to the account: the public
    market list carries no key (tests run one at a time)."""
    armed = []
    for _ in range(rng.randint(1, 3)):
        fault = rng.choice(FAULTS)
        path = rng.choice(sorted(endpoints))
        spec = {
            "path_contains": path,
            "count": rng.randint(1, 2),
            "skip": rng.randint(0, min(3, endpoints[path] - 1)),
        }
        armed.append(simulator.add_fault(**fault, **spec)["id"])
    return armed


@every_exchange
def test_random_faults_lose_nothing(
    warehouse, warehouse_url, simulator, make_sim_account, connect, capsys, exchange
):
    backend = f"{exchange}, {warehouse_url.split(':', 1)[0].split('+')[0]}"
    rng = random.Random(f"{SEED}-{backend}")
    endpoints = importer_endpoints(make_sim_account, connect, warehouse, exchange)
    tally = Tally()
    for number in range(SCENARIOS):
        account = make_sim_account(**SMALL, seed=rng.randint(1, 10_000))
        connect(f"conn_{account.id}", account.id)
        config = account_config(account.id, exchange)
        armed = _arm(simulator, rng, endpoints)
        done = False
        for _attempt in range(MAX_ATTEMPTS):
            started_ms = int(time.time() * 1000)
            try:
                run_account_import(config, warehouse)
                done = True
                break
            except AccountImportError as error:
                tally.retried += 1
                diagnosis = classify_failure(error.failure)
                if not diagnosis.transient:
                    tally.misdiagnosed.append(f"#{number}: {diagnosis.cause} for {error.failure.message}")
                if rng.random() < 0.3:  # the exchange moves on while the import is failing
                    simulator.add_activity(account.id, trades=rng.randint(1, 5), deposits=rng.randint(0, 1))
        faults = {f["id"]: f for f in simulator.request("GET", "/_sim/faults")["faults"]}
        tally.fired += sum(faults[i]["fired"] for i in armed)
        simulator.clear_faults()
        if not done:
            tally.unfinished.append(f"#{number}")
            started_ms = int(time.time() * 1000)
            run_account_import(config, warehouse)
        # Everything that happened before the successful run began is in the warehouse. (Activity
        # added between failed attempts can land in the run's last second, or seconds ahead of
        # the clock: the next run's, which re-reads its look-back.)
        found = discrepancies(warehouse, account.id, account.history(), until_ms=started_ms - 1000)
        for kind, count in found.counts().items():
            setattr(tally, kind, getattr(tally, kind) + count)
        if found and len(tally.examples) < 5:
            armed_faults = [faults[i] for i in armed]
            tally.examples.append(
                f"#{number} {armed_faults}: {(found.lost + found.duplicated + found.wrong)[:3]}"
            )
        tally.scenarios += 1
    with capsys.disabled():
        print("\n" + "\n  ".join([tally.line(backend), *tally.examples]))
    assert tally.fired > 0
    assert (tally.lost, tally.duplicated, tally.wrong) == (0, 0, 0), [tally.line(backend), *tally.examples]
    assert tally.misdiagnosed == [] and tally.unfinished == [], tally

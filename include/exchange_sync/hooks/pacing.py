"""Pacing by an exchange's own call counter, so an import never trips its rate limit or lockout.

Kraken counts calls per API key: each private call adds its cost (history calls more), the
counter decays at a steady rate, and a call that would push it past the limit is refused
(`EAPI:Rate limit exceeded`; keep going and the key is locked out). ccxt's synchronous throttle
only spaces calls evenly at the sustained rate, which wastes the counter's headroom; this keeps a
model of the counter and waits only as long as the exchange would make it wait.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallCounter:
    """The exchange's documented counter (for the most restrictive account tier)."""

    limit: float
    decay_per_second: float
    costs: dict[str, float] = field(default_factory=dict)  # endpoint path suffix -> cost
    counted_prefix: str = ""  # only paths containing this count (e.g. private calls)
    default_cost: float = 1.0
    # Kept below the limit: the exchange counts a call when it arrives, by its own clock, and a
    # refusal costs a retry (three in a row a lockout). Costs one wait of headroom / decay seconds
    # once, not per call: the steady pace stays cost / decay.
    headroom: float = 0.5

    def cost(self, path: str) -> float:
        if self.counted_prefix not in path:
            return 0.0
        return next((c for suffix, c in self.costs.items() if path.endswith(suffix)), self.default_cost)


class Pacer:
    """One client's model of its key's counter; it starts empty, as the counter decays while the
    key is idle between runs."""

    def __init__(self, counter: CallCounter):
        self.counter = counter
        self.level = 0.0
        self.checked_at = time.monotonic()
        self.waited = 0.0  # seconds spent waiting, for task logs and benchmarks

    def delay(self, path: str) -> float:
        """Seconds to wait before a call to `path`; the call is counted as made after them."""
        cost = self.counter.cost(path)
        if not cost:
            return 0.0
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.checked_at) * self.counter.decay_per_second)
        self.checked_at = now
        ceiling = self.counter.limit - self.counter.headroom
        wait = max(0.0, (self.level + cost - ceiling) / self.counter.decay_per_second)
        # After the wait the counter has decayed by wait * rate; then the call adds its cost.
        self.level = self.level - wait * self.counter.decay_per_second + cost
        self.checked_at = now + wait
        self.waited += wait
        return wait

    def wait(self, path: str) -> None:
        time.sleep(self.delay(path))

    async def await_turn(self, path: str) -> None:
        await asyncio.sleep(self.delay(path))

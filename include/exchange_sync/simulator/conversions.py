"""Conversions: one asset exchanged for another outside the order book (Binance "Convert" and
"dust to BNB"), made by POST /_sim/accounts/{id}/conversions.

They change the balances but are neither trades nor transfers, so an exchange's trade and transfer
endpoints never show them: what reconciliation must find as a difference. Only exchanges without a
ledger API take them (Binance): an exchange with a ledger would list them there, which no protocol
renders, so the control API refuses them for those (409) rather than serve a ledger that hides them.

Generated conversions are priced at the hour's reference prices (less a spread: 0.2 % for
convert, Binance's 2 % dust fee) and take a part of a held balance, never all of it: every traded
asset keeps a non-zero balance, which symbol discovery relies on (seed.py). They are booked now,
after everything the account already has, 1 ms apart, and never added to seeded histories.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from exchange_sync.simulator.catalog import PriceOracle
from exchange_sync.simulator.decimals import ROUNDING, ZERO, mul, quantize_down
from exchange_sync.simulator.model import CONVERSION_KINDS, Account, Conversion
from exchange_sync.simulator.seed import OFFSET_MS, GenerationError
from exchange_sync.simulator.venue import Venue

SPREAD = {"convert": Decimal("0.998"), "dust": Decimal("0.98")}


@dataclass(frozen=True)
class Requested:
    """An explicit conversion from the control API's body (amounts exact)."""

    from_asset: str
    from_amount: Decimal
    to_asset: str
    to_amount: Decimal
    kind: str


class Conversions:
    """Makes an account's conversions at `now_ms` (validated before anything is booked)."""

    def __init__(self, account: Account, venue: Venue, oracle: PriceOracle, world_seed: int, anchor_ms: int):
        self.account = account
        self.venue = venue
        self.oracle = oracle
        self.anchor_ms = anchor_ms
        self.rng = random.Random(f"{world_seed}:{account.id}:conversions:{len(account.conversions)}")

    def _conversion(self, time: int, requested: Requested) -> Conversion:
        key = (time - self.anchor_ms + OFFSET_MS) * 32 + self.account.slot
        return Conversion(
            key,
            time,
            requested.from_asset,
            requested.from_amount,
            requested.to_asset,
            requested.to_amount,
            requested.kind,
        )

    def explicit(self, time: int, requested: Requested) -> Conversion:
        if requested.kind not in CONVERSION_KINDS:
            raise GenerationError(f"kind must be one of {list(CONVERSION_KINDS)}", "kind")
        if requested.from_asset == requested.to_asset:
            raise GenerationError("a conversion needs two different assets", "to_asset")
        if requested.from_amount <= 0 or requested.to_amount <= 0:
            raise GenerationError("both amounts must be positive", "from_amount")
        if self.account.balances.get(requested.from_asset, ZERO) < requested.from_amount:
            short = f"{requested.from_asset} balance is below {requested.from_amount}"
            raise GenerationError(short, "from_amount")
        return self._conversion(time, requested)

    def generated(self, time: int, kind: str) -> Conversion:
        """One conversion of a part of a held balance into another asset: for dust, into the
        exchange's fee token; otherwise into another asset the account holds."""
        if kind not in CONVERSION_KINDS:
            raise GenerationError(f"kind must be one of {list(CONVERSION_KINDS)}", "kind")
        held = sorted(a for a, amount in self.account.balances.items() if amount > 0)
        token = self.venue.fees.discount_asset
        if kind == "dust" and token is None:
            raise GenerationError(f"{self.account.exchange} has no fee token to convert dust into", "kind")
        rel_ms = time - self.anchor_ms
        self.rng.shuffle(held)
        for source in held:
            targets = [token] if kind == "dust" else [a for a in held if a != source]
            for target in targets:
                if target == source or target is None:
                    continue
                share = Decimal(self.rng.randint(300, 1500) if kind == "convert" else self.rng.randint(5, 50))
                places = self.venue.places_of(source)
                amount = quantize_down(mul(self.account.balances[source], share.scaleb(-4)), places)
                value = mul(amount, self.oracle.usd(source, rel_ms))
                price = self.oracle.usd(target, rel_ms)
                received = quantize_down(
                    ROUNDING.divide(mul(value, SPREAD[kind]), price), self.venue.places_of(target)
                )
                if amount > 0 and received > 0:
                    return self._conversion(time, Requested(source, amount, target, received, kind))
        raise GenerationError(f"account {self.account.id} holds nothing worth converting", "count")

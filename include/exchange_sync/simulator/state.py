"""The in-memory simulated world, and its persistence to a state file.

One aiohttp event loop owns the world, so handlers mutate it without locks. The world holds the
exchange-neutral accounts of every registered exchange (`protocols/`), each generated on its
exchange's venue. What is persisted (atomically, after every mutating control call) is only what
cannot be regenerated from the seed: seed, size and anchor, the specs of created accounts, API
keys, account statuses, what activity and settle calls booked (in booking order), and the
maintenance / clock / rate-limit settings. Faults and the request log are transient. The state
file holds simulator API secrets: keep it out of logs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange_sync.simulator.catalog import Catalog, PriceOracle
from exchange_sync.simulator.conversions import Conversions, Requested
from exchange_sync.simulator.decimals import ZERO, divide_down, sub
from exchange_sync.simulator.faults import FaultBook
from exchange_sync.simulator.model import Account, AccountSpec, ApiKey, Conversion, Trade, Transfer
from exchange_sync.simulator.protocol import ExchangeProtocol
from exchange_sync.simulator.protocols import registered
from exchange_sync.simulator.ratelimit import RateLimiter, RateLimitSettings
from exchange_sync.simulator.request_log import RequestLog
from exchange_sync.simulator.seed import (
    GenerationError,
    book_conversion,
    conversion_fields,
    default_specs,
    generate_account,
    generate_activity,
    replay,
    settle_transfer,
)
from exchange_sync.simulator.venue import Venue

STATE_VERSION = 2
# round_trips: a buy and its fee-free sale back at the same price, which leave every balance as it was.
ACTIVITY_COUNTS = (
    "trades",
    "deposits",
    "withdrawals",
    "pending_deposits",
    "pending_withdrawals",
    "round_trips",
)


class WorldError(Exception):
    """A control request the world refuses; status is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.field = field


def floor_to_minute(ms: int) -> int:
    return ms // 60_000 * 60_000


class World:
    def __init__(self, seed: int, size: float, anchor_ms: int, state_file: Path | None = None):
        self.seed = seed
        self.size = size
        self.anchor_ms = floor_to_minute(anchor_ms)
        self.state_file = state_file
        self.catalog = Catalog(seed)
        self.oracle = PriceOracle(self.catalog)
        self.protocols: dict[str, ExchangeProtocol] = registered()
        self._venues: dict[str, Venue] = {}
        self.accounts: dict[str, Account] = {}
        self.created_specs: list[AccountSpec] = []
        # Per account, one batch per activity or settle call: {"call": name, "ops": booked ops}.
        self.activity: dict[str, list[dict[str, Any]]] = {}
        self.keys: dict[str, ApiKey] = {}
        self.maintenance = False
        self.clock_offset_ms = 0
        self.ratelimit = RateLimitSettings()
        self.limiter = RateLimiter()
        self.faults = FaultBook()
        self.requests = RequestLog()
        self.cache: dict[str, Any] = {}  # protocols' serialized constants (exchangeInfo, AssetPairs)

    # -- exchanges -----------------------------------------------------------------------------

    def protocol(self, exchange: str) -> ExchangeProtocol:
        protocol = self.protocols.get(exchange)
        if protocol is None:
            raise WorldError(400, f"exchange must be one of {list(self.protocols)}", "exchange")
        return protocol

    def venue(self, exchange: str) -> Venue:
        """What the exchange lists in this world (built on first use: each is its own catalog)."""
        venue = self._venues.get(exchange)
        if venue is None:
            venue = self._venues[exchange] = self.protocol(exchange).build_venue(self.catalog, self.seed)
        return venue

    def _generate(self, spec: AccountSpec) -> Account:
        venue = self.venue(spec.exchange)
        return generate_account(spec, venue, self.catalog, self.oracle, self.seed, self.anchor_ms)

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def open(
        cls, seed: int, size: float, state_file: str | Path | None = None, anchor_ms: int | None = None
    ) -> World:
        """The world from the state file when it exists, else freshly generated from seed/size."""
        path = Path(state_file) if state_file else None
        if path is not None and path.exists():
            return cls._load(path)
        world = cls.generate(seed, size, anchor_ms if anchor_ms is not None else cls.now_ms(), path)
        world.save()
        return world

    @classmethod
    def generate(cls, seed: int, size: float, anchor_ms: int, state_file: Path | None = None) -> World:
        """A fresh world with the default accounts (alice, bob, carol on Binance, dave on Kraken,
        erin on Coinbase, frank on OKX)."""
        world = cls(seed, size, anchor_ms, state_file)
        for spec in default_specs(size):
            world.accounts[spec.id] = world._generate(spec)
        return world

    @classmethod
    def _load(cls, path: Path) -> World:
        data = json.loads(path.read_text())
        if data.get("version") != STATE_VERSION:
            raise WorldError(
                500,
                f"state file {path} has unsupported version {data.get('version')!r} "
                f"(this simulator writes {STATE_VERSION}); delete it to start a new world",
            )
        world = cls.generate(int(data["seed"]), float(data["size"]), int(data["anchor_ms"]), path)
        for raw in data.get("created_accounts", []):
            spec = AccountSpec.from_json(raw)
            world.created_specs.append(spec)
            world.accounts[spec.id] = world._generate(spec)
        for account_id, batches in data.get("activity", {}).items():
            account = world.accounts[account_id]
            venue = world.venue(account.exchange)
            for batch in batches:
                if batch["call"] == "activity":
                    account.activity_batches += 1  # the next batch's seed depends on the count
                replay(account, venue, batch["ops"])
            world.activity[account_id] = batches
        for account_id, status in data.get("account_status", {}).items():
            world.accounts[account_id].status = status
        for account_id, symbols in data.get("delisted", {}).items():
            world.accounts[account_id].delisted = set(symbols)
        for raw in data.get("keys", []):
            key = ApiKey(**raw)
            world.keys[key.api_key] = key
        world.maintenance = bool(data.get("maintenance", False))
        world.clock_offset_ms = int(data.get("clock_offset_ms", 0))
        limits = data.get("ratelimit", {})
        world.ratelimit = RateLimitSettings(
            enabled=bool(limits.get("enabled", True)),
            weight_per_minute=int(limits.get("weight_per_minute", 6000)),
            overrides={k: int(v) for k, v in limits.get("overrides", {}).items()},
        )
        return world

    # -- persistence ---------------------------------------------------------------------------

    def save(self) -> None:
        if self.state_file is None:
            return
        data = {
            "version": STATE_VERSION,
            "seed": self.seed,
            "size": self.size,
            "anchor_ms": self.anchor_ms,
            "created_accounts": [spec.to_json() for spec in self.created_specs],
            "activity": self.activity,
            "account_status": {a.id: a.status for a in self.accounts.values() if a.status != "active"},
            "delisted": {a.id: sorted(a.delisted) for a in self.accounts.values() if a.delisted},
            "keys": [dataclasses.asdict(key) for key in self.keys.values()],
            "maintenance": self.maintenance,
            "clock_offset_ms": self.clock_offset_ms,
            "ratelimit": {
                "enabled": self.ratelimit.enabled,
                "weight_per_minute": self.ratelimit.weight_per_minute,
                "overrides": self.ratelimit.overrides,
            },
        }
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sim-state-", dir=self.state_file.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.state_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- time ----------------------------------------------------------------------------------

    @staticmethod
    def now_ms() -> int:
        return int(time.time() * 1000)

    def server_time_ms(self) -> int:
        """The exchange's clock: real time shifted by POST /_sim/clock, for timestamp checks."""
        return self.now_ms() + self.clock_offset_ms

    # -- accounts ------------------------------------------------------------------------------

    def account(self, account_id: str) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            raise WorldError(404, f"unknown account {account_id!r}", "account")
        return account

    def add_account(self, spec: AccountSpec) -> Account:
        self.protocol(spec.exchange)
        if spec.id in self.accounts:
            raise WorldError(409, f"account {spec.id!r} already exists", "id")
        try:
            account = self._generate(spec)
        except GenerationError as exc:
            raise WorldError(400, str(exc), exc.field) from None
        self.accounts[spec.id] = account
        self.created_specs.append(spec)
        self.save()
        return account

    def delist(self, account_id: str, symbol: str) -> Account:
        """The API stops returning the account's trades in `symbol` (a unified symbol its exchange
        lists); its history and export files keep them."""
        account = self.account(account_id)
        if symbol not in self.venue(account.exchange).markets:
            raise WorldError(404, f"{account.exchange} lists no market {symbol!r}", "symbol")
        account.delisted.add(symbol)
        self.save()
        return account

    def set_status(self, account_id: str, status: str) -> Account:
        account = self.account(account_id)
        account.status = status
        self.save()
        return account

    def add_activity(
        self, account_id: str, counts: dict[str, int]
    ) -> tuple[list[Trade], list[Transfer], list[Transfer]]:
        """New trades and transfers now; `counts` by ACTIVITY_COUNTS (missing ones are 0)."""
        account = self.account(account_id)
        snapshot = _Snapshot(account)
        ops: list[dict[str, Any]] = []
        try:
            made = generate_activity(
                account,
                self.venue(account.exchange),
                self.catalog,
                self.oracle,
                self.seed,
                self.anchor_ms,
                self.now_ms(),
                {name: counts.get(name, 0) for name in ACTIVITY_COUNTS},
                ops,
            )
        except GenerationError as exc:
            snapshot.restore(account)
            raise WorldError(409, str(exc), exc.field) from None
        self.activity.setdefault(account_id, []).append({"call": "activity", "ops": ops})
        self.save()
        return made

    def add_conversions(
        self, account_id: str, count: int, kind: str, requested: Requested | None = None
    ) -> list[Conversion]:
        """`count` conversions of what the account holds (or the one `requested`), booked now.
        Only where the exchange has no ledger API (conversions.py says why)."""
        account = self.account(account_id)
        if self.protocol(account.exchange).has_ledger:
            raise WorldError(
                409,
                f"{account.exchange} has a ledger API, which would list conversions: not simulated",
                "account",
            )
        maker = Conversions(account, self.venue(account.exchange), self.oracle, self.seed, self.anchor_ms)
        time = max(self.now_ms(), account.last_event_time + 1)
        snapshot = _Snapshot(account)
        made: list[Conversion] = []
        try:
            for index in range(1 if requested else count):
                at = time + index
                conversion = maker.explicit(at, requested) if requested else maker.generated(at, kind)
                book_conversion(account, conversion)
                made.append(conversion)
        except GenerationError as exc:
            snapshot.restore(account)  # what was booked before the one refused
            raise WorldError(409 if exc.field == "count" else 400, str(exc), exc.field) from None
        ops = [{"op": "conversion", **conversion_fields(c)} for c in made]
        self.activity.setdefault(account_id, []).append({"call": "conversions", "ops": ops})
        self.save()
        return made

    def find_transfer(self, account: Account, transfer_id: str) -> Transfer:
        """A transfer by the exchange-native id the ground truth shows."""
        protocol = self.protocol(account.exchange)

        def index() -> dict[str, Transfer]:
            return {
                protocol.transfer_id(self, account, t): t for t in [*account.deposits, *account.withdrawals]
            }

        transfer = account.cached("transfers_by_id", index).get(transfer_id)
        if transfer is None:
            raise WorldError(404, f"unknown transfer {transfer_id!r} in account {account.id!r}", "transfer")
        return transfer

    def settle(self, account_id: str, transfer_id: str, status: str) -> Transfer:
        """A pending transfer reaches `status` now, with its balance effect."""
        account = self.account(account_id)
        transfer = self.find_transfer(account, transfer_id)
        if not transfer.pending:
            raise WorldError(409, f"transfer {transfer_id!r} is already {transfer.status}", "status")
        allowed = self.protocol(account.exchange).settles[transfer.kind]
        if status not in allowed:
            raise WorldError(400, f"a {account.exchange} {transfer.kind} can end {list(allowed)}", "status")
        when = max(self.now_ms(), account.last_event_time + 1)
        settle_transfer(account, transfer, status, when)
        op = {"op": "settle", "kind": transfer.kind, "key": transfer.key, "status": status, "time": when}
        self.activity.setdefault(account_id, []).append({"call": "settle", "ops": [op]})
        self.save()
        return transfer

    def balance_split(self, account: Account) -> dict[str, tuple[Decimal, Decimal]]:
        """(free, locked) per asset with a non-zero total. A tenth of the primary quote asset is
        held by an (unlisted) open order, so free and locked both carry information."""
        split: dict[str, tuple[Decimal, Decimal]] = {}
        places = self.venue(account.exchange).places_of(account.primary_quote)
        for asset, total in account.balances.items():
            if total == 0:
                continue
            locked = divide_down(total, Decimal(10), places) if asset == account.primary_quote else ZERO
            split[asset] = (sub(total, locked), locked)
        return split

    # -- keys ----------------------------------------------------------------------------------

    def create_key(
        self,
        account_id: str,
        permissions: list[str],
        ip_allowlist: list[str],
        expires_at: int | None,
    ) -> ApiKey:
        account = self.account(account_id)
        protocol = self.protocol(account.exchange)
        api_key, secret = protocol.mint_key()
        key = ApiKey(
            api_key=api_key,
            secret=secret,
            passphrase=protocol.mint_passphrase(),
            account_id=account_id,
            permissions=permissions,
            ip_allowlist=ip_allowlist,
            expires_at=expires_at,
            state="active",
            created_at=self.now_ms(),
        )
        self.keys[key.api_key] = key
        self.save()
        return key

    def key(self, api_key: str) -> ApiKey:
        key = self.keys.get(api_key)
        if key is None:
            raise WorldError(404, f"unknown API key {api_key[:8]!r}...", "api_key")
        return key


class _Snapshot:
    """Enough of an account to undo a half-generated activity batch (which only appends)."""

    def __init__(self, account: Account):
        self.balances = dict(account.balances)
        self.trade_lengths = {symbol: len(t) for symbol, t in account.trades.items()}
        self.lengths = (
            len(account.deposits),
            len(account.withdrawals),
            len(account.rewards),
            len(account.conversions),
        )
        self.journal = len(account.journal)
        self.times = (account.last_event_time, account.update_time)
        self.batches = account.activity_batches

    def restore(self, account: Account) -> None:
        account.balances = self.balances
        for symbol in list(account.trades):
            keep = self.trade_lengths.get(symbol, 0)
            if keep == 0:
                del account.trades[symbol]
            else:
                account.trades[symbol].truncate(keep)
        deposits, withdrawals, rewards, conversions = self.lengths
        del account.deposits[deposits:], account.withdrawals[withdrawals:], account.rewards[rewards:]
        del account.conversions[conversions:]
        del account.journal[self.journal :]
        account.last_event_time, account.update_time = self.times
        account.activity_batches = self.batches
        account.version += 1

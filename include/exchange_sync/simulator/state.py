"""The in-memory simulated world, and its persistence to a state file.

One aiohttp event loop owns the world, so handlers mutate it without locks. What is persisted
(atomically, after every mutating control call) is only what cannot be regenerated from the seed:
seed, size and anchor, the specs of created accounts, API keys, account statuses, the items added
by activity calls, and the maintenance / clock / rate-limit settings. Faults and the request log
are transient. The state file holds simulator API secrets: keep it out of logs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import string
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange_sync.simulator.catalog import Catalog, PriceOracle
from exchange_sync.simulator.decimals import ZERO, divide_down, sub
from exchange_sync.simulator.faults import FaultBook
from exchange_sync.simulator.model import Account, AccountSpec, ApiKey, Deposit, Trade, Withdrawal
from exchange_sync.simulator.ratelimit import RateLimiter, RateLimitSettings
from exchange_sync.simulator.request_log import RequestLog
from exchange_sync.simulator.seed import (
    GenerationError,
    apply_deposit,
    apply_trade,
    apply_withdrawal,
    default_specs,
    generate_account,
    generate_activity,
)

STATE_VERSION = 1
_KEY_ALPHABET = string.ascii_letters + string.digits


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
        self.accounts: dict[str, Account] = {}
        self.created_specs: list[AccountSpec] = []
        self.activity: dict[str, list[dict[str, Any]]] = {}  # persisted items added per account
        self.keys: dict[str, ApiKey] = {}
        self.maintenance = False
        self.clock_offset_ms = 0
        self.ratelimit = RateLimitSettings()
        self.limiter = RateLimiter()
        self.faults = FaultBook()
        self.requests = RequestLog()
        self.cache: dict[str, Any] = {}  # exchange modules' serialized constants (exchangeInfo, ...)

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
        """A fresh world with the default accounts (alice, bob, carol)."""
        world = cls(seed, size, anchor_ms, state_file)
        for spec in default_specs(size):
            world.accounts[spec.id] = generate_account(
                spec, world.catalog, world.oracle, seed, world.anchor_ms
            )
        return world

    @classmethod
    def _load(cls, path: Path) -> World:
        data = json.loads(path.read_text())
        if data.get("version") != STATE_VERSION:
            raise WorldError(500, f"state file {path} has unsupported version {data.get('version')!r}")
        world = cls(int(data["seed"]), float(data["size"]), int(data["anchor_ms"]), path)
        for spec in default_specs(world.size):
            world.accounts[spec.id] = generate_account(
                spec, world.catalog, world.oracle, world.seed, world.anchor_ms
            )
        for raw in data.get("created_accounts", []):
            spec = AccountSpec.from_json(raw)
            world.created_specs.append(spec)
            world.accounts[spec.id] = generate_account(
                spec, world.catalog, world.oracle, world.seed, world.anchor_ms
            )
        for account_id, batches in data.get("activity", {}).items():
            account = world.accounts[account_id]
            for batch in batches:
                world._replay(account, batch)
            world.activity[account_id] = batches
        for account_id, status in data.get("account_status", {}).items():
            world.accounts[account_id].status = status
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

    def _replay(self, account: Account, batch: dict[str, Any]) -> None:
        account.activity_batches += 1
        for raw in batch.get("deposits", []):
            apply_deposit(account, _load_item(Deposit, raw))
        for raw in batch.get("trades", []):
            trade = _load_item(Trade, raw)
            apply_trade(account, trade, self.catalog.markets[trade.symbol])
        for raw in batch.get("withdrawals", []):
            apply_withdrawal(account, _load_item(Withdrawal, raw))

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
        if spec.id in self.accounts:
            raise WorldError(409, f"account {spec.id!r} already exists", "id")
        try:
            account = generate_account(spec, self.catalog, self.oracle, self.seed, self.anchor_ms)
        except GenerationError as exc:
            raise WorldError(400, str(exc), exc.field) from None
        self.accounts[spec.id] = account
        self.created_specs.append(spec)
        self.save()
        return account

    def set_status(self, account_id: str, status: str) -> Account:
        account = self.account(account_id)
        account.status = status
        self.save()
        return account

    def add_activity(
        self, account_id: str, trades: int, deposits: int, withdrawals: int
    ) -> tuple[list[Trade], list[Deposit], list[Withdrawal]]:
        account = self.account(account_id)
        snapshot = _Snapshot(account)
        try:
            made = generate_activity(
                account,
                self.catalog,
                self.oracle,
                self.seed,
                self.anchor_ms,
                self.now_ms(),
                trades,
                deposits,
                withdrawals,
            )
        except GenerationError as exc:
            snapshot.restore(account)
            raise WorldError(409, str(exc), exc.field) from None
        new_trades, new_deposits, new_withdrawals = made
        self.activity.setdefault(account_id, []).append(
            {
                "trades": [_dump_item(t) for t in new_trades],
                "deposits": [_dump_item(d) for d in new_deposits],
                "withdrawals": [_dump_item(w) for w in new_withdrawals],
            }
        )
        self.save()
        return made

    def balance_split(self, account: Account) -> dict[str, tuple[Decimal, Decimal]]:
        """(free, locked) per asset with a non-zero total. A tenth of the primary quote asset is
        held by an (unlisted) open order, so free and locked both carry information."""
        split: dict[str, tuple[Decimal, Decimal]] = {}
        for asset, total in account.balances.items():
            if total == 0:
                continue
            locked = divide_down(total, Decimal(10), 8) if asset == account.primary_quote else ZERO
            split[asset] = (sub(total, locked), locked)
        return split

    # -- keys ----------------------------------------------------------------------------------

    def create_key(
        self, account_id: str, permissions: list[str], ip_allowlist: list[str], expires_at: int | None
    ) -> ApiKey:
        self.account(account_id)
        key = ApiKey(
            api_key="".join(secrets.choice(_KEY_ALPHABET) for _ in range(64)),
            secret="".join(secrets.choice(_KEY_ALPHABET) for _ in range(64)),
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
    """Enough of an account to undo a half-generated activity batch."""

    def __init__(self, account: Account):
        self.balances = dict(account.balances)
        self.trade_lengths = {symbol: len(t) for symbol, t in account.trades.items()}
        self.deposits = len(account.deposits)
        self.withdrawals = len(account.withdrawals)
        self.last_event_time = account.last_event_time
        self.update_time = account.update_time
        self.batches = account.activity_batches

    def restore(self, account: Account) -> None:
        account.balances = self.balances
        for symbol in list(account.trades):
            keep = self.trade_lengths.get(symbol, 0)
            per_symbol = account.trades[symbol]
            if keep == 0:
                del account.trades[symbol]
                continue
            del per_symbol.trades[keep:], per_symbol.ids[keep:], per_symbol.times[keep:]
        del account.deposits[self.deposits :]
        del account.withdrawals[self.withdrawals :]
        account.last_event_time = self.last_event_time
        account.update_time = self.update_time
        account.activity_batches = self.batches


def _dump_item(item: Trade | Deposit | Withdrawal) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(item):
        if f.name == "rendered":
            continue
        value = getattr(item, f.name)
        out[f.name] = str(value) if isinstance(value, Decimal) else value
    return out


def _load_item(cls: type, raw: dict[str, Any]) -> Any:
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name == "rendered":
            continue
        value = raw[f.name]
        kwargs[f.name] = Decimal(value) if f.type in ("Decimal", Decimal) else value
    return cls(**kwargs)

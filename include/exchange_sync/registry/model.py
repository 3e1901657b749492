"""Validated registry models: what the DAG builder, importer and CLI consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from exchange_sync.registry.errors import InvalidRegistryEntries, RegistryError, UnknownAccount

DEFAULT_SCHEDULE = "0 * * * *"
DEFAULT_POOL_SLOTS = 2
# Waiting for rotated keys: how often the connection is looked at, how often keys that may be
# fixed on the exchange (permission, IP) are re-checked at first (doubling up to 6 h), how long.
DEFAULT_KEY_POLL_SECONDS = 60
DEFAULT_KEY_RECHECK_SECONDS = 900
DEFAULT_WAIT_FOR_KEYS_HOURS = 168
DEFAULT_RETRY_DELAY_SECONDS = 30
# Exchanges that are asked per symbol (Binance): between sweeps of every candidate symbol, only
# symbols whose assets' balances moved are asked (importer/quiet_symbols.py).
DEFAULT_TRADE_SWEEP_HOURS = 24.0


@dataclass(frozen=True)
class ExchangeConfig:
    exchange: str
    schedule: str | None = DEFAULT_SCHEDULE  # cron; None means manual runs only
    pool_slots: int = DEFAULT_POOL_SLOTS
    key_poll_seconds: int = DEFAULT_KEY_POLL_SECONDS
    key_recheck_seconds: int = DEFAULT_KEY_RECHECK_SECONDS
    wait_for_keys_hours: float = DEFAULT_WAIT_FOR_KEYS_HOURS
    retry_delay_seconds: int = DEFAULT_RETRY_DELAY_SECONDS  # first retry of a transient failure

    @property
    def pool(self) -> str:
        return f"ccxt_{self.exchange}"

    @property
    def dag_id(self) -> str:
        return f"exchange_sync_{self.exchange}"

    @property
    def recovery_dag_id(self) -> str:
        return f"exchange_sync_{self.exchange}_recovery"


@dataclass(frozen=True)
class AccountConfig:
    id: str
    exchange: str
    conn_id: str
    streams: tuple[str, ...]
    history_start: datetime  # timezone-aware UTC
    symbols: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    trade_sweep_hours: float = DEFAULT_TRADE_SWEEP_HOURS

    def to_task_arg(self) -> dict:
        """The JSON-safe form a mapped import task receives (no secrets: keys stay in the connection)."""
        return {
            "id": self.id,
            "exchange": self.exchange,
            "conn_id": self.conn_id,
            "streams": list(self.streams),
            "history_start": self.history_start.isoformat(),
            "symbols": list(self.symbols),
            "notify": list(self.notify),
            "trade_sweep_hours": self.trade_sweep_hours,
        }

    @classmethod
    def from_task_arg(cls, arg: dict) -> AccountConfig:
        return cls(
            id=arg["id"],
            exchange=arg["exchange"],
            conn_id=arg["conn_id"],
            streams=tuple(arg["streams"]),
            history_start=datetime.fromisoformat(arg["history_start"]),
            symbols=tuple(arg.get("symbols", ())),
            notify=tuple(arg.get("notify", ())),
            trade_sweep_hours=arg.get("trade_sweep_hours", DEFAULT_TRADE_SWEEP_HOURS),
        )


@dataclass(frozen=True)
class Registry:
    path: Path
    accounts: tuple[AccountConfig, ...]
    exchanges: dict[str, ExchangeConfig]
    errors: tuple[RegistryError, ...] = field(default=())

    def accounts_of(self, exchange: str) -> tuple[AccountConfig, ...]:
        return tuple(a for a in self.accounts if a.exchange == exchange)

    def account(self, account_id: str) -> AccountConfig:
        for account in self.accounts:
            if account.id == account_id:
                return account
        invalid = next((e for e in self.errors if f"(id '{account_id}')" in e.entry), None)
        raise UnknownAccount(self.path, account_id, [a.id for a in self.accounts], invalid)

    def exchange_config(self, exchange: str) -> ExchangeConfig:
        return self.exchanges.get(exchange) or ExchangeConfig(exchange=exchange)

    def exchanges_in_use(self) -> list[ExchangeConfig]:
        """One config per exchange that has at least one valid account, in a stable order."""
        return [self.exchange_config(e) for e in sorted({a.exchange for a in self.accounts})]

    def raise_for_errors(self) -> None:
        if self.errors:
            raise InvalidRegistryEntries(self.errors)

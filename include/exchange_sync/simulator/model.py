"""The simulated world's records: assets, markets, accounts, API keys and account history.

Records are exchange-neutral where they can be (a trade is a trade); the exchange modules
(`binance_api`) decide how they look on the wire. Amounts are `Decimal`, times are epoch ms.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ACCOUNT_STATUSES = ("active", "suspended", "closed")
KEY_STATES = ("active", "revoked", "deleted")
PERMISSIONS = ("reading", "spot_trading", "withdrawals")


@dataclass(frozen=True, slots=True)
class Asset:
    code: str
    name: str
    usd_ref: Decimal  # reference USD price at the anchor; prices wander around it over time
    networks: tuple[str, ...]  # empty for fiat, which never moves through crypto networks
    fiat: bool
    stable: bool  # pegged to 1 USD: no price walk
    generated: bool = False  # a made-up ticker rather than a real one


@dataclass(frozen=True, slots=True)
class Market:
    symbol: str  # exchange-native id, e.g. "BTCUSDT"
    base: str
    quote: str
    status: str  # "TRADING" or "BREAK" (delisted/halted)
    price_decimals: int
    qty_decimals: int
    min_notional: Decimal
    margin: bool
    trade_id_base: int  # per-symbol offset so ids look like a busy exchange's, not 1, 2, 3
    order_id_base: int

    @property
    def unified(self) -> str:
        return f"{self.base}/{self.quote}"

    @property
    def tick(self) -> Decimal:
        return Decimal(1).scaleb(-self.price_decimals)

    @property
    def step(self) -> Decimal:
        return Decimal(1).scaleb(-self.qty_decimals)


@dataclass(slots=True)
class ApiKey:
    api_key: str
    secret: str
    account_id: str
    permissions: list[str]
    ip_allowlist: list[str]
    expires_at: int | None
    state: str
    created_at: int

    def expired(self, now_ms: int) -> bool:
        return self.expires_at is not None and now_ms >= self.expires_at

    def public(self, now_ms: int) -> dict[str, Any]:
        """Everything about the key except its secret."""
        return {
            "api_key": self.api_key,
            "account": self.account_id,
            "permissions": list(self.permissions),
            "ip_allowlist": list(self.ip_allowlist),
            "expires_at": self.expires_at,
            "expired": self.expired(now_ms),
            "state": self.state,
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class Trade:
    symbol: str
    id: int
    order_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool
    rendered: bytes | None = None  # cached wire form; trades never change once created


@dataclass(slots=True)
class Deposit:
    id: str
    coin: str
    network: str
    amount: Decimal
    address: str
    address_tag: str
    txid: str
    time: int
    status: int
    transfer_type: int  # 1 = internal transfer between exchange users, 0 = on-chain
    confirm_times: str
    unlock_confirm: int
    wallet_type: int


@dataclass(slots=True)
class Withdrawal:
    id: str
    coin: str
    network: str
    amount: Decimal
    fee: Decimal
    address: str
    address_tag: str
    txid: str
    time: int  # applyTime; whole seconds because the wire format has second resolution
    complete_time: int
    status: int
    transfer_type: int
    info: str
    confirm_no: int
    wallet_type: int
    tx_key: str


class SymbolTrades:
    """One account's trades in one symbol, ascending by id (and therefore by time)."""

    __slots__ = ("ids", "times", "trades")

    def __init__(self) -> None:
        self.trades: list[Trade] = []
        self.ids: list[int] = []
        self.times: list[int] = []

    def append(self, trade: Trade) -> None:
        if self.ids and trade.id <= self.ids[-1]:
            raise ValueError(f"trade id {trade.id} does not follow {self.ids[-1]} in {trade.symbol}")
        self.trades.append(trade)
        self.ids.append(trade.id)
        self.times.append(trade.time)

    def __len__(self) -> int:
        return len(self.trades)

    def from_id(self, from_id: int, limit: int) -> list[Trade]:
        start = bisect.bisect_left(self.ids, from_id)
        return self.trades[start : start + limit]

    def between(self, start_time: int | None, end_time: int | None, limit: int) -> list[Trade]:
        """Oldest first from start_time when given, else the newest up to end_time (inclusive bounds)."""
        hi = len(self.times) if end_time is None else bisect.bisect_right(self.times, end_time)
        if start_time is None:
            return self.trades[max(0, hi - limit) : hi]
        lo = bisect.bisect_left(self.times, start_time)
        return self.trades[lo : min(hi, lo + limit)]


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """Everything needed to regenerate an account's seeded history."""

    id: str
    exchange: str
    seed: int
    trades: int
    symbols: int
    deposits: int
    withdrawals: int
    days: int
    must_trade: tuple[str, ...] = ()  # market ids the account always trades (default accounts)
    bnb_fees: bool | None = None  # pays commissions in BNB when it can; None: decided by the seed

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "exchange": self.exchange,
            "seed": self.seed,
            "trades": self.trades,
            "symbols": self.symbols,
            "deposits": self.deposits,
            "withdrawals": self.withdrawals,
            "days": self.days,
            "must_trade": list(self.must_trade),
            "bnb_fees": self.bnb_fees,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccountSpec:
        return cls(
            id=data["id"],
            exchange=data["exchange"],
            seed=int(data["seed"]),
            trades=int(data["trades"]),
            symbols=int(data["symbols"]),
            deposits=int(data["deposits"]),
            withdrawals=int(data["withdrawals"]),
            days=int(data["days"]),
            must_trade=tuple(data.get("must_trade", ())),
            bnb_fees=data.get("bnb_fees"),
        )


@dataclass(slots=True)
class Account:
    id: str
    exchange: str
    uid: int
    slot: int  # small per-account number mixed into ids so two accounts never mint the same one
    spec: AccountSpec
    status: str = "active"
    markets: list[str] = field(default_factory=list)
    trades: dict[str, SymbolTrades] = field(default_factory=dict)
    deposits: list[Deposit] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    balances: dict[str, Decimal] = field(default_factory=dict)  # totals (free + locked)
    primary_quote: str = "USDT"
    pays_fees_in_bnb: bool = False
    last_event_time: int = 0
    update_time: int = 0  # last balance change, as api/v3/account reports it
    activity_batches: int = 0

    def trade_count(self) -> int:
        return sum(len(t) for t in self.trades.values())

    def all_trades(self) -> list[Trade]:
        merged = [t for per_symbol in self.trades.values() for t in per_symbol.trades]
        merged.sort(key=lambda t: (t.time, t.symbol, t.id))
        return merged

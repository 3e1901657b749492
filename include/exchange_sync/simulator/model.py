"""The simulated world's exchange-neutral records: assets, markets, accounts, API keys and history.

Nothing here knows a wire format. Asset codes are ccxt's unified codes (BTC, DOGE, USD), markets
are keyed by unified symbols (BTC/USD); each exchange's protocol package (`protocols/<name>/`)
decides how a record looks on its wire (ids, codes, statuses, field names). Amounts are
`Decimal`, times are epoch ms.

An account's history is its trades (per market, for paging), its transfers (deposits and
withdrawals, whose status can change later), its rewards, its conversions, and the journal: every
balance change in the order it happened, from which the ledger (`ledger.py`) and the balances follow.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ACCOUNT_STATUSES = ("active", "suspended", "closed")
KEY_STATES = ("active", "revoked", "deleted")
TRANSFER_KINDS = ("deposit", "withdrawal")
TRANSFER_STATUSES = ("pending", "ok", "failed", "canceled")
FINAL_STATUSES = ("ok", "failed", "canceled")


@dataclass(frozen=True, slots=True)
class Asset:
    code: str  # ccxt unified code
    name: str
    usd_ref: Decimal  # reference USD price at the anchor; prices wander around it over time
    networks: tuple[str, ...]  # empty for fiat, which never moves through crypto networks
    fiat: bool
    stable: bool  # pegged: no price walk
    generated: bool = False  # a made-up ticker rather than a real one


@dataclass(frozen=True, slots=True)
class Market:
    """A market one exchange lists (each exchange has its own Market objects)."""

    symbol: str  # unified, e.g. "BTC/USDT": the domain's key
    id: str  # the exchange-native id, e.g. "BTCUSDT" or "XXBTZUSD"
    base: str
    quote: str
    active: bool  # False: delisted or halted (Binance "BREAK")
    price_decimals: int
    qty_decimals: int
    min_notional: Decimal
    margin: bool
    order_id_base: int  # per-market offset so order ids look like a busy exchange's

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
    permissions: list[str]  # in the exchange's own vocabulary (GET /_sim/exchanges lists it)
    ip_allowlist: list[str]
    expires_at: int | None
    state: str
    created_at: int
    last_nonce: int = 0  # nonce-checking exchanges (Kraken): the highest nonce accepted
    last_used: int | None = None
    passphrase: str = ""  # exchanges whose keys have one (OKX); "" where they have none

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
    symbol: str  # unified market symbol
    seq: int  # per-market counter value: increases with time, unique within the market
    order_seq: int  # the order's number: fills of one order share it
    price: Decimal
    qty: Decimal
    cost: Decimal  # quote amount, rounded down to what the exchange books for the quote asset
    fee: Decimal
    fee_asset: str
    time: int
    sub: int  # 0..9999: sub-millisecond part for exchanges with finer clocks (Kraken)
    is_buyer: bool
    is_maker: bool
    rendered: Any = None  # the protocol's cached wire form; trades never change once created


@dataclass(slots=True)
class Transfer:
    """A deposit or a withdrawal. Deposits credit the balance only once `ok`; withdrawals debit it
    when requested and are refunded when they end failed or canceled."""

    kind: str  # "deposit" | "withdrawal"
    key: int  # per-account, per-kind unique number the protocols derive native ids from
    asset: str
    network: str  # "" for fiat (bank transfer)
    amount: Decimal
    fee: Decimal
    address: str
    tag: str
    txid: str
    internal: bool  # between two users of the same exchange, not on-chain
    time: int  # when it was made (whole seconds: several wire formats have second resolution)
    status: str = "ok"
    resolved_at: int | None = None  # when it reached its final status (None while pending)
    confirmations: int = 0

    @property
    def pending(self) -> bool:
        return self.status == "pending"


@dataclass(slots=True)
class Reward:
    """A staking reward: a credit that only the ledger shows."""

    key: int
    asset: str
    amount: Decimal
    time: int


CONVERSION_KINDS = ("convert", "dust")


@dataclass(frozen=True, slots=True)
class Conversion:
    """One asset exchanged for another outside the order book (Binance "Convert", and "dust to
    BNB"): no trade id, and neither a trade nor a transfer, so the trade and transfer endpoints do
    not show it; only the balances (and an exchange's CSV export) do."""

    key: int
    time: int
    from_asset: str
    from_amount: Decimal
    to_asset: str
    to_amount: Decimal
    kind: str  # CONVERSION_KINDS


# What a journal entry did, in the order it happened: (time, kind, record).
# kinds: "trade", "deposit" (credited), "withdrawal" (debited), "refund" (a failed or canceled
# withdrawal given back), "reward", "conversion".
JournalEntry = tuple[int, str, Any]


class SymbolTrades:
    """One account's trades in one market, ascending by seq (and therefore by time)."""

    __slots__ = ("seqs", "times", "trades")

    def __init__(self) -> None:
        self.trades: list[Trade] = []
        self.seqs: list[int] = []
        self.times: list[int] = []

    def append(self, trade: Trade) -> None:
        if self.seqs and trade.seq <= self.seqs[-1]:
            raise ValueError(f"trade {trade.seq} does not follow {self.seqs[-1]} in {trade.symbol}")
        self.trades.append(trade)
        self.seqs.append(trade.seq)
        self.times.append(trade.time)

    def __len__(self) -> int:
        return len(self.trades)

    def truncate(self, keep: int) -> None:
        del self.trades[keep:], self.seqs[keep:], self.times[keep:]

    def from_seq(self, from_seq: int, limit: int) -> list[Trade]:
        start = bisect.bisect_left(self.seqs, from_seq)
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
    must_trade: tuple[str, ...] = ()  # unified symbols the account always trades (default accounts)
    discount_fees: bool | None = None  # pays fees in the exchange's fee token (BNB); None: seeded

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
            "discount_fees": self.discount_fees,
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
            discount_fees=data.get("discount_fees"),
        )


@dataclass(slots=True)
class Account:
    id: str
    exchange: str
    uid: int
    slot: int  # small per-account number mixed into ids so two accounts never mint the same one
    spec: AccountSpec
    status: str = "active"
    markets: list[str] = field(default_factory=list)  # unified symbols
    trades: dict[str, SymbolTrades] = field(default_factory=dict)
    deposits: list[Transfer] = field(default_factory=list)
    withdrawals: list[Transfer] = field(default_factory=list)
    rewards: list[Reward] = field(default_factory=list)
    conversions: list[Conversion] = field(default_factory=list)
    journal: list[JournalEntry] = field(default_factory=list)
    # Markets delisted for this account: their trades stay in its history and its export files,
    # but its API no longer returns them (Binance's myTrades answers [] for a delisted coin's pair).
    delisted: set[str] = field(default_factory=set)
    balances: dict[str, Decimal] = field(default_factory=dict)  # totals (free + locked)
    primary_quote: str = "USDT"
    pays_discount_fees: bool = False
    last_event_time: int = 0
    update_time: int = 0  # last balance change
    activity_batches: int = 0
    version: int = 0  # bumped on every change; derived views are cached per version
    _cache: dict[str, Any] = field(default_factory=dict)
    _cache_version: int = -1

    def trade_count(self) -> int:
        return sum(len(t) for t in self.trades.values())

    def cached(self, name: str, build: Callable[[], Any]) -> Any:
        """A derived view (merged trades, the ledger, id indexes), rebuilt after any change."""
        if self._cache_version != self.version:
            self._cache.clear()
            self._cache_version = self.version
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    def all_trades(self) -> list[Trade]:
        """Every trade, oldest first (fills of one moment in market order, then by seq)."""

        def merge() -> list[Trade]:
            merged = [t for per_symbol in self.trades.values() for t in per_symbol.trades]
            merged.sort(key=lambda t: (t.time, t.sub, t.symbol, t.seq))
            return merged

        return self.cached("all_trades", merge)

    def transfers(self, kind: str) -> list[Transfer]:
        return self.deposits if kind == "deposit" else self.withdrawals

"""Exchange profiles: what ccxt does not hide about each exchange, kept as data.

One profile per exchange says which streams exist, which ccxt call fetches each and how it is
paged (a strategy from importer/paging.py), how the exchange account is recognised, what its
answers look like, and which ccxt options keep requests to the minimum. The importer reads these;
it never branches on exchange ids. Adding an exchange starts here (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from exchange_sync import streams
from exchange_sync.hooks.answers import AnswerShape, value_at
from exchange_sync.hooks.pacing import CallCounter
from exchange_sync.hooks.shared import OwnBudget
from exchange_sync.importer.fast_rows import FastPath
from exchange_sync.importer.fast_rows import binance as binance_rows
from exchange_sync.importer.paging import (
    CursorPages,
    NarrowingWindows,
    OffsetPages,
    Paging,
    RecentWindow,
    TimeWindows,
    TradeIdPages,
)

RETENTION_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class StreamSource:
    """Where one stream's records come from: a ccxt call, paged by a strategy."""

    method: str  # the ccxt unified method, e.g. fetch_my_trades
    paging: Paging
    # Re-read this much before the stored cursor: exchanges record some entries late.
    lookback: timedelta = timedelta(0)
    # Transfer streams: re-read from the oldest transfer stored as not final (pending), so a
    # status that changes weeks later still reaches the warehouse.
    refresh_pending: bool = False
    # How far back the exchange's API serves this stream (None: all of it). Nothing older is asked
    # for; what is older and not imported can only come from the exchange's CSV export.
    retention: timedelta | None = None
    # Native record types (the raw answer's `type`) that are also deposits or withdrawals, with
    # their kind (None: the amount's sign says): each is stored as a transfer too, parsed by ccxt's
    # parse_transaction, in the page's transaction (Coinbase's v2 transactions hold trades,
    # transfers and rewards in one list per currency).
    transfer_types: dict[str, str | None] = field(default_factory=dict)
    # The exchange's raw answer straight to rows, skipping ccxt's generic parse (importer/fast_rows).
    fast_rows: FastPath | None = None
    # A stream of conversions (streams.CONVERSIONS): its rows are ledger rows of this type, named
    # as the exchange's own statement export names the operation, so that export's lines of the
    # same conversions are recognised as these rows (csv_import/matching.py).
    ledger_type: str | None = None

    def __post_init__(self) -> None:
        if self.fast_rows is not None and self.transfer_types:
            # Transfers inside another stream's records are read from ccxt's parse of them.
            raise ValueError(f"{self.method}: a fast path cannot serve a stream that holds transfers")

    def served_from(self, now: datetime) -> datetime | None:
        """The oldest moment the API still serves (None: all of it). A little inside the window,
        not at its edge: the exchange's clock and ours differ."""
        return None if self.retention is None else now - self.retention + RETENTION_MARGIN


@dataclass(frozen=True)
class AccountIdentity:
    """Where the exchange names the account a key opens, to refuse keys of another account."""

    method: str  # a ccxt method; fetch_balance is the answer every import reads anyway
    path: str  # dotted path into its answer (for unified methods, into ccxt's raw `info`)


@dataclass(frozen=True)
class ExchangeProfile:
    exchange: str
    # Every stream but balances (one snapshot per run), in import order: where a stream feeds
    # another (transfers name the assets symbol discovery needs; the ledger holds transfers), the
    # feeding one comes first.
    sources: dict[str, StreamSource]
    ccxt_options: dict[str, Any] = field(default_factory=dict)
    # Where the balance answer lists the exchange's accounts (Coinbase's wallets, one per currency),
    # the dotted path to that list: ccxt is handed them instead of asking for the same list again
    # to find a currency's account id.
    accounts_in_balance: str | None = None
    # ccxt capabilities switched off where no option does it (OKX's load_markets reads the private
    # asset/currencies whenever a key is set and `has["fetchCurrencies"]` says it can).
    ccxt_has: dict[str, bool] = field(default_factory=dict)
    identity: AccountIdentity | None = None
    # The ledger's deposit and withdrawal entries also become transfer rows (in the same
    # transaction as the ledger page): where the ledger is the complete record of transfers.
    transfers_from_ledger: bool = False
    # The ledger's `amount` is already the balance's whole change, its fee included (OKX: balChg):
    # reconciliation (reconcile/movements.py) sums `amount` there, elsewhere `amount - fee`.
    ledger_amount_is_net: bool = False
    # What each endpoint's successful answer looks like (checked before ccxt parses it, see
    # hooks/answers.py); endpoints not listed must still answer JSON.
    answer_shapes: tuple[AnswerShape, ...] = ()
    # Where the exchange states errors in the body of an HTTP 200, the keys every such body has
    # (success or error): a 200 without them is checked before ccxt reads it for an error.
    error_keys: tuple[str, ...] = ()
    # The exchange's per-key call counter, where it has one: requests are paced by its model
    # (hooks/pacing.py) instead of ccxt's even spacing.
    call_counter: CallCounter | None = None
    # Endpoints limited per account on a budget of their own: paced apart from the IP's budget
    # (hooks/shared.py), which ccxt's one throttle would otherwise charge for them.
    own_budgets: tuple[OwnBudget, ...] = ()

    @property
    def streams(self) -> tuple[str, ...]:
        """The exchange's streams, in the registry's order (streams.ALL_STREAMS)."""
        return tuple(s for s in streams.ALL_STREAMS if s == streams.BALANCES or s in self.sources)

    @property
    def import_order(self) -> tuple[str, ...]:
        return (streams.BALANCES, *self.sources)

    def ledger_types(self) -> dict[str, str]:
        """Streams stored as ledger rows of one type (conversions), with that type."""
        return {s: source.ledger_type for s, source in self.sources.items() if source.ledger_type}

    def retention(self, stream: str) -> timedelta | None:
        source = self.sources.get(stream)
        return source.retention if source else None

    def retentions(self, streams: tuple[str, ...]) -> dict[str, timedelta]:
        """Of these streams, those the API keeps only for a while, with how long."""
        return {s: kept for s in streams if (kept := self.retention(s)) is not None}

    def served_from(self, stream: str, now: datetime) -> datetime | None:
        source = self.sources.get(stream)
        return source.served_from(now) if source else None

    @property
    def needs_symbols(self) -> bool:
        """Does any stream need a symbol per request (and so symbol discovery)?"""
        return any(source.paging.per_symbol for source in self.sources.values())


BINANCE = ExchangeProfile(
    exchange="binance",
    sources={
        # capital/deposit/hisrec and withdraw/history: startTime..endTime at most 90 days apart,
        # 1,000 per page (offset inside a window). Binance records some transfers late.
        streams.DEPOSITS: StreamSource(
            "fetch_deposits", TimeWindows(timedelta(days=90), 1000), timedelta(days=1), refresh_pending=True
        ),
        streams.WITHDRAWALS: StreamSource(
            "fetch_withdrawals",
            TimeWindows(timedelta(days=90), 1000),
            timedelta(days=1),
            refresh_pending=True,
        ),
        # GET /api/v3/myTrades needs a symbol; paging by trade id (fromId) also sidesteps its 24 h
        # startTime/endTime limit. "Default 500; max 1000."
        streams.TRADES: StreamSource(
            "fetch_my_trades",
            TradeIdPages(1000, "fromId"),
            fast_rows=FastPath("parse_trades", binance_rows.trade_rows),
        ),
        # GET /sapi/v1/convert/tradeFlow (Convert's history, fetch_convert_trade_history):
        # startTime and endTime both required, at most 30 days apart, at most 1,000 a page, no
        # offset: `moreData` says the window holds more. Weight(UID) 3000, on its own budget of
        # 180,000 a minute per account. Its orders still processing are read again a day later.
        streams.CONVERSIONS: StreamSource(
            "fetch_convert_trade_history",
            NarrowingWindows(timedelta(days=30), 1000, "moreData"),
            timedelta(days=1),
            ledger_type="Binance Convert",
        ),
    },
    identity=AccountIdentity("fetch_balance", "info.uid"),  # GET /api/v3/account names its uid
    # sapi endpoints limited per account (UID weight, 180,000 a minute each): convert/tradeFlow
    # weighs 3,000 (ccxt: 20.001 of its 50 ms units, a second of the IP's budget it does not use),
    # withdraw/history 18,000 ("Weight(UID): 18000"), 10 a minute (ccxt: 0.1 s apart).
    own_budgets=(
        OwnBudget("convert/tradeFlow", weight=3000, limit=180_000),
        OwnBudget("capital/withdraw/history", weight=18_000, limit=180_000),
    ),
    answer_shapes=(
        AnswerShape("/api/v3/exchangeInfo", "object", (("symbols", "list"),)),
        AnswerShape("/api/v3/account", "object", (("balances", "list"),)),
        AnswerShape("/api/v3/myTrades", "list"),
        AnswerShape("/sapi/v1/capital/deposit/hisrec", "list"),
        AnswerShape("/sapi/v1/capital/withdraw/history", "list"),
        AnswerShape("/sapi/v1/convert/tradeFlow", "object", (("list", "list"), ("moreData", "value"))),
        AnswerShape("/sapi/v1/account/apiRestrictions", "object"),
        AnswerShape("/sapi/v1/account/status", "object", (("data", "value"),)),
    ),
    ccxt_options={
        # Spot only: the futures exchangeInfo calls would cost two requests per run for nothing.
        "fetchMarkets": {"types": ["spot"]},
        # capital/config/getall is a private call per load_markets; markets carry all we need.
        "fetchCurrencies": False,
        # Two signed margin-pair listings per load_markets, for a spot-only importer.
        "fetchMargins": False,
    },
)


def _kraken_result(*keys: tuple[str, Literal["list", "object", "value"]]) -> tuple:
    # Every Kraken answer is {"error": [], "result": ...}; errors arrive with HTTP 200 and ccxt
    # raises on them before this check.
    return (("result", "object"), *((f"result.{key}", kind) for key, kind in keys))


# DepositStatus / WithdrawStatus answer "recent" transfers only (docs.kraken.com, Get Status of
# Recent Deposits / Withdrawals).
KRAKEN_STATUS_KEEPS = timedelta(days=90)

KRAKEN = ExchangeProfile(
    exchange="kraken",
    sources={
        # Ledgers: the complete record of balance changes, 50 per page by offset (`ofs`), newest
        # first, with a total `count`. Its deposit and withdrawal entries are the complete record
        # of transfers (transfers_from_ledger), so the ledger comes first.
        streams.LEDGER: StreamSource("fetch_ledger", OffsetPages(50, "result.count"), timedelta(days=1)),
        # DepositStatus / WithdrawStatus only know recent transfers: they add what the ledger
        # lacks (status, txid, address, network, and deposits not credited yet) for those.
        streams.DEPOSITS: StreamSource(
            "fetch_deposits", RecentWindow(KRAKEN_STATUS_KEEPS), timedelta(days=1), refresh_pending=True
        ),
        streams.WITHDRAWALS: StreamSource(
            "fetch_withdrawals", RecentWindow(KRAKEN_STATUS_KEEPS), timedelta(days=1), refresh_pending=True
        ),
        # TradesHistory: every pair at once, 50 per page by offset, newest first, with `count`.
        streams.TRADES: StreamSource("fetch_my_trades", OffsetPages(50, "result.count"), timedelta(days=1)),
    },
    # GetApiKeyInfo (no permission needed) names the account by its `iban` (docs.kraken.com, Get API
    # Key Info, response example); Balance names nothing.
    identity=AccountIdentity("private_post_getapikeyinfo", "result.iban"),
    # support.kraken.com "What are the API rate limits?": the Starter tier's counter (the lowest):
    # at most 15, -0.33 per second; ledger and trade history calls +2, other private calls +1.
    call_counter=CallCounter(
        limit=15,
        decay_per_second=0.33,
        costs={"/Ledgers": 2, "/QueryLedgers": 2, "/TradesHistory": 2, "/QueryTrades": 2},
        counted_prefix="/0/private/",
    ),
    transfers_from_ledger=True,
    answer_shapes=(
        AnswerShape("/0/public/AssetPairs", "object", _kraken_result()),
        AnswerShape("/0/public/Assets", "object", _kraken_result()),
        AnswerShape("/0/private/Balance", "object", _kraken_result()),
        AnswerShape("/0/private/BalanceEx", "object", _kraken_result()),
        AnswerShape(
            "/0/private/TradesHistory", "object", _kraken_result(("trades", "object"), ("count", "value"))
        ),
        AnswerShape("/0/private/Ledgers", "object", _kraken_result(("ledger", "object"), ("count", "value"))),
        AnswerShape("/0/private/QueryLedgers", "object", _kraken_result()),
        AnswerShape("/0/private/DepositStatus", "object", (("result", "list"),)),
        AnswerShape("/0/private/WithdrawStatus", "object", (("result", "list"),)),
        AnswerShape("/0/private/GetApiKeyInfo", "object", _kraken_result()),
    ),
)


def _okx_data(path: str) -> AnswerShape:
    # Every OKX answer is {"code": "0", "msg": "", "data": [...]}; ccxt raises on other codes
    # before this check.
    return AnswerShape(path, "object", (("code", "value"), ("data", "list")))


OKX = ExchangeProfile(
    exchange="okx",
    sources={
        # asset/deposit-history and withdrawal-history: newest first, 100 per page, `after` = "records
        # earlier than this ts", `before` = "later than" (ccxt sends since as before, until as after).
        streams.DEPOSITS: StreamSource(
            "fetch_deposits",
            CursorPages(100, "after", "data.-1.ts", overlap_ms=1),
            timedelta(days=1),
            refresh_pending=True,
        ),
        streams.WITHDRAWALS: StreamSource(
            "fetch_withdrawals",
            CursorPages(100, "after", "data.-1.ts", overlap_ms=1),
            timedelta(days=1),
            refresh_pending=True,
        ),
        # trade/fills-history: the last 3 months only ("Retrieve recently-filled transaction details
        # in the last 3 months"), every spot instrument at once, newest first, 100 per page, `after`
        # = the last fill's billId, begin/end filter by time.
        streams.TRADES: StreamSource(
            "fetch_my_trades",
            CursorPages(100, "after", "data.-1.billId"),
            timedelta(days=1),
            retention=timedelta(days=90),
        ),
        # account/bills-archive: the last 3 months, newest first, 100 per page by `after` = billId.
        # ccxt's fetch_ledger sends no begin, so pages are walked back to the window's start.
        # Both re-read a day: like every exchange here, OKX may record an entry after later ones.
        streams.LEDGER: StreamSource(
            "fetch_ledger",
            CursorPages(100, "after", "data.-1.billId", filters_time=False),
            timedelta(days=1),
            retention=timedelta(days=90),
        ),
    },
    # account/config names the key's account by `uid` (and its permissions and IP binding).
    identity=AccountIdentity("private_get_account_config", "data.0.uid"),
    ledger_amount_is_net=True,
    error_keys=("code", "msg"),
    answer_shapes=(
        _okx_data("/api/v5/public/instruments"),
        _okx_data("/api/v5/account/balance"),
        _okx_data("/api/v5/account/config"),
        _okx_data("/api/v5/trade/fills-history"),
        _okx_data("/api/v5/account/bills-archive"),
        _okx_data("/api/v5/asset/deposit-history"),
        _okx_data("/api/v5/asset/withdrawal-history"),
    ),
    ccxt_options={
        "fetchMarkets": {"types": ["spot"]},
        "fetchLedger": {"method": "privateGetAccountBillsArchive"},
    },
    # asset/currencies is a private call per load_markets; markets carry all we need.
    ccxt_has={"fetchCurrencies": False},
)


COINBASE = ExchangeProfile(
    exchange="coinbase",
    sources={
        # GET /v2/accounts/{id}/transactions: one list per currency account (wallet), newest first,
        # 100 per page, `starting_after` = pagination.next_starting_after (null on the last page).
        # It holds trades, transfers (send, fiat_deposit, fiat_withdrawal) and rewards: its
        # transfers are stored as deposits and withdrawals too. ccxt sends no time filter.
        # Re-read from the oldest pending transfer: a send's status changes in place.
        streams.LEDGER: StreamSource(
            "fetch_ledger",
            CursorPages(
                100,
                "starting_after",
                "pagination.next_starting_after",
                per_currency=True,
                filters_time=False,
                short_page_ends=False,
            ),
            timedelta(days=1),
            refresh_pending=True,
            # ccxt's parse_transaction reads a fiat withdrawal's positive subtotal as a deposit.
            transfer_types={"send": None, "fiat_deposit": "deposit", "fiat_withdrawal": "withdrawal"},
        ),
        # GET /api/v3/brokerage/orders/historical/fills: every product at once, newest first,
        # `cursor` from the answer ("" on the last page), start/end_sequence_timestamp by time.
        streams.TRADES: StreamSource(
            "fetch_my_trades", CursorPages(250, "cursor", "cursor", short_page_ends=False), timedelta(days=1)
        ),
    },
    # GET /v2/user names the user (data.id), who owns every wallet a key can see.
    identity=AccountIdentity("v2_private_get_user", "data.id"),
    # v3 accounts (ccxt's default is v2, which shows totals only): free and held apart, and every
    # wallet the user has, empty ones included, so each wallet's transactions are read.
    ccxt_options={"fetchBalance": "v3PrivateGetBrokerageAccounts"},
    accounts_in_balance="info.accounts",
    answer_shapes=(
        AnswerShape("/api/v3/brokerage/market/products", "object", (("products", "list"),)),
        AnswerShape("/api/v3/brokerage/accounts", "object", (("accounts", "list"),)),
        AnswerShape("/api/v3/brokerage/orders/historical/fills", "object", (("fills", "list"),)),
        AnswerShape("/api/v3/brokerage/key_permissions", "object"),
        AnswerShape("/api/v3/brokerage/transaction_summary", "object", (("fee_tier", "object"),)),
        AnswerShape("/v2/currencies", "object", (("data", "list"),)),
        AnswerShape("/v2/currencies/crypto", "object", (("data", "list"),)),
        AnswerShape("/v2/exchange-rates", "object", (("data.rates", "object"),)),
        AnswerShape("/transactions", "object", (("data", "list"), ("pagination", "object"))),
        AnswerShape("/v2/user", "object", (("data", "object"),)),
    ),
)


def identity_in(identity: AccountIdentity, answer: Any) -> str | None:
    """The account identity an answer holds (None where it holds none)."""
    value = value_at(answer, identity.path)
    return None if value in (None, "") else str(value)


PROFILES: dict[str, ExchangeProfile] = {p.exchange: p for p in (BINANCE, KRAKEN, OKX, COINBASE)}


def get_profile(exchange: str) -> ExchangeProfile:
    try:
        return PROFILES[exchange]
    except KeyError:
        raise KeyError(
            f"exchange-sync has no profile for exchange {exchange!r} yet (supported: {', '.join(PROFILES)})"
        ) from None

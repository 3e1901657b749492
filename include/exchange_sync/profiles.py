"""Exchange profiles: what ccxt does not hide about each exchange, kept as data.

One profile per exchange says which streams exist, how each is paged and windowed, and which ccxt
options keep requests to the minimum. The importer reads these; it never branches on exchange ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from exchange_sync import streams
from exchange_sync.hooks.answers import AnswerShape

TradeCursor = Literal["from_id"]


@dataclass(frozen=True)
class ExchangeProfile:
    exchange: str
    streams: tuple[str, ...]
    # Trades: Binance needs a symbol per request and pages by trade id (`fromId`), which also
    # sidesteps its 24 h startTime/endTime limit.
    trades_symbol_required: bool
    trades_cursor: TradeCursor
    trades_page_limit: int
    # Deposits/withdrawals: the widest startTime..endTime window one request may ask for, and the
    # page size within it.
    transfer_window: timedelta
    transfer_page_limit: int
    # Re-read this much before the stored cursor: exchanges record some transfers late.
    transfer_lookback: timedelta
    ccxt_options: dict[str, Any] = field(default_factory=dict)
    # How far back the exchange keeps history (None: no documented limit).
    history_limit: timedelta | None = None
    # The field of the balance answer's raw `info` that names the exchange account (to refuse keys
    # of another account after a rotation).
    account_uid_field: str | None = None
    # What each endpoint's successful answer looks like (checked before ccxt parses it, see
    # hooks/answers.py); endpoints not listed must still answer JSON.
    answer_shapes: tuple[AnswerShape, ...] = ()


BINANCE = ExchangeProfile(
    exchange="binance",
    streams=(streams.BALANCES, streams.TRADES, streams.DEPOSITS, streams.WITHDRAWALS),
    trades_symbol_required=True,
    trades_cursor="from_id",
    trades_page_limit=1000,  # GET /api/v3/myTrades: "Default 500; max 1000."
    transfer_window=timedelta(days=90),  # capital/deposit/hisrec and withdraw/history: 90-day windows
    transfer_page_limit=1000,
    transfer_lookback=timedelta(days=1),
    account_uid_field="uid",  # GET /api/v3/account answers with the account's uid
    answer_shapes=(
        AnswerShape("/api/v3/exchangeInfo", "object", (("symbols", "list"),)),
        AnswerShape("/api/v3/account", "object", (("balances", "list"),)),
        AnswerShape("/api/v3/myTrades", "list"),
        AnswerShape("/sapi/v1/capital/deposit/hisrec", "list"),
        AnswerShape("/sapi/v1/capital/withdraw/history", "list"),
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

PROFILES: dict[str, ExchangeProfile] = {p.exchange: p for p in (BINANCE,)}


def get_profile(exchange: str) -> ExchangeProfile:
    try:
        return PROFILES[exchange]
    except KeyError:
        raise KeyError(
            f"exchange-sync has no profile for exchange {exchange!r} yet (supported: {', '.join(PROFILES)})"
        ) from None

"""The warehouse tables (current version). Changes go through migrations.py."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from exchange_sync.warehouse.types import ExactDecimal, UTCDateTime

metadata = MetaData()

# Exchange-native ids are the keys, so re-importing a page upserts instead of duplicating.
trades = Table(
    "trades",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("symbol", String(64), primary_key=True),  # unified, e.g. BTC/USDT
    Column("trade_id", String(128), primary_key=True),
    Column("exchange", String(64), nullable=False),
    Column("order_id", String(128)),
    Column("side", String(8), nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("cost", ExactDecimal),
    Column("fee_cost", ExactDecimal),
    Column("fee_currency", String(32)),
    Column("taker_or_maker", String(8)),
    Column("traded_at", UTCDateTime, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
)

transfers = Table(
    "transfers",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),  # deposit | withdrawal
    Column("transfer_id", String(128), primary_key=True),
    Column("exchange", String(64), nullable=False),
    Column("currency", String(32), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("fee", ExactDecimal),
    Column("network", String(64)),
    Column("address", String(256)),
    Column("txid", String(256)),
    Column("status", String(32)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
)

balance_snapshots = Table(
    "balance_snapshots",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("taken_at", UTCDateTime, primary_key=True),
    Column("asset", String(32), primary_key=True),
    Column("exchange", String(64), nullable=False),
    Column("free", ExactDecimal, nullable=False),
    Column("used", ExactDecimal, nullable=False),
    Column("total", ExactDecimal, nullable=False),
)

# How far each (account, stream[, symbol]) is imported. Written in the same transaction as the rows
# it covers, so a crash never leaves the cursor ahead of (or behind) the data.
cursors = Table(
    "cursors",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("scope", String(64), primary_key=True),  # the symbol for trades, '' otherwise
    Column("position", String(128)),  # exchange paging position, e.g. the last trade id
    Column("synced_until", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per account: the outcome of its latest import attempt.
account_sync = Table(
    "account_sync",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("exchange", String(64), nullable=False),
    Column("last_attempt_at", UTCDateTime, nullable=False),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_requests", Integer),
)

"""The warehouse tables (current version). Changes go through migrations.py."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text, text

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
    # -- version 6: where the row came from: "api", or "csv:<csv_imports.id>:<line>"
    Column("source", String(64), nullable=False, server_default="api"),
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
    Column("source", String(64), nullable=False, server_default="api"),  # version 6
)

# -- version 3: the ledger (every balance change, where the exchange has one) -----------------------

ledger = Table(
    "ledger",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("ledger_id", String(128), primary_key=True),  # the exchange's id of the entry
    Column("exchange", String(64), nullable=False),
    Column("refid", String(128)),  # the trade, deposit or withdrawal the entry belongs to
    Column("type", String(32), nullable=False),  # the exchange's own: trade, deposit, staking, ...
    Column("currency", String(32), nullable=False),
    Column("amount", ExactDecimal, nullable=False),  # signed: negative leaves the balance
    Column("fee", ExactDecimal),
    Column("balance", ExactDecimal),  # the currency's balance after the entry
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("source", String(64), nullable=False, server_default="api"),  # version 6
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

# -- version 2: broken connections (incidents, notifications, key history, account state) -----

# One row per exchange account exchange-sync knows: who it is at the exchange, and whether a user
# froze it (skipped without alerts, e.g. before closing the account).
accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("exchange", String(64), nullable=False),
    Column(
        "exchange_uid", String(128)
    ),  # the exchange's own account id, to recognise keys of another account
    Column("frozen_at", UTCDateTime),
    Column("frozen_reason", Text),
)

# A broken connection that needs a person. At most one open per account (partial unique index).
incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("exchange", String(64), nullable=False),
    Column("conn_id", String(250), nullable=False),
    Column("cause", String(32), nullable=False),
    Column("candidates", Text, nullable=False),  # JSON list, best first
    Column("title", Text, nullable=False),
    Column("remediation", Text, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON: status, code, message, ccxt class, probes
    Column("key_fingerprint", String(64)),  # the failing key version (never the key itself)
    Column("opened_at", UTCDateTime, nullable=False),
    Column("stale_since", UTCDateTime),  # the last successful import before the failure
    Column("last_good_cursors", Text, nullable=False),  # JSON {stream: synced_until}
    Column("state", String(16), nullable=False),  # open | recovering | closed
    Column("closed_at", UTCDateTime),
    Column("resolution", String(32)),  # recovered | frozen
    Column("backfilled_rows", Integer),
    Column("backfill_from", UTCDateTime),
    Column("backfill_to", UTCDateTime),
    Index(
        "incidents_one_open_per_account",
        "account_id",
        unique=True,
        sqlite_where=text("closed_at IS NULL"),
        postgresql_where=text("closed_at IS NULL"),
    ),
)

# The notification outbox: a message is written here in the same transaction as the state change
# that calls for it, then delivered (at least once; a claim prevents two senders).
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("incident_id", Integer),
    Column("account_id", String(64), nullable=False),
    Column(
        "kind", String(32), nullable=False
    ),  # alert | reminder | retention_warning | recovered | wrong_account | new_key_rejected
    Column("target", String(250), nullable=False),  # an Apprise connection id; one row per target
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
)

# Every credential version an account has used, by fingerprint (never the secret).
key_versions = Table(
    "key_versions",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("fingerprint", String(64), primary_key=True),
    Column("first_used_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=False),
    Column("last_ok_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Column("failure_cause", String(32)),
    Column("replaced_at", UTCDateTime),
    Column("exchange_uid", String(128)),
    # -- version 4: what the exchange says the key may do, read while it is healthy (key_audit.py)
    Column("facts", Text),  # JSON of diagnosis.facts.KeyFacts
    Column("facts_read_at", UTCDateTime),
)

# -- version 5: what the clients of one exchange share across task processes and workers -----------

# The exchange's market list (public, the same for every account), loaded once and handed to later
# clients (hooks/shared.py), so a backfill's chunks do not each download it.
market_lists = Table(
    "market_lists",
    metadata,
    Column("exchange", String(64), primary_key=True),
    Column("base_url", String(256), primary_key=True),  # "" for the real exchange
    Column("loaded_at", UTCDateTime, nullable=False),
    Column("markets", Text, nullable=False),  # JSON: ccxt's markets by symbol
    Column("currencies", Text, nullable=False),  # JSON: ccxt's currencies by code
    Column("helpers", Text, nullable=False),  # JSON: client.options the market list fills in
)

# One request budget per exchange (and base URL), shared by concurrent clients: the time (µs
# since the epoch) from which the next request may go, reserved atomically per request.
rate_budgets = Table(
    "rate_budgets",
    metadata,
    Column("exchange", String(64), primary_key=True),
    Column("base_url", String(256), primary_key=True),
    Column("next_at_us", BigInteger, nullable=False),
)

# -- version 6: the exchanges' own CSV exports (csv_import/) ----------------------------------------

# One row per import of a file: what it was and what became of its rows. Rows it stored say
# "csv:<id>:<line>" in their `source`.
csv_imports = Table(
    "csv_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("exchange", String(64), nullable=False),
    Column("file_name", String(256), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(64), nullable=False),
    Column("time_precision_ms", Integer, nullable=False),  # of the file's times: the matching rule's
    Column("imported_at", UTCDateTime, nullable=False),
    Column("rows_read", Integer, nullable=False),  # data lines (blank lines not counted)
    Column("rows_stored", Integer, nullable=False),  # new rows in trades, transfers or ledger
    Column("rows_unchanged", Integer, nullable=False),  # stored already by an earlier import
    Column("rows_rejected", Integer, nullable=False),  # in csv_rejects, each with its reason
)

# Every line of an imported file that did not become a row, with why: nothing is dropped silently.
# Also a stored CSV row that the API delivered later (reason "superseded").
csv_rejects = Table(
    "csv_rejects",
    metadata,
    Column("import_id", Integer, primary_key=True),
    Column("line", Integer, primary_key=True),  # 1-based line of the file
    Column("account_id", String(64), nullable=False),
    Column("reason", String(32), nullable=False),  # csv_import.values.REASONS
    Column("detail", Text, nullable=False),  # names the column and value, or the row it duplicates
    Column("raw", Text, nullable=False),  # the line's fields as read (never a secret: exports hold none)
    Column("rejected_at", UTCDateTime, nullable=False),
)

# -- version 7: budgets an exchange counts per account in fixed windows -----------------------------

# An endpoint's own budget for one account (hooks/shared.py OwnBudget), counted as the exchange
# counts it: the weight used in the window that starts at window_start_us (µs since the epoch).
window_budgets = Table(
    "window_budgets",
    metadata,
    Column("exchange", String(64), primary_key=True),
    Column("schedule", String(256), primary_key=True),  # base URL | endpoint | hash of the API key
    Column("window_start_us", BigInteger, nullable=False),
    Column("used", BigInteger, nullable=False),
)

"""The imported history as balance changes: one `Movement` per asset a stored row moves.

Which rows count depends on what the exchange's API records, so nothing is counted twice:

* **ledger basis**: where the exchange's ledger is the complete record of balance changes (its
  profile has a ledger stream, and the account imports it: Kraken's ledger, OKX's bills,
  Coinbase's transactions), only the ledger counts, `amount - fee` per entry (OKX: `amount`,
  already net of the fee). Its trades and transfers are the same balance changes again.
* **trades and transfers basis** (Binance, or an account that leaves its ledger out): a buy adds
  `amount` of the base and takes `cost` of the quote, a sell the reverse, and its fee is taken in
  `fee_currency`; a deposit adds `amount` once `ok`; a withdrawal takes `amount + fee` unless it
  ended `failed` or `canceled` (the exchange debits it when requested and refunds it then). Ledger
  rows (what a CSV import stores of flows no API stream returns: convert, dust, staking rewards)
  count too, `amount - fee`.

Every row counts at its own time (a transfer at its creation, with its current status). CSV rows
count like API rows: the CSV import's matching rule already kept them from being stored twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Connection

from exchange_sync import streams
from exchange_sync.profiles import PROFILES
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import schema

LEDGER_BASIS = "ledger"
TRADES_AND_TRANSFERS_BASIS = "trades_and_transfers"
# A withdrawal that ended so was refunded: it never left the balance.
REFUNDED = ("failed", "canceled")
ZERO = Decimal(0)


class Movement(NamedTuple):
    # A tuple, not a dataclass: an account of 100,000 trades has 300,000 of them (`status` reads
    # them on every call). Sorted by (time, debit): at one moment credits come first.
    time: datetime
    debit: bool  # change < 0
    table: str  # trades | transfers | ledger
    row_id: str  # the row's id in its table (trade_id, transfer_id, ledger_id)
    what: str  # "BTC/USDT sell", "withdrawal", the ledger entry's type
    source: str  # "api" or "csv:<import id>:<line>"
    asset: str
    change: Decimal  # signed
    balance: Decimal | None = None  # the exchange's balance of `asset` after it (ledgers that say)

    def to_json(self) -> dict[str, str]:
        return {
            "table": self.table,
            "id": self.row_id,
            "what": self.what,
            "source": self.source,
            "time": self.time.isoformat(),
        }


def basis(account: AccountConfig) -> str:
    profile = PROFILES.get(account.exchange)
    has_ledger = profile is not None and streams.LEDGER in profile.sources
    return LEDGER_BASIS if has_ledger and streams.LEDGER in account.streams else TRADES_AND_TRANSFERS_BASIS


def movements(conn: Connection, account: AccountConfig) -> tuple[str, list[Movement]]:
    """(basis, every balance change of the account's stored history, oldest first; at one moment
    credits before debits, so only a debit that no credit of that moment covers goes negative)."""
    chosen = basis(account)
    profile = PROFILES.get(account.exchange)
    found = list(_ledger(conn, account.id, net=profile is not None and profile.ledger_amount_is_net))
    if chosen == TRADES_AND_TRANSFERS_BASIS:
        found += _trades(conn, account.id)
        found += _transfers(conn, account.id)
    found.sort(key=itemgetter(0, 1))
    return chosen, found


def _raw(*columns: Any) -> list[Any]:
    """Columns read as the driver returns them: the exact-decimal and UTC column types' own
    conversions cost more than the whole reconciliation at 100,000 rows. Amounts are canonical
    decimal strings on SQLite and NUMERIC (Decimal) on PostgreSQL: Decimal() of either is exact."""
    return [type_coerce(c, String) for c in columns]


def _utc(value: datetime | str) -> datetime:
    # SQLite: naive UTC text ("2025-01-01 00:00:00.000000"); PostgreSQL: an aware datetime.
    if isinstance(value, str):
        return datetime.fromisoformat(f"{value}+00:00")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _decimal(value: Decimal | str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _ledger(conn: Connection, account_id: str, net: bool) -> list[Movement]:
    c = schema.ledger.c
    amounts = _raw(c.amount, c.fee, c.balance, c.occurred_at)
    query = select(c.ledger_id, c.type, c.currency, *amounts, c.source).where(c.account_id == account_id)
    found = []
    for ledger_id, kind, currency, amount, fee, balance, time, source in conn.execute(query).all():
        change = Decimal(amount) if net or fee is None else Decimal(amount) - Decimal(fee)
        found.append(
            Movement(
                _utc(time), change < 0, "ledger", ledger_id, kind, source, currency, change, _decimal(balance)
            )
        )
    return found


def _trades(conn: Connection, account_id: str) -> list[Movement]:
    c = schema.trades.c
    query = select(
        c.trade_id,
        c.symbol,
        c.side,
        *_raw(c.price, c.amount, c.cost, c.fee_cost, c.traded_at),
        c.fee_currency,
        c.source,
    ).where(c.account_id == account_id)
    found = []
    add = found.append
    for trade_id, symbol, side, price, amount, cost, fee, time, fee_currency, source in conn.execute(
        query
    ).all():
        base, quote = symbol.split(":")[0].split("/")
        moment, amount = _utc(time), Decimal(amount)
        cost = Decimal(price) * amount if cost is None else Decimal(cost)
        what = f"{symbol} {side}"
        if side == "buy":
            add(Movement(moment, False, "trades", trade_id, what, source, base, amount))
            add(Movement(moment, True, "trades", trade_id, what, source, quote, -cost))
        else:
            add(Movement(moment, True, "trades", trade_id, what, source, base, -amount))
            add(Movement(moment, False, "trades", trade_id, what, source, quote, cost))
        if fee is not None and fee_currency and (fee := Decimal(fee)):
            add(Movement(moment, fee > 0, "trades", trade_id, what, source, fee_currency, -fee))
    return found


def _transfers(conn: Connection, account_id: str) -> list[Movement]:
    c = schema.transfers.c
    amounts = _raw(c.amount, c.fee, c.occurred_at)
    query = select(c.transfer_id, c.kind, c.currency, *amounts, c.status, c.source).where(
        c.account_id == account_id
    )
    found = []
    for transfer_id, kind, currency, amount, fee, time, status, source in conn.execute(query).all():
        if kind == "deposit" and status == "ok":
            change = Decimal(amount)
        elif kind == "withdrawal" and status not in REFUNDED:
            change = -(Decimal(amount) + (ZERO if fee is None else Decimal(fee)))
        else:
            continue
        found.append(
            Movement(_utc(time), change < 0, "transfers", transfer_id, kind, source, currency, change)
        )
    return found

"""OKX "Funding account history": the funding account's bills, as the website downloads them
(simulator/protocols/okx/exports.py describes the file and its sources). Read versions:
``id,Time,Type,Amount,Before Balance,After Balance,Fee,Symbol``, the same with an unnamed column
after `id`, and (2025) without `Fee`.

Deposits and withdrawals become transfers rows. `id` is a funding-bill number, not the API's
depId / wdId, so they get content ids and the matching rule (kind, currency, amount, 1 s). A
"Withdrawal" line is the debit (Amount = -amount, Fee the network fee, negative or not); its
status is "ok" unless a later refund line of the same currency gives back amount + fee: then it
ended "canceled" ("Canceled withdrawal") or "failed" ("Failed withdrawal"), and the refund line
is `covered_by_export` (its withdrawal's row says it). Deposits are lines only once credited
("ok"): a deposit still pending is not in the file (the API's deposit history has it). Transfers
between OKX's own accounts and the funding side of Earn are `not_a_balance_change`; Earn's
"Staking Yield" and "Fee rebate" credits are ledger rows of that type (content ids).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from exchange_sync.csv_import.formats.base import (
    CsvFormat,
    ParseContext,
    Record,
    Rejection,
    ledger_entry,
    transfer,
)
from exchange_sync.csv_import.formats.okx_trading import TIMES
from exchange_sync.csv_import.values import Row, RowRejected

REFUNDS = {"canceled withdrawal": "canceled", "failed withdrawal": "failed"}
# Credits no API stream of the importer reads (Earn and rebates are OKX's other accounts' bills):
# ledger rows of that type, by content (BittyTax's OKX funding types).
EARNINGS = ("staking yield", "fee rebate")
# Moves between the account's own OKX accounts (BittyTax's list of OKX funding types).
INTERNAL = ("from unified trading account", "to unified trading account", "from trading account",
            "to trading account", "stake", "redeem staking", "savings subscription",
            "savings redemption")  # fmt: skip


@dataclass
class Withdrawal:
    row: Row
    values: dict
    refund: Decimal  # what a refund gives back: amount + fee


def _amount(row: Row, column: str) -> Decimal:
    value = row.amount(column)
    assert value is not None
    return value


def parse(rows: Sequence[Row], context: ParseContext) -> Iterator[Record | Rejection]:
    withdrawals: list[Withdrawal] = []
    out: list[tuple[int, Record | Rejection]] = []
    # Oldest first, so a refund finds the withdrawal it gives back (the file lists newest first).
    for row in sorted(rows, key=_moment):
        try:
            out.append((row.line, _line(row, context, withdrawals)))
        except RowRejected as rejected:
            out.append((row.line, Rejection(row.line, rejected.reason, rejected.detail, row.fields)))
    records = {w.row.line: transfer(w.row.line, **w.values) for w in withdrawals}
    for line, item in sorted(out, key=lambda pair: pair[0]):
        yield records.get(line, item)  # type: ignore[arg-type]


def _moment(row: Row) -> tuple[str, int]:
    try:
        return row.time("Time", TIMES).isoformat(), row.line
    except RowRejected:
        return "~", row.line  # after every time: its own line rejects it


def _line(row: Row, context: ParseContext, withdrawals: list[Withdrawal]) -> Record | Rejection:
    kind = (row.text("Type") or "").strip()
    occurred_at = row.time("Time", TIMES)
    currency = context.currency(row.text("Symbol") or "")
    amount = _amount(row, "Amount")
    fee = row.amount("Fee", optional=True)
    fee = abs(fee) if fee is not None else None
    lowered = kind.lower()
    if lowered == "deposit":
        values = {"currency": currency, "amount": abs(amount), "occurred_at": occurred_at}
        return transfer(row.line, kind="deposit", fee=Decimal(0) if fee is None else fee, **values)
    if lowered == "withdrawal":
        values = {
            "kind": "withdrawal",
            "currency": currency,
            "amount": abs(amount),
            "fee": fee,
            "occurred_at": occurred_at,
            "status": "ok",
        }
        withdrawals.append(Withdrawal(row, values, abs(amount) + (fee or 0)))
        return transfer(row.line, **values)
    if lowered in REFUNDS:
        refunded = next(
            (
                w
                for w in reversed(withdrawals)
                if w.values["status"] == "ok"
                and w.values["currency"] == currency
                and w.refund == abs(amount)
                and w.values["occurred_at"] <= occurred_at
            ),
            None,
        )
        if refunded is None:
            raise RowRejected(
                "unknown_operation", f"{kind!r} of {amount} {currency} refunds no withdrawal in this file"
            )
        refunded.values["status"] = REFUNDS[lowered]
        detail = f"the refund of the withdrawal on line {refunded.row.line}, stored {REFUNDS[lowered]}"
        return Rejection(row.line, "covered_by_export", detail, row.fields)
    if lowered in EARNINGS:
        return ledger_entry(row.line, type=kind, currency=currency, amount=amount, occurred_at=occurred_at)
    if lowered in INTERNAL:
        detail = f"{kind!r} moves {currency} between the account's own wallets"
        raise RowRejected("not_a_balance_change", detail)
    raise RowRejected("unknown_operation", f"column 'Type': {kind!r} is not a type this format knows")


FORMAT = CsvFormat(
    name="okx-funding",
    exchange="okx",
    title="OKX Funding account history (bills)",
    required=("id", "Time", "Type", "Amount", "Before Balance", "After Balance", "Symbol"),
    parse=parse,
    time_precision_ms=1000,
    notes="Assets > Bills > Funding account > Download (CSV); holds deposits once credited.",
)

"""Binance "Deposit History" and "Withdraw History" (Wallet → Transaction History → Deposit /
Withdraw → Export): one line per transfer, the transfers table's rows as ccxt's binance
parse_transaction makes them of the API's deposit and withdrawal lists.

Header (newest, products.md §3): `Date(UTC+0),Coin,Network,Amount,Address,TXID,Status`,
withdrawals with `Fee` after `Amount`. (The older `Date(UTC),Coin,Network,Amount,TransactionFee,
...` is one header for both kinds, told apart only by the file's name: not read.) No transfer id:
content ids, matched to the API's rows by kind, coin, exact amount and the time within the second,
and strictly by the TXID where both have one.
"""

from __future__ import annotations

from collections.abc import Iterator

from exchange_sync.csv_import.formats.base import CsvFormat, ParseContext, Record, each_line, transfer
from exchange_sync.csv_import.formats.binance_values import TIME_PRECISION_MS, TIMES, currency
from exchange_sync.csv_import.values import Row, RowRejected

# The website's status words -> ccxt binance parse_transaction_status_by_type of the same native
# status (wallet docs: deposit 0 Pending, 1 Completed/Success, 2 Rejected, 6 credited but cannot
# withdraw; withdrawal 0 Email Sent, 1 Cancelled, 2 Awaiting Approval, 3 Rejected, 4 Processing,
# 5 Failure, 6 Completed). ccxt has no word for a rejected deposit and passes its code "2" through:
# the API's row says "2", so the export's must too, or the two would disagree on one transfer.
STATUSES = {
    "deposit": {
        "pending": "pending",
        "completed": "ok",
        "success": "ok",
        "successful": "ok",
        "rejected": "2",
    },
    "withdrawal": {
        "email sent": "pending",
        "awaiting approval": "pending",
        "processing": "pending",
        "pending": "pending",
        "cancelled": "canceled",
        "canceled": "canceled",
        "rejected": "failed",
        "failure": "failed",
        "failed": "failed",
        "completed": "ok",
    },
}
INTERNAL = "Internal transfer "  # ccxt strips it from an internal transfer's txId; so does this


def _parser(kind: str):
    def parse(row: Row, context: ParseContext) -> Iterator[Record]:
        word = row.text("Status") or ""
        status = STATUSES[kind].get(word.lower())
        if status is None:
            known = ", ".join(sorted(STATUSES[kind]))
            raise RowRejected("unknown_operation", f"column 'Status': {word!r} is not one of {known}")
        txid = (row.text("TXID", optional=True) or "").removeprefix(INTERNAL)
        yield transfer(
            row.line,
            kind=kind,
            currency=currency(context, (row.text("Coin") or "").upper()),
            amount=row.amount("Amount"),
            # The deposit list has no fee (ccxt: None); a withdrawal's is in the coin withdrawn.
            fee=row.amount("Fee") if kind == "withdrawal" else None,
            occurred_at=row.time("Date(UTC+0)", TIMES),
            status=status,
            network=row.text("Network", optional=True),
            address=row.text("Address", optional=True),
            txid=txid or None,
        )

    return parse


COLUMNS = ("Date(UTC+0)", "Coin", "Network", "Amount", "Address", "TXID", "Status")
DEPOSITS = CsvFormat(
    name="binance_deposits",
    exchange="binance",
    title="Binance Deposit History",
    required=COLUMNS,
    forbidden=("Fee",),
    parse=each_line(_parser("deposit")),
    time_precision_ms=TIME_PRECISION_MS,
    notes="Wallet → Transaction History → Deposit → Export.",
)
WITHDRAWALS = CsvFormat(
    name="binance_withdrawals",
    exchange="binance",
    title="Binance Withdraw History",
    required=(*COLUMNS[:4], "Fee", *COLUMNS[4:]),
    parse=each_line(_parser("withdrawal")),
    time_precision_ms=TIME_PRECISION_MS,
    notes="Wallet → Transaction History → Withdraw → Export.",
)

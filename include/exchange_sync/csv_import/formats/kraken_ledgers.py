"""Kraken's ledgers.csv (History > Export > Ledgers): every balance change of the account, one
line per entry, with the API's own ids (txid = the Ledgers API's ledger id, refid = the trade's
txid or the funding reference), so each line is deduplicated by id. Its deposit and withdrawal
entries are also the account's transfers (`derives_transfers`), as on the API path.

Header versions read (products.md §3; Kraken lets the user leave columns out, so only the columns
an entry cannot do without identify it): the original
`txid,refid,time,type,subtype,aclass,asset,amount,fee,balance`; + `wallet` after asset; +
`amountusd` at the end; `...,aclass,subclass,asset,wallet,...` (the newest verified, which the
simulator writes); + `amountusd,feeusd,balanceusd,feecurrency`. Extra columns are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator

from exchange_sync.csv_import.formats import kraken_names
from exchange_sync.csv_import.formats.base import CsvFormat, ParseContext, Record, each_line, ledger_entry
from exchange_sync.csv_import.values import Row, RowRejected

# The Ledgers API's entry types (docs.kraken.com "Get Ledgers Info", `type`): the API import
# stores each as a ledger row of that type, and so does this format.
TYPES = frozenset(
    {"trade", "deposit", "withdrawal", "transfer", "margin", "adjustment", "rollover", "credit", "settled",
     "staking", "dividend", "sale", "nfttrade", "spend", "receive", "earn"}
)  # fmt: skip


def _line(row: Row, context: ParseContext) -> Iterator[Record]:
    kind = (row.text("type") or "").lower()
    if kind not in TYPES:
        known = ", ".join(sorted(TYPES))
        raise RowRejected("unknown_operation", f"column 'type': {kind!r} is not one of {known}")
    amount, fee = row.amount("amount"), row.amount("fee")
    if not amount and not fee:
        raise RowRejected("not_a_balance_change", f"a {kind} entry that moves nothing (amount and fee 0)")
    yield ledger_entry(
        row.line,
        type=kind,
        currency=kraken_names.currency(row.text("asset") or "", context),
        amount=amount,
        fee=fee,
        balance=row.amount("balance", optional=True),
        occurred_at=kraken_names.api_time(kraken_names.seconds(row)),
        ledger_id=row.text("txid"),
        refid=row.text("refid", optional=True),
    )


FORMAT = CsvFormat(
    name="kraken-ledgers",
    exchange="kraken",
    title="Kraken ledgers.csv (History > Export > Ledgers)",
    required=("txid", "refid", "time", "type", "asset", "amount", "fee"),
    parse=each_line(_line),
    time_precision_ms=1,  # 1/10,000 s in the newer files; deduplicated by id anyway
    notes="Export every field (the default); a file without fee is not read.",
    derives_transfers=True,
)

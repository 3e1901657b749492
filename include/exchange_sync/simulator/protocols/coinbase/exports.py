"""Coinbase's "Transaction report" (coinbase.com → Statements → Generate report → CSV): the
account's whole history as its v4 layout writes it.

The file starts with a preamble (a sentence about taxes, "Transactions", "User,<name>,<uuid>"),
then the header `ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at
Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes` and one
line per transaction, newest first (BittyTax coinbase.py; third-party fixtures of real files).
Times are whole seconds ("2025-01-18 14:53:48 UTC"); quantities are in the line's asset, signed
(negative: it left the account); Price at Transaction, Subtotal, Total and Fees are values in the
report's currency (USD here), written with its sign ("$441.45411") and not rounded, as real files
show them ("$5.2974493114032").

What each of the simulator's v2 transactions (render.py) becomes:
* a fill (its two `advanced_trade_fill` legs) → one "Advanced Trade Buy"/"Advanced Trade Sell"
  line in the base asset, whose Notes name the product, the fill price and the quote amount that
  moved ("Bought 0.00424956 BTC for 446.7515585950032 USDC on BTC-USDC at 103882.31 USDC/BTC":
  the quote leg, fee included; a sale's is net of the fee);
* `send` in → "Receive"; `send` out → "Send" (quantity = what was sent, the network fee in Fees;
  Notes name the address); `fiat_deposit` → "Deposit"; `fiat_withdrawal` → "Withdrawal" (quantity =
  what left the wallet, fee included, the fee in Fees); `staking_reward` → "Staking Income";
  the refund of a failed or canceled send (`tx`) → "Send Reversal" whose Notes name the send's ID.

Assumptions where the real file is not documented (simulator conventions, README "Coinbase"):
* ID is the v2 transaction id the API's ledger uses (real files show 24-hex ids the APIs do not
  name); a fill's line carries its base leg's transaction id, and fills have no id of their own
  in the report (no fill id, no order id);
* the report lists every transaction the API lists, pending and failed sends included (it has
  no status column): a withdrawal still pending ends its Notes with "(pending)", one that failed
  or was canceled is followed by its reversal line;
* a fee in Fees is the fee in the line's asset times Price at Transaction, exactly (so Fees /
  Price gives it back).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from exchange_sync.simulator.decimals import canonical
from exchange_sync.simulator.ledger import LedgerEntry, ledger
from exchange_sync.simulator.model import Account, Reward, Trade, Transfer
from exchange_sync.simulator.protocols.coinbase import render

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

REPORT = "transaction_report.csv"
HEADER = (
    "ID",
    "Timestamp",
    "Transaction Type",
    "Asset",
    "Quantity Transacted",
    "Price Currency",
    "Price at Transaction",
    "Subtotal",
    "Total (inclusive of fees and/or spread)",
    "Fees and/or Spread",
    "Notes",
)
PREAMBLE = (
    "You can use this transaction report to inform your likely tax obligations. For US customers, "
    "Sells, Converts, Rewards Income, Coinbase Earn transactions, and Donations are taxable events. "
    "For final tax obligations, please consult your tax advisor.",
    "",
    "Transactions",
)
REPORT_CURRENCY = "USD"
PENDING = " (pending)"  # a withdrawal not completed when the report was made (simulator convention)
SYMBOL = "$"


def transaction_report(world: World, account: Account) -> str:
    lines = [*PREAMBLE, f"User,{account.id},{render.user_id(account)}", ",".join(HEADER)]
    lines += [",".join(_quoted(v) for v in line) for line in reversed(_lines(world, account))]
    return "\n".join(lines) + "\n"


def _lines(world: World, account: Account) -> list[tuple[str, ...]]:
    """Oldest first: one per transaction, one per fill."""
    out = []
    for entry in ledger(account):
        source = entry.source
        if isinstance(source, Trade):
            # The line is the fill's base leg (the report's line is in that wallet, and carries
            # that leg's id); the quote leg is in its Notes.
            if entry.asset == source.symbol.split("/")[0]:
                out.append(_fill(world, account, entry, source))
        elif isinstance(source, Transfer):
            out.append(_transfer(world, account, entry, source))
        elif isinstance(source, Reward):
            out.append(_line(world, account, entry, "Staking Income", entry.amount, Decimal(0), ""))
    return out


def _fill(world: World, account: Account, entry: LedgerEntry, trade: Trade) -> tuple[str, ...]:
    market = world.venue(render.NAME).markets[trade.symbol]
    base, quote = market.base, market.quote
    # The quote leg's change: a buy spends cost + fee, a sale brings cost - fee (fee in the quote).
    moved = trade.cost + trade.fee if trade.is_buyer else trade.cost - trade.fee
    verb = "Bought" if trade.is_buyer else "Sold"
    notes = (
        f"{verb} {canonical(trade.qty)} {base} for {canonical(moved)} {quote} on {market.id} "
        f"at {canonical(trade.price)} {quote}/{base}"
    )
    kind = "Advanced Trade Buy" if trade.is_buyer else "Advanced Trade Sell"
    quantity = trade.qty if trade.is_buyer else -trade.qty
    # Valued at the fill: the base's price in USD is the fill price times the quote's.
    usd = _usd(world, quote)
    return _line(world, account, entry, kind, quantity, trade.fee * usd, notes, price=trade.price * usd)


def _transfer(world: World, account: Account, entry: LedgerEntry, transfer: Transfer) -> tuple[str, ...]:
    if entry.type == "refund":
        send = render.transfer_tx_id(world, account, transfer)
        what = "send" if transfer.network else "withdrawal"
        how = "failed" if transfer.status == "failed" else "was canceled"
        notes = f"Reversal of {send}: the {what} {how}"
        return _line(world, account, entry, "Send Reversal", entry.amount, Decimal(0), notes)
    fee = transfer.fee if transfer.kind == "withdrawal" else Decimal(0)
    if transfer.network:
        if transfer.kind == "deposit":
            notes = f"Received {canonical(transfer.amount)} {transfer.asset} from an external account"
            return _line(world, account, entry, "Receive", transfer.amount, fee, notes)
        notes = f"Sent {canonical(transfer.amount)} {transfer.asset} to {transfer.address}"
        notes += PENDING if transfer.pending else ""
        return _line(world, account, entry, "Send", -transfer.amount, fee, notes)
    if transfer.kind == "deposit":
        return _line(world, account, entry, "Deposit", transfer.amount, fee, "Deposit from bank account")
    quantity = -(transfer.amount + fee)
    notes = "Withdrawal to bank account" + (PENDING if transfer.pending else "")
    return _line(world, account, entry, "Withdrawal", quantity, fee, notes)


def _line(
    world: World,
    account: Account,
    entry: LedgerEntry,
    kind: str,
    quantity: Decimal,
    fee: Decimal,
    notes: str,
    *,
    price: Decimal | None = None,
) -> tuple[str, ...]:
    """`fee` in the line's asset, or, where the line is valued at its own `price` (a fill), in
    the report's currency already."""
    fee_value = fee if price is not None else fee * _usd(world, entry.asset)
    price = _usd(world, entry.asset) if price is None else price
    subtotal = abs(quantity) * price
    # Total: what the line cost the user, fees included; a sale's is what it brought, net of them.
    total = subtotal - fee_value if kind == "Advanced Trade Sell" else subtotal + fee_value
    when = datetime.fromtimestamp(_seconds(entry), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        render.tx_id(world, account, entry),
        when,
        kind,
        entry.asset,
        canonical(quantity),
        REPORT_CURRENCY,
        _money(price),
        _money(subtotal),
        _money(total),
        _money(fee_value),
        notes,
    )


def _seconds(entry: LedgerEntry) -> int:
    """The transaction's time (render.tx_created: a deposit's is when it was credited), in whole
    seconds: the report has no finer digits."""
    return int(datetime.fromisoformat(render.tx_created(entry).replace("Z", "+00:00")).timestamp())


def _usd(world: World, asset: str) -> Decimal:
    return world.catalog.assets[asset].usd_ref


def _money(value: Decimal) -> str:
    return f"{SYMBOL}{canonical(value) if value else '0.00'}"


def _quoted(value: str) -> str:
    return f'"{value}"' if "," in value or '"' in value else value

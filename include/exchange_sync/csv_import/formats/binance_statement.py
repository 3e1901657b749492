"""Binance "Transaction History" (Account → Statements → Transaction History → Generate all
statements): one line per balance change of each wallet, `User_ID,UTC_Time,Account,Operation,
Coin,Change,Remark` (older files have no User_ID; both are read).

It repeats trades and transfers as their balance legs ("Transaction Buy" / "Transaction Spend" /
"Transaction Fee", "Deposit", "Withdraw") without price, fee asset or TXID: those are never stored
from here, whatever was imported before, since the whole trade comes from the Spot Trade History
(or the API's myTrades) and the whole transfer from the Deposit / Withdraw History (or the API);
each such line is rejected: `duplicate_of_api` or `covered_by_export`, naming the stored row it
belongs to (binance_legs.py), or that none is stored yet. Moves between the account's
own wallets (Spot ↔ Funding, Earn subscriptions and redemptions) change no total: rejected as
`not_a_balance_change`. The rest (Earn interest, staking rewards, airdrops, distributions,
Convert, dust to BNB, fiat, commissions...) becomes ledger rows, type = the Operation, amount =
the signed Change, with content ids (the matching rule: type, coin, amount, the second). Convert
lines are what the API's conversions stream stores as "Binance Convert" rows too: the rule pairs
them with those, whichever arrives first.
"""

from __future__ import annotations

from collections.abc import Iterator

from exchange_sync.csv_import.formats import binance_legs
from exchange_sync.csv_import.formats.base import CsvFormat, ParseContext, Record, each_line, ledger_entry
from exchange_sync.csv_import.formats.binance_values import TIME_PRECISION_MS, TIMES, currency
from exchange_sync.csv_import.values import Row, RowRejected

TRADE_LEGS = frozenset(
    {"Transaction Buy", "Transaction Spend", "Transaction Sold", "Transaction Revenue", "Transaction Fee",
     "Transaction Related", "Buy", "Sell", "Fee"}
)  # fmt: skip
TRANSFER_LEGS = {"Deposit": "Deposit History", "Withdraw": "Withdraw History"}
# Between the account's own wallets (rotki and BittyTax skip them as not taxable, for that reason).
OWN_WALLETS = frozenset(
    {"transfer_in", "transfer_out", "Savings purchase", "Savings Principal redemption",
     "POS savings purchase", "POS savings redemption", "Staking Purchase", "Staking Redemption",
     "Simple Earn Flexible Subscription", "Simple Earn Flexible Redemption",
     "Simple Earn Locked Subscription", "Simple Earn Locked Redemption",
     "Launchpool Subscription/Redemption", "Launchpad Subscribe"}
)  # fmt: skip
# Balance changes no other export nor API stream holds (rotki's and BittyTax's Operation lists).
FLOWS = frozenset(
    {"Simple Earn Flexible Interest", "Simple Earn Locked Rewards", "Simple Earn Flexible Airdrop",
     "Savings Interest", "Savings distribution", "Savings Distribution", "POS savings interest",
     "Staking Rewards", "ETH 2.0 Staking Rewards", "ETH 2.0 Staking", "BNB Vault Rewards",
     "Launchpool Interest", "Launchpool Earnings Withdrawal", "Liquid Swap rewards",
     "Swap Farming Rewards", "DOT Slot Auction Rewards", "Super BNB Mining", "Pool Distribution",
     "Distribution", "Airdrop Assets", "Cash Voucher distribution", "Cash Voucher Distribution",
     "Mission Reward Distribution", "Campaign Related Reward", "Token Swap - Redenomination/Rebranding",
     "Token Swap - Distribution", "Binance Convert", "Large OTC trading", "Small assets exchange BNB",
     "Small Assets Exchange BNB", "Stablecoins Auto-Conversion", "Leverage Token Redemption",
     "Asset Recovery", "Buy Crypto", "Fiat Deposit", "Fiat Withdraw", "Send", "Commission History",
     "Commission Rebate", "Commission Fee Shared With You", "Referral Kickback", "Referral Commission",
     "Referrer rebates", "Asset Conversion Transfer", "Funding Fee", "Realized Profit and Loss",
     "Realize profit and loss", "Insurance Fund Compensation"}
)  # fmt: skip


def _line(row: Row, context: ParseContext) -> Iterator[Record]:
    operation = row.text("Operation") or ""
    if operation in TRADE_LEGS:
        raise RowRejected(
            "covered_by_export",
            f"{operation!r} is a leg of a spot trade: trades come whole (price, fee) from the Spot Trade "
            "History export or the API",
        )
    if operation in TRANSFER_LEGS:
        raise RowRejected(
            "covered_by_export",
            f"{operation!r} is a transfer: it comes whole (fee, TXID, status) from the "
            f"{TRANSFER_LEGS[operation]} export or the API",
        )
    if operation in OWN_WALLETS or operation.startswith("Transfer Between "):
        raise RowRejected("not_a_balance_change", f"{operation!r} moves between the account's own wallets")
    if operation not in FLOWS:
        raise RowRejected(
            "unknown_operation", f"column 'Operation': {operation!r} is not a Binance operation known here"
        )
    yield ledger_entry(
        row.line,
        type=operation,
        currency=currency(context, (row.text("Coin") or "").upper()),
        amount=row.amount("Change"),
        occurred_at=row.time("UTC_Time", TIMES),
    )


FORMAT = CsvFormat(
    name="binance_statement",
    exchange="binance",
    title="Binance Transaction History",
    required=("UTC_Time", "Account", "Operation", "Coin", "Change"),
    parse=each_line(_line),
    time_precision_ms=TIME_PRECISION_MS,
    review=binance_legs.review,
    notes="Account → Statements → Transaction History → Generate all statements.",
)

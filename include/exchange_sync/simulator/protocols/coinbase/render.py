"""Neutral records in Coinbase's shapes: fills (List Fills), wallets (v3 and v2 accounts) and v2
transactions, plus the ids, times and indexes the paging handlers use. Shapes follow the response
examples of docs.cdp.coinbase.com ("List Fills", "List Accounts", "List Transactions") and ccxt
coinbase.py's parse_* comments.

Transactions: every ledger entry of a currency is one transaction of that currency's wallet:
* a fill is `advanced_trade_fill`, amount signed and net of the commission, which the fill's
  advanced_trade_fill object names;
* a crypto deposit or withdrawal is `send`: amount > 0 with network {status, hash, network_name}
  for a deposit; amount < 0 with to {address} and network {status, hash, network_name,
  transaction_fee} for a withdrawal (as in ccxt's parse_transaction example);
* fiat is `fiat_deposit` / `fiat_withdrawal`, amount the whole change; a withdrawal also shows
  its subtotal and fee, as the v2 withdrawal resource does;
* a staking reward is `staking_reward`.
Simulator conventions: a failed or canceled withdrawal is given back as a `tx` transaction
(Coinbase's catch-all type) of the refunded amount; a send's amount is what the chain carries,
its network fee shown beside it (so an entry's balance change is amount - the fee ccxt reports,
or amount where ccxt reports none); a deposit appears once credited (Coinbase credits crypto
once confirmed, fiat once cleared), so a pending or failed deposit has no transaction, and a
deposit's transaction is dated when it was credited.

Statuses as Coinbase shows them: completed, pending, failed, canceled (ccxt parse_transaction_
status: completed -> ok, canceled -> canceled, the others unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchange_sync.simulator.decimals import ZERO, canonical, sub
from exchange_sync.simulator.ledger import LedgerEntry, ledger
from exchange_sync.simulator.model import Account, Reward, Trade, Transfer
from exchange_sync.simulator.protocols.coinbase import codes, ids, wire

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

NAME = "coinbase"
STATUSES = {"pending": "pending", "ok": "completed", "failed": "failed", "canceled": "canceled"}
CCXT_STATUSES = {"completed": "ok", "canceled": "canceled"}  # ccxt passes the others through
LEDGER_TYPES = {
    "deposit": "send",
    "withdrawal": "send",
    "refund": "tx",
    "reward": "staking_reward",
    "trade": "advanced_trade_fill",
}


def amount(value: Decimal) -> str:
    return canonical(value) if value != 0 else "0"


def money(value: Decimal, currency: str) -> dict[str, str]:
    return {"amount": amount(value), "currency": currency}


# -- identities -----------------------------------------------------------------------------------


def user_id(account: Account) -> str:
    return ids.uuid(f"user:{account.uid}:{account.id}")


def portfolio_id(account: Account) -> str:
    return ids.uuid(f"portfolio:{account.uid}:{account.id}")


def wallet_id(account: Account, currency: str) -> str:
    return ids.uuid(f"wallet:{account.uid}:{account.id}:{currency}")


# -- fills ----------------------------------------------------------------------------------------


def trade_id(world: World, account: Account, trade: Trade) -> str:
    return ids.uuid(f"{world.seed}:{account.id}:{trade.symbol}:{trade.seq}")


def order_id(world: World, account: Account, trade: Trade) -> str:
    return ids.uuid(f"{world.seed}:{account.id}:{trade.symbol}:o{trade.order_seq}")


def trade_time(trade: Trade) -> str:
    return wire.rfc3339(trade.time, trade.sub // 10)  # Trade.sub is in 1/10,000,000 s


def size_in_quote(trade: Trade) -> bool:
    """Market buys are sized in the quote currency (a taker buy here)."""
    return trade.is_buyer and not trade.is_maker


def render_fill(world: World, account: Account, trade: Trade) -> dict[str, Any]:
    market = world.venue(NAME).markets[trade.symbol]
    when = trade_time(trade)
    return {
        "entry_id": ids.entry_id(f"{world.seed}:{account.id}:{trade.symbol}:{trade.seq}:entry"),
        "trade_id": trade_id(world, account, trade),
        "order_id": order_id(world, account, trade),
        "trade_time": when,
        "trade_type": "FILL",
        "price": amount(trade.price),
        "size": amount(trade.cost if size_in_quote(trade) else trade.qty),
        "commission": amount(trade.fee),
        "product_id": market.id,
        "sequence_timestamp": when,
        "liquidity_indicator": "MAKER" if trade.is_maker else "TAKER",
        "size_in_quote": size_in_quote(trade),
        "user_id": user_id(account),
        "side": "BUY" if trade.is_buyer else "SELL",
        "retail_portfolio_id": portfolio_id(account),
    }


# -- transactions ---------------------------------------------------------------------------------


def transfer_tx_id(world: World, account: Account, transfer: Transfer) -> str:
    return ids.uuid(f"{world.seed}:{account.id}:{transfer.kind}:{transfer.key}")


def fiat_resource_id(world: World, account: Account, transfer: Transfer) -> str:
    """A fiat deposit's or withdrawal's own resource id (its transaction has another one)."""
    return ids.uuid(f"{transfer_tx_id(world, account, transfer)}:fiat_{transfer.kind}")


def tx_id(world: World, account: Account, entry: LedgerEntry) -> str:
    source = entry.source
    if isinstance(source, Transfer):
        if entry.type == "refund":
            return ids.uuid(f"{world.seed}:{account.id}:refund:{source.key}")
        return transfer_tx_id(world, account, source)
    if isinstance(source, Reward):
        return ids.uuid(f"{world.seed}:{account.id}:reward:{source.key}")
    return ids.uuid(f"{world.seed}:{account.id}:fill:{source.symbol}:{source.seq}:{entry.asset}")


def tx_created(entry: LedgerEntry) -> str:
    """A withdrawal's transaction is dated when it was made; a deposit's when it appeared, i.e.
    when it was credited (so a deposit credited late is the newest transaction, where a client
    reading newest first finds it: simulator convention)."""
    source = entry.source
    if isinstance(source, Transfer) and entry.type != "refund":
        return wire.rfc3339(credited_at(source))
    return wire.rfc3339(entry.time)


def credited_at(transfer: Transfer) -> int:
    """When a transfer's transaction is dated: a deposit's credit, a withdrawal's request."""
    if transfer.kind == "deposit" and transfer.resolved_at is not None:
        return transfer.resolved_at
    return transfer.time


def tx_type(entry: LedgerEntry) -> str:
    source = entry.source
    if isinstance(source, Transfer) and entry.type != "refund" and not source.network:
        return "fiat_deposit" if source.kind == "deposit" else "fiat_withdrawal"
    return LEDGER_TYPES[entry.type]


def tx_amount(entry: LedgerEntry) -> Decimal:
    """What the transaction's amount shows (see the module docstring)."""
    source = entry.source
    if isinstance(source, Transfer) and entry.type == "withdrawal" and source.network:
        return entry.amount  # the network fee is shown beside it
    return sub(entry.amount, entry.fee)


def _send_network(world: World, transfer: Transfer, status: str) -> dict[str, Any]:
    asset = world.catalog.assets[transfer.asset]
    network: dict[str, Any] = {
        "status": "confirmed" if status == "completed" else status,
        "network_name": codes.network_name(transfer.network, asset),
    }
    if transfer.txid:
        network["hash"] = transfer.txid
    if transfer.kind == "withdrawal":
        # No transaction_amount: ccxt would read that positive amount as a deposit's.
        network["transaction_fee"] = money(transfer.fee, transfer.asset)
    return network


def render_tx(world: World, account: Account, entry: LedgerEntry) -> dict[str, Any]:
    wallet = wallet_id(account, entry.asset)
    ident = tx_id(world, account, entry)
    kind = tx_type(entry)
    source = entry.source
    status = (
        STATUSES[source.status]
        if isinstance(source, Transfer) and entry.type == "withdrawal"
        else "completed"
    )
    created = tx_created(entry)
    value = tx_amount(entry)
    usd = world.catalog.assets[entry.asset].usd_ref  # native_amount: a reference value, never parsed
    body: dict[str, Any] = {
        "id": ident,
        "type": kind,
        "status": status,
        "amount": money(value, entry.asset),
        "native_amount": money((value * usd).quantize(Decimal("0.01")), "USD"),
        "description": None,
        "created_at": created,
        "updated_at": created,
        "resource": "transaction",
        "resource_path": f"/v2/accounts/{wallet}/transactions/{ident}",
        "instant_exchange": False,
    }
    if isinstance(source, Trade):
        market = world.venue(NAME).markets[source.symbol]
        body["advanced_trade_fill"] = {
            "fill_price": amount(source.price),
            "product_id": market.id,
            "order_id": order_id(world, account, source),
            "commission": amount(source.fee),
            "order_side": "buy" if source.is_buyer else "sell",
        }
    elif isinstance(source, Transfer) and entry.type != "refund":
        if kind == "send":
            body["network"] = _send_network(world, source, status)
            if source.kind == "withdrawal":
                body["to"] = {"resource": "address", "address": source.address}
                body["idem"] = ids.uuid(f"idem:{ident}")
            else:
                chain = codes.network_name(source.network, world.catalog.assets[source.asset])
                body["from"] = {"resource": f"{chain.replace(' ', '_')}_network", "currency": source.asset}
        else:
            sub_id = fiat_resource_id(world, account, source)
            plural = "deposits" if source.kind == "deposit" else "withdrawals"
            body[kind] = {
                "id": sub_id,
                "resource": kind,
                "resource_path": f"/v2/accounts/{wallet}/{plural}/{sub_id}",
            }
            if kind == "fiat_withdrawal":
                body["subtotal"] = money(source.amount, source.asset)
                body["fee"] = money(source.fee, source.asset)
    elif isinstance(source, Transfer):
        body["description"] = "Refund of a failed or canceled send"
    return body


def ccxt_fee(entry: LedgerEntry) -> Decimal | None:
    """The fee ccxt's parse_ledger_entry reports: a send's network.transaction_fee, else none."""
    source = entry.source
    if isinstance(source, Transfer) and entry.type == "withdrawal" and source.network:
        return entry.fee
    return None


@dataclass(slots=True)
class WalletLedger:
    entries: list[LedgerEntry]  # oldest first
    ids: list[str]  # each entry's transaction id
    by_id: dict[str, int]


def wallet_ledgers(world: World, account: Account) -> dict[str, WalletLedger]:
    """Each currency's transactions (= its ledger entries), oldest first, with an id index."""

    def build() -> dict[str, WalletLedger]:
        out: dict[str, WalletLedger] = {}
        for entry in ledger(account):
            wallet = out.setdefault(entry.asset, WalletLedger([], [], {}))
            ident = tx_id(world, account, entry)
            wallet.by_id[ident] = len(wallet.entries)
            wallet.entries.append(entry)
            wallet.ids.append(ident)
        return out

    return account.cached("coinbase.wallets", build)


def wallet_currencies(world: World, account: Account) -> list[str]:
    """The currencies the account has a wallet for: every one it ever held or moved, plus USD
    (Coinbase opens a wallet on first use; which ones exist beyond that is a simulator convention)."""
    held = set(wallet_ledgers(world, account)) | {"USD"}
    held |= {t.asset for t in [*account.deposits, *account.withdrawals]}
    return sorted(held)


def zero_split(world: World, account: Account) -> dict[str, tuple[Decimal, Decimal]]:
    split = world.balance_split(account)
    return {code: split.get(code, (ZERO, ZERO)) for code in wallet_currencies(world, account)}

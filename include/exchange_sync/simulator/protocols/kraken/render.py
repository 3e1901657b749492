"""Neutral records in Kraken's shapes: trades (TradesHistory/QueryTrades), ledger entries
(Ledgers/QueryLedgers), funding entries (DepositStatus/WithdrawStatus), plus the indexes the
paging handlers bisect. Shapes follow the response examples of docs.kraken.com's REST reference
and ccxt kraken.py's parse_* comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exchange_sync.simulator.decimals import ZERO
from exchange_sync.simulator.ledger import LedgerEntry, ledger
from exchange_sync.simulator.model import Account, Reward, Trade, Transfer
from exchange_sync.simulator.protocols.kraken import codes, ids, wire

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

# neutral status -> (Kraken status, status-prop or None, ccxt 4.5 kraken.parse_transaction's word).
# IFEX states as Kraken uses them (support.kraken.com "Advanced API FAQ": a deposit is Settled
# while it waits for confirmations, then Success or Failure; a canceled withdrawal ends Failure
# with status-prop "canceled", docs.kraken.com "Get Status of Recent Withdrawals").
STATUSES: dict[str, dict[str, tuple[str, str | None, str]]] = {
    "deposit": {
        "pending": ("Settled", None, "pending"),
        "ok": ("Success", None, "ok"),
        "failed": ("Failure", None, "failed"),
    },
    "withdrawal": {
        "pending": ("Pending", None, "pending"),
        "ok": ("Success", None, "ok"),
        "failed": ("Failure", None, "failed"),
        "canceled": ("Failure", "canceled", "failed"),
    },
}
# neutral ledger entry type -> Kraken's (a refund of a failed withdrawal is a positive
# "withdrawal" entry with the withdrawal's refid: simulator convention).
LEDGER_TYPES = {
    "trade": "trade",
    "deposit": "deposit",
    "withdrawal": "withdrawal",
    "refund": "withdrawal",
    "reward": "staking",
}
TRADE_TICKS_PER_MS = 10_000  # trade times in 1/10,000,000 s


def asset_decimals(world: World, code: str) -> int:
    return codes.decimals(world.catalog.assets[code])


# -- trades ---------------------------------------------------------------------------------------


def trade_key(trade: Trade) -> int:
    """The trade's time in 1/10,000,000 s."""
    return trade.time * TRADE_TICKS_PER_MS + trade.sub


def trade_time(trade: Trade) -> str:
    return wire.seconds(trade_key(trade), wire.TRADE_TIME_DIGITS)


def trade_txid(world: World, account: Account, trade: Trade) -> str:
    return ids.legacy("T", f"{world.seed}:{account.id}:{trade.symbol}:{trade.seq}")


def order_txid(world: World, account: Account, trade: Trade) -> str:
    return ids.legacy("O", f"{world.seed}:{account.id}:{trade.symbol}:o{trade.order_seq}")


def trade_fields(world: World, account: Account, trade: Trade, time: Any) -> dict[str, Any]:
    """What TradesHistory and the trades.csv export show alike of a trade (`time` in the caller's
    form: the API's float seconds, the export's date)."""
    market = world.venue("kraken").markets[trade.symbol]
    quote_decimals = asset_decimals(world, market.quote)
    return {
        "ordertxid": order_txid(world, account, trade),
        "postxid": ids.legacy("T", f"{world.seed}:{account.id}:{trade.symbol}:p{trade.order_seq}"),
        "pair": market.id,
        "time": time,
        "type": "buy" if trade.is_buyer else "sell",
        "ordertype": "limit" if trade.is_maker else "market",
        "price": wire.amount(trade.price, market.price_decimals),
        "cost": wire.amount(trade.cost, quote_decimals),
        "fee": wire.amount(trade.fee, quote_decimals),
        "vol": wire.amount(trade.qty, market.qty_decimals),
        "margin": wire.amount(ZERO, quote_decimals),
    }


def render_trade(world: World, account: Account, trade: Trade) -> bytes:
    """`"<txid>":{...}`, cached on the trade (trades never change)."""
    if trade.rendered is None:
        body = trade_fields(world, account, trade, wire.Raw(trade_time(trade))) | {
            "leverage": "0",
            "misc": "",
            "trade_id": trade.seq,
            "maker": trade.is_maker,
        }
        trade.rendered = (wire.dumps(trade_txid(world, account, trade)) + ":" + wire.dumps(body)).encode()
    return trade.rendered


@dataclass(slots=True)
class TradeIndex:
    trades: list[Trade]  # oldest first
    keys: list[int]  # trade_key per trade
    by_txid: dict[str, int]


def trade_index(world: World, account: Account) -> TradeIndex:
    def build() -> TradeIndex:
        trades = account.all_trades()
        by_txid = {trade_txid(world, account, t): i for i, t in enumerate(trades)}
        return TradeIndex(trades, [trade_key(t) for t in trades], by_txid)

    return account.cached("kraken.trades", build)


# -- ledger ---------------------------------------------------------------------------------------


def ledger_id(world: World, account: Account, entry: LedgerEntry) -> str:
    return ids.legacy("L", f"{world.seed}:{account.id}:{entry.seq}")


def transfer_refid(world: World, account: Account, transfer: Transfer) -> str:
    return ids.funding_refid(f"{world.seed}:{account.id}:{transfer.kind}:{transfer.key}")


def refid(world: World, account: Account, entry: LedgerEntry) -> str:
    source = entry.source
    if isinstance(source, Trade):
        return trade_txid(world, account, source)
    if isinstance(source, Reward):
        return ids.legacy("R", f"{world.seed}:{account.id}:reward:{source.key}")
    return transfer_refid(world, account, source)


def ledger_time(entry: LedgerEntry) -> str:
    return wire.seconds(entry.tick, wire.LEDGER_TIME_DIGITS)


def render_ledger(world: World, account: Account, entry: LedgerEntry) -> dict[str, Any]:
    decimals = asset_decimals(world, entry.asset)
    return {
        "refid": refid(world, account, entry),
        "time": wire.Raw(ledger_time(entry)),
        "type": LEDGER_TYPES[entry.type],
        "subtype": "",
        "aclass": "currency",
        "asset": codes.asset_id(entry.asset),
        "amount": wire.amount(entry.amount, decimals),
        "fee": wire.amount(entry.fee, decimals),
        "balance": wire.amount(entry.balance, decimals),
    }


@dataclass(slots=True)
class LedgerIndex:
    entries: list[LedgerEntry]  # oldest first
    ticks: list[int]
    by_id: dict[str, int]


def ledger_index(world: World, account: Account) -> LedgerIndex:
    def build() -> LedgerIndex:
        entries = ledger(account)
        by_id = {ledger_id(world, account, e): i for i, e in enumerate(entries)}
        return LedgerIndex(entries, [e.tick for e in entries], by_id)

    return account.cached("kraken.ledger", build)


# -- funding --------------------------------------------------------------------------------------


def render_transfer(world: World, account: Account, transfer: Transfer) -> dict[str, Any]:
    asset = world.catalog.assets[transfer.asset]
    decimals = codes.decimals(asset)
    status, prop, _ = STATUSES[transfer.kind][transfer.status]
    body: dict[str, Any] = {
        "method": codes.method(asset, transfer.network),
        "aclass": "currency",
        "asset": codes.asset_id(transfer.asset),
        "refid": transfer_refid(world, account, transfer),
        "txid": transfer.txid,
        "info": transfer.address,
        "amount": wire.amount(transfer.amount, decimals),
        "fee": wire.amount(transfer.fee, decimals),
        "time": transfer.time // 1000,
        "status": status,
    }
    if prop is not None:
        body["status-prop"] = prop
    if transfer.kind == "withdrawal" and transfer.network:
        body["network"] = codes.network_name(transfer.network, asset)
    if transfer.kind == "withdrawal":
        body["key"] = (
            f"{asset.code} {'bank' if not transfer.network else 'wallet'} {transfer.key % 10_000:04d}"
        )
    return body

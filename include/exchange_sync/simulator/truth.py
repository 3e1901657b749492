"""Ground truth records, the same shape for every exchange (see control_api's docstring).

The protocols fill in the values the way ccxt's unified parse of their exchange presents them;
these helpers only fix the layout and the amount format (canonical decimal strings, None kept).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchange_sync.simulator.decimals import canonical
from exchange_sync.simulator.ledger import ledger

if TYPE_CHECKING:
    from exchange_sync.simulator.model import Account, Conversion, Market, Trade
    from exchange_sync.simulator.state import World


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else canonical(value)


def trade_record(trade: Trade, market: Market, *, id: str, order_id: str, timestamp: int) -> dict[str, Any]:
    """A trade as ccxt presents it: the protocol supplies what is native (ids, its clock)."""
    return {
        "id": id,
        "order_id": order_id,
        "symbol": trade.symbol,
        "market_id": market.id,
        "side": "buy" if trade.is_buyer else "sell",
        "price": canonical(trade.price),
        "amount": canonical(trade.qty),
        "cost": canonical(trade.cost),
        "fee": canonical(trade.fee),
        "fee_currency": trade.fee_asset,
        "timestamp": timestamp,
        "is_maker": trade.is_maker,
    }


def transfer_record(
    *,
    id: str,
    currency: str,
    amount: Decimal,
    fee: Decimal | None,
    network: str | None,
    address: str | None,
    txid: str | None,
    status: str,
    timestamp: int,
) -> dict[str, Any]:
    return {
        "id": id,
        "currency": currency,
        "amount": canonical(amount),
        "fee": _amount(fee),
        "network": network,
        "address": address,
        "txid": txid,
        "status": status,
        "timestamp": timestamp,
    }


def ledger_record(
    *,
    id: str,
    refid: str | None,
    type: str,
    currency: str,
    amount: Decimal,
    fee: Decimal | None,
    balance: Decimal | None,
    timestamp: int,
) -> dict[str, Any]:
    """None where ccxt's parse has nothing (Coinbase: no referenceId, no balance after, no fee
    but a send's network fee); then the entry's balance change is amount - (fee or 0)."""
    return {
        "id": id,
        "refid": refid,
        "type": type,
        "currency": currency,
        "amount": canonical(amount),
        "fee": _amount(fee),
        "balance": _amount(balance),
        "timestamp": timestamp,
    }


def conversion_record(conversion: Conversion) -> dict[str, Any]:
    """A conversion (no exchange API shows one: see conversions.py), in unified codes."""
    return {
        "id": str(conversion.key),
        "kind": conversion.kind,
        "from_currency": conversion.from_asset,
        "from_amount": canonical(conversion.from_amount),
        "to_currency": conversion.to_asset,
        "to_amount": canonical(conversion.to_amount),
        "timestamp": conversion.time,
    }


def balances_view(world: World, account: Account) -> dict[str, dict[str, str]]:
    return {
        asset: {"free": canonical(free), "locked": canonical(locked)}
        for asset, (free, locked) in sorted(world.balance_split(account).items())
    }


def history(world: World, account: Account) -> dict[str, Any]:
    protocol = world.protocol(account.exchange)
    return {
        "exchange": account.exchange,
        # What the exchange's API still serves of each stream is the last `retention_days` before
        # `server_time` (the history itself is complete: an export would hold all of it).
        "server_time": world.server_time_ms(),
        "retention_days": dict(protocol.retention_days),
        "trades": [protocol.trade_truth(world, account, t) for t in account.all_trades()],
        "deposits": [
            protocol.transfer_truth(world, account, d) for d in account.deposits if protocol.shows(d)
        ],
        "withdrawals": [
            protocol.transfer_truth(world, account, w) for w in account.withdrawals if protocol.shows(w)
        ],
        # Transfers the API does not show (yet): no client can import them, tests can settle them.
        "unlisted": {
            kind: [protocol.transfer_truth(world, account, t) for t in transfers if not protocol.shows(t)]
            for kind, transfers in (("deposits", account.deposits), ("withdrawals", account.withdrawals))
        },
        # Balance changes that are neither trades nor transfers (Binance convert and dust): the
        # API lists converts (convert/tradeFlow, in "ledger" below), never dust.
        "conversions": [conversion_record(c) for c in account.conversions],
        # Transfers the exchange's export files do not hold as they are now (pending ones where the
        # export is a ledger): what a whole-history comparison of exports alone cannot ask for.
        "unexported": {
            kind: [protocol.transfer_id(world, account, t) for t in transfers if not protocol.exports_show(t)]
            for kind, transfers in (("deposits", account.deposits), ("withdrawals", account.withdrawals))
        },
        "balances": balances_view(world, account),
        # Markets whose trades the API no longer returns (POST /_sim/accounts/{id}/delisted).
        "delisted": sorted(account.delisted),
        "ledger": (protocol.ledger_truth(world, account, ledger(account)) if protocol.has_ledger else [])
        + protocol.conversion_truth(world, account),
    }

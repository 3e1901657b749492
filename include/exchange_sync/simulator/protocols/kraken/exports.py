"""Kraken's export files (History > Export on kraken.com): ledgers.csv and trades.csv of the
account's whole history, as the website writes them (products.md §3: the newest verified header
of each; values as in exports seen in the wild: every text quoted, numbers bare, times UTC as
"YYYY-MM-DD HH:MM:SS.ffff").

They share the API's ids and values: a ledger line is the Ledgers entry (`txid` its ledger id,
the same refid, type, native asset id such as XXBT, amounts padded to the asset's decimals, time
to 1/10,000 s like the API's); a trade line is the TradesHistory trade (`txid` its id, the native
pair id such as XXBTZUSD, the same price, cost, fee and vol strings), its time to 1/10,000 s
(the API sends 1/10,000,000 s; Kraken's export has four digits), and its `ledgers` the ids of the
ledger entries it booked. That the export's ids are the API's is documented by Kraken for the
ledger (support.kraken.com "How to interpret Ledger history fields") and assumed for trades.
`subtype` is empty as the simulator's API answers it; `wallet` is "spot / main" (every entry here
is a spot balance change); `subclass` "fiat" or "crypto" by the asset.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from exchange_sync.simulator.model import Account
from exchange_sync.simulator.protocols.kraken import render

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

LEDGERS = "ledgers.csv"
TRADES = "trades.csv"
NAMES = (LEDGERS, TRADES)
LEDGER_COLUMNS = ("txid", "refid", "time", "type", "subtype", "aclass", "subclass", "asset", "wallet",
                  "amount", "fee", "balance")  # fmt: skip
TRADE_COLUMNS = ("txid", "ordertxid", "pair", "time", "type", "ordertype", "price", "cost", "fee", "vol",
                 "margin", "misc", "ledgers", "postxid", "posstatus", "cprice", "ccost", "cfee", "cvol",
                 "cmargin", "net", "trades")  # fmt: skip
NUMBERS = frozenset({"amount", "fee", "balance", "price", "cost", "vol", "margin"})
EXPORT_DIGITS = 4  # sub-second digits of the export's times
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def export(world: World, account: Account, name: str) -> str:
    if name == LEDGERS:
        return _csv(LEDGER_COLUMNS, _ledger_lines(world, account))
    if name == TRADES:
        return _csv(TRADE_COLUMNS, _trade_lines(world, account))
    raise KeyError(name)


def when(units: int, digits: int) -> str:
    """A time given in 10**-digits seconds as the export writes it, to EXPORT_DIGITS digits."""
    whole, part = divmod(units, 10**digits)
    fraction = part // 10 ** (digits - EXPORT_DIGITS)
    return f"{(_EPOCH + timedelta(seconds=whole)):%Y-%m-%d %H:%M:%S}.{fraction:0{EXPORT_DIGITS}d}"


def _ledger_lines(world: World, account: Account) -> Iterable[dict[str, str]]:
    for entry in render.ledger_index(world, account).entries:
        body = render.render_ledger(world, account, entry)
        fiat = world.catalog.assets[entry.asset].fiat
        yield body | {
            "txid": render.ledger_id(world, account, entry),
            "time": when(entry.tick, 4),
            "subclass": "fiat" if fiat else "crypto",
            "wallet": "spot / main",
        }


def _trade_lines(world: World, account: Account) -> Iterable[dict[str, str]]:
    booked: dict[int, list[str]] = {}
    for entry in render.ledger_index(world, account).entries:
        if entry.type == "trade":
            booked.setdefault(id(entry.source), []).append(render.ledger_id(world, account, entry))
    for trade in render.trade_index(world, account).trades:
        yield render.trade_fields(world, account, trade, when(render.trade_key(trade), 7)) | {
            "txid": render.trade_txid(world, account, trade),
            "ledgers": ",".join(booked.get(id(trade), ())),
        }


def _csv(columns: tuple[str, ...], lines: Iterable[dict[str, str]]) -> str:
    out = [",".join(f'"{c}"' for c in columns)]
    for line in lines:
        out.append(
            ",".join(
                line.get(c, "") if c in NUMBERS and line.get(c) else f'"{line.get(c, "")}"' for c in columns
            )
        )
    return "\n".join(out) + "\n"

"""Kraken's trades.csv (History > Export > Trades): one line per fill with the API's own ids
(txid = the TradesHistory trade id, ordertxid = its order), deduplicated by id.

Header versions read (products.md §3): `txid,ordertxid,pair,time,type,ordertype,price,cost,fee,
vol,margin,misc,ledgers`; + `postxid,posstatus,cprice,ccost,cfee,cvol,cmargin,net,trades` (the
newest verified, which the simulator writes); the newer `...,pair,aclass,subclass,time,...` with
`costusd` (seen only in third-party files). Extra columns are ignored.

As ccxt's kraken.parse_trade presents the API's trade: side = type, amount = vol, fee in the
pair's quote currency. Times: the file has 1/10,000 s, the API 1/10,000,000 s; the row holds the
millisecond the trade lies in, as ccxt's does (see kraken_names.api_time).
"""

from __future__ import annotations

from collections.abc import Iterator

from exchange_sync.csv_import.formats import kraken_names
from exchange_sync.csv_import.formats.base import CsvFormat, ParseContext, Record, each_line, trade
from exchange_sync.csv_import.values import Row, RowRejected


def _line(row: Row, context: ParseContext) -> Iterator[Record]:
    side = (row.text("type") or "").lower()
    if side not in ("buy", "sell"):
        raise RowRejected("unknown_operation", f"column 'type': {side!r} is neither buy nor sell")
    symbol = kraken_names.symbol(row.text("pair") or "", context)
    yield trade(
        row.line,
        symbol=symbol,
        side=side,
        price=row.amount("price"),
        amount=row.amount("vol"),
        cost=row.amount("cost"),
        fee_cost=row.amount("fee"),
        fee_currency=symbol.split("/")[1],
        traded_at=kraken_names.api_time(kraken_names.seconds(row)),
        trade_id=row.text("txid"),
        order_id=row.text("ordertxid", optional=True),
    )


FORMAT = CsvFormat(
    name="kraken-trades",
    exchange="kraken",
    title="Kraken trades.csv (History > Export > Trades)",
    required=("txid", "ordertxid", "pair", "time", "type", "price", "cost", "fee", "vol"),
    parse=each_line(_line),
    time_precision_ms=1,
)

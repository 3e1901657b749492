"""Kraken's private account data: Balance, BalanceEx, TradesHistory, QueryTrades, Ledgers,
QueryLedgers and GetApiKeyInfo (POST /0/private/<Method>).

Paging as docs.kraken.com "Get Trades History" / "Get Ledgers Info" document it: 50 results per
call, most recent first, `ofs` skips that many, `start` (exclusive) and `end` (inclusive) are unix
seconds or an id (a trade txid, a ledger id), and `count` is how many match in all. QueryTrades
and QueryLedgers take up to 20 comma-separated ids ("Query Trades Info", "Query Ledgers"); an id
that is not the key's account's is left out of the answer, and more than 20 are
EGeneral:Invalid arguments (simulator convention: Kraken documents no error for either).
GetApiKeyInfo answers as in its docs example, with the account's id as `iban`: the account
identity Kraken's REST API exposes (also TradeVolume's `subaccounts[].iiban`).
"""

from __future__ import annotations

import bisect
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from exchange_sync.simulator.decimals import ZERO
from exchange_sync.simulator.protocols.kraken import codes, render, wire
from exchange_sync.simulator.protocols.kraken.auth import Signed

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

PAGE = 50
MAX_QUERY_IDS = 20
LEDGER_TYPES = frozenset(
    {"all", "trade", "deposit", "withdrawal", "transfer", "margin", "adjustment", "rollover", "credit",
     "settled", "staking", "dividend", "sale", "nfttrade", "spend", "receive", "earn"}
)  # fmt: skip
TRADE_TYPES = frozenset({"all", "any position", "closed position", "closing position", "no position"})


class ArgumentError(Exception):
    """A parameter Kraken rejects: answered EGeneral:Invalid arguments[:name]."""


def _offset(params: dict[str, str]) -> int:
    text = params.get("ofs", "0") or "0"
    if not text.isdigit():
        raise ArgumentError("ofs")
    return int(text)


def _after(
    params: dict[str, str], name: str, keys: list[int], by_id: dict[str, int], scale: int
) -> int | None:
    """Where a start (exclusive) or end (inclusive) bound cuts the ascending list: the index just
    after the id it names, or after the last key <= its unix seconds. None: absent."""
    text = params.get(name)
    if not text:
        return None
    if text in by_id:
        return by_id[text] + 1
    try:
        seconds = wire.bound(text)
    except ValueError:
        raise ArgumentError(name) from None
    assert seconds is not None
    return bisect.bisect_right(keys, int((seconds * scale).to_integral_value(rounding=ROUND_FLOOR)))


def _slice(params: dict[str, str], keys: list[int], by_id: dict[str, int], scale: int) -> tuple[int, int]:
    lo = _after(params, "start", keys, by_id, scale) or 0
    hi = _after(params, "end", keys, by_id, scale)
    hi = len(keys) if hi is None else hi
    return lo, max(lo, hi)


def _newest_first(lo: int, hi: int, offset: int) -> range:
    """Indices of one page, newest first, of the ascending slice [lo, hi)."""
    top = hi - offset
    return range(top - 1, max(lo, top - PAGE) - 1, -1)


def _ids(params: dict[str, str], name: str) -> list[str]:
    wanted = [i for i in params.get(name, "").split(",") if i]
    if not wanted or len(wanted) > MAX_QUERY_IDS:
        raise ArgumentError(name)
    return wanted


def _balances(world: World, signed: Signed) -> dict[str, tuple[Decimal, Decimal, int]]:
    """(total, held, decimals) per Kraken asset id with a balance."""
    split = world.balance_split(signed.account)
    out: dict[str, tuple[Decimal, Decimal, int]] = {}
    for code, (free, locked) in sorted(split.items()):
        out[codes.asset_id(code)] = (free + locked, locked, render.asset_decimals(world, code))
    return out


async def balance(world: World, signed: Signed) -> web.Response:
    return wire.reply({asset: wire.amount(t, d) for asset, (t, _, d) in _balances(world, signed).items()})


async def balance_ex(world: World, signed: Signed) -> web.Response:
    result = {
        asset: {
            "balance": wire.amount(total, d),
            "hold_trade": wire.amount(held, d),
            "credit": wire.amount(ZERO, d),
            "credit_used": wire.amount(ZERO, d),
        }
        for asset, (total, held, d) in _balances(world, signed).items()
    }
    return wire.reply(result)


async def trades_history(world: World, signed: Signed) -> web.Response:
    params, account = signed.params, signed.account
    if params.get("type", "all") not in TRADE_TYPES:
        raise ArgumentError("type")
    index = render.trade_index(world, account)
    scale = render.TRADE_TICKS_PER_MS * 1000
    lo, hi = _slice(params, index.keys, index.by_txid, scale)
    if params.get("type", "all") not in ("all", "no position"):
        lo = hi  # simulated trades are spot trades: none opened or closed a margin position
    page = [
        render.render_trade(world, account, index.trades[i]) for i in _newest_first(lo, hi, _offset(params))
    ]
    body = (
        b'{"error":[],"result":{"trades":{' + b",".join(page) + b'},"count":' + str(hi - lo).encode() + b"}}"
    )
    return wire.raw_reply(body)


async def query_trades(world: World, signed: Signed) -> web.Response:
    index = render.trade_index(world, signed.account)
    found = [index.by_txid[t] for t in _ids(signed.params, "txid") if t in index.by_txid]
    page = [render.render_trade(world, signed.account, index.trades[i]) for i in found]
    return wire.raw_reply(b'{"error":[],"result":{' + b",".join(page) + b"}}")


def _ledger_filter(world: World, signed: Signed) -> tuple[frozenset[str] | None, str]:
    params = signed.params
    kind = params.get("type", "all") or "all"
    if kind not in LEDGER_TYPES:
        raise ArgumentError("type")
    wanted = params.get("asset", "all") or "all"
    if wanted == "all":
        return None, kind
    known = {codes.asset_id(c): c for c in world.venue("kraken").assets}
    known |= {codes.altname(c): c for c in world.venue("kraken").assets}
    names = [a.strip() for a in wanted.split(",")]
    if any(a not in known for a in names):
        raise ArgumentError("asset")
    return frozenset(known[a] for a in names), kind


async def ledgers(world: World, signed: Signed) -> web.Response:
    account = signed.account
    assets, kind = _ledger_filter(world, signed)
    index = render.ledger_index(world, account)
    scale = 10**wire.LEDGER_TIME_DIGITS
    lo, hi = _slice(signed.params, index.ticks, index.by_id, scale)
    if assets is not None or kind != "all":
        # Filtered ledgers are cached per filter: paging through one costs a bisect per page.
        def matching() -> list[int]:
            return [
                i
                for i, e in enumerate(index.entries)
                if (assets is None or e.asset in assets)
                and (kind == "all" or render.LEDGER_TYPES[e.type] == kind)
            ]

        positions = account.cached(f"kraken.ledger:{sorted(assets or ())}:{kind}", matching)
        first, last = bisect.bisect_left(positions, lo), bisect.bisect_left(positions, hi)
        chosen = [positions[i] for i in _newest_first(first, last, _offset(signed.params))]
        count = last - first
    else:
        chosen = list(_newest_first(lo, hi, _offset(signed.params)))
        count = hi - lo
    result = {
        "ledger": {
            render.ledger_id(world, account, index.entries[i]): render.render_ledger(
                world, account, index.entries[i]
            )
            for i in chosen
        },
        "count": count,
    }
    return wire.reply_raw(result)


async def query_ledgers(world: World, signed: Signed) -> web.Response:
    account = signed.account
    index = render.ledger_index(world, account)
    found = [index.by_id[i] for i in _ids(signed.params, "id") if i in index.by_id]
    result = {
        render.ledger_id(world, account, index.entries[i]): render.render_ledger(
            world, account, index.entries[i]
        )
        for i in found
    }
    return wire.reply_raw(result)


def _seconds(ms: int | None) -> str:
    return "0" if ms is None else str(ms // 1000)


async def api_key_info(world: World, signed: Signed) -> web.Response:
    key = signed.key
    return wire.reply(
        {
            "apiKeyName": f"key-{key.api_key[:6]}",
            "apiKey": key.api_key,
            "nonce": str(key.last_nonce),
            "nonceWindow": 0,
            "permissions": list(key.permissions),
            "iban": world.protocol("kraken").identity(signed.account),
            "validUntil": _seconds(key.expires_at),
            "queryFrom": "0",
            "queryTo": "0",
            "createdTime": _seconds(key.created_at),
            "modifiedTime": _seconds(key.created_at),
            "ipAllowlist": list(key.ip_allowlist),
            "lastUsed": None if key.last_used is None else _seconds(key.last_used),
        }
    )

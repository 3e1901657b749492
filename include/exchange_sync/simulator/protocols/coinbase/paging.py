"""Paging parameters shared by Coinbase's lists.

v2 lists (docs.cdp.coinbase.com "Coinbase App API pagination"): `limit` 1..100, default 25;
`order` desc (default, newest first) or asc; `starting_after` = an id: the page continues after
that resource in the chosen order; `ending_before` = an id: the page ends just before it. The
answer's pagination object carries ending_before, starting_after, previous_ending_before,
next_starting_after (the last id of the page while more follow, else null), limit, order,
previous_uri and next_uri. An unknown id or a malformed limit answers 400 invalid_request
(simulator convention for the message).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

V2_DEFAULT_LIMIT = 25
V2_MAX_LIMIT = 100


class ArgumentError(Exception):
    """A parameter Coinbase refuses: 400 INVALID_ARGUMENT (v3) / invalid_request (v2)."""


def limit_of(params: dict[str, str], default: int, maximum: int) -> int:
    """The `limit` parameter; more than the maximum is cut to it, as Coinbase does."""
    text = params.get("limit", "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ArgumentError("limit")
    return min(int(text), maximum)


def v2_page(
    params: dict[str, str],
    ids: Sequence[str],
    path: str,
    *,
    index: Mapping[str, int] | None = None,
    max_limit: int = V2_MAX_LIMIT,
    newest_first: bool = True,
) -> tuple[list[int], dict[str, Any]]:
    """Indices into `ids` (oldest first) of one page, and the answer's pagination object.
    `index`: id -> position in `ids` (built here when not given; big lists pass a cached one).
    `newest_first`: whether "desc" (the default order) lists the newest first."""
    limit = limit_of(params, V2_DEFAULT_LIMIT, max_limit)
    order = params.get("order", "desc") or "desc"
    if order not in ("desc", "asc"):
        raise ArgumentError("order")
    count = len(ids)
    reverse = (order == "desc") == newest_first
    where = index if index is not None else {ident: i for i, ident in enumerate(ids)}

    def position(name: str) -> int:
        """Where an id sits in the chosen order."""
        ident = params.get(name) or ""
        if ident not in where:
            raise ArgumentError(name)
        return count - 1 - where[ident] if reverse else where[ident]

    after, before = params.get("starting_after") or None, params.get("ending_before") or None
    lo = position("starting_after") + 1 if after is not None else 0
    hi = position("ending_before") if before is not None else count
    if before is not None and after is None:
        lo = max(lo, hi - limit)  # ending_before alone: the page just before that id
    span = range(lo, min(hi, lo + limit)) if lo < hi else range(0)
    chosen = [count - 1 - p if reverse else p for p in span]
    more = lo + len(chosen) < hi
    next_after = ids[chosen[-1]] if more and chosen else None
    previous = ids[chosen[0]] if chosen and lo > 0 else None
    base = {"limit": limit, "order": order}
    pagination = {
        "ending_before": before,
        "starting_after": after,
        "previous_ending_before": previous,
        "next_starting_after": next_after,
        "limit": limit,
        "order": order,
        "previous_uri": f"{path}?{urlencode(base | {'ending_before': previous})}" if previous else None,
        "next_uri": f"{path}?{urlencode(base | {'starting_after': next_after})}" if next_after else None,
    }
    return chosen, pagination

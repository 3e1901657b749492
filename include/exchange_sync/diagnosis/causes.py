"""The diagnosis vocabulary: every failure is exactly one of these causes (PRODUCT.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CauseInfo:
    name: str
    action_required: bool  # a person must do something; otherwise it passes by itself
    title: str  # one line a user understands; {exchange} is the exchange's display name


CAUSES: dict[str, CauseInfo] = {
    c.name: c
    for c in (
        CauseInfo("credentials_missing", True, "No API key or secret is configured for {exchange}"),
        CauseInfo("key_invalid", True, "{exchange} rejected the API key or secret as invalid"),
        CauseInfo("key_revoked", True, "The {exchange} API key was deleted or revoked"),
        CauseInfo("key_expired", True, "The {exchange} API key has expired"),
        CauseInfo("permission_missing", True, "The {exchange} API key lacks a permission the import needs"),
        CauseInfo("ip_not_allowed", True, "{exchange} refused this server's IP address for the API key"),
        CauseInfo("account_suspended", True, "The {exchange} account is frozen, locked or disabled"),
        CauseInfo("account_closed", True, "The {exchange} account is closed or no longer exists"),
        CauseInfo(
            "clock_skew", True, "{exchange} rejected the request time: the server clock or nonce is off"
        ),
        CauseInfo(
            "rate_limited", False, "{exchange} is rate-limiting requests; they are retried with backoff"
        ),
        CauseInfo(
            "exchange_unavailable", False, "{exchange} is under maintenance or unavailable; retried later"
        ),
        CauseInfo("network_error", False, "{exchange} could not be reached (network); retried later"),
        CauseInfo("unknown", True, "{exchange} returned an error exchange-sync does not recognise"),
    )
}

TRANSIENT = frozenset(name for name, info in CAUSES.items() if not info.action_required)


def check(cause: str) -> str:
    if cause not in CAUSES:
        raise ValueError(f"unknown cause {cause!r} (known: {', '.join(CAUSES)})")
    return cause

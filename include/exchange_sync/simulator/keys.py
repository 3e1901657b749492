"""Key checks every exchange makes the same way (only the error bodies differ)."""

from __future__ import annotations

import ipaddress


def ip_allowed(remote: str | None, allowlist: list[str]) -> bool:
    """Whether the caller's IP is on the key's allow-list (an empty list allows every IP)."""
    if not allowlist:
        return True
    if remote is None:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in allowlist)

"""Keep signatures and credentials out of every message that may reach a log, an XCom or a table.

ccxt puts the full request URL into the errors it raises (`binance GET https://…&signature=…`),
and requests/urllib3 do the same in the exceptions ccxt chains to; a traceback prints them all.
"""

from __future__ import annotations

import re

# Query or form parameters that carry a signature or a credential, by the names exchanges use.
_SECRET_PARAMS = re.compile(
    r"(?i)\b(signature|sign|api[-_]?key|apikey|secret|passphrase|password|token|access[-_]?key)"
    r"=[^&\s'\"]*"
)
_REDACTED = r"\1=<redacted>"


def scrub(text: str) -> str:
    """`text` with the value of every signature- or credential-like parameter replaced."""
    return _SECRET_PARAMS.sub(_REDACTED, text)


def scrub_exception(exc: BaseException) -> BaseException:
    """Scrub the message of `exc` and of every exception it chains to, in place; returns `exc`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        cleaned = scrub(text)
        if cleaned != text:
            try:
                current.args = (cleaned,)
            except (AttributeError, TypeError):  # an exception type that forbids it: leave it
                pass
        current = current.__cause__ or current.__context__
    return exc

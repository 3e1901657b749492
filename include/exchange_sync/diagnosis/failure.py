"""A failed exchange request as the diagnosis needs it: small, JSON-safe, free of secrets.

Carried from the failing import task to the diagnosis (an XCom), so it holds only what the
exchange sent back and which ccxt class was raised, never the request (which carries signatures).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from exchange_sync.redact import scrub

MAX_BODY = 4000
# The error class of a connection that could not be used (hooks/credentials.py); no request made.
CONNECTION_PROBLEM = "ConnectionProblem"


@dataclass(frozen=True)
class Failure:
    exchange: str
    http_status: int | None
    body: str | None
    error_class: str
    message: str
    key_fingerprint: str | None = None  # which credential version failed (never the key itself)
    conn_field: str | None = None  # for a ConnectionProblem: the connection field at fault

    @classmethod
    def from_exception(
        cls, exchange: str, exc: BaseException, client: Any = None, key_fingerprint: str | None = None
    ) -> Failure:
        log = getattr(client, "request_log", None)
        return cls(
            exchange=exchange,
            http_status=log.last_status if log else None,
            body=(log.last_body or "")[:MAX_BODY] if log and log.last_status else None,
            error_class=type(exc).__name__,
            message=scrub(str(exc))[:MAX_BODY],
            key_fingerprint=key_fingerprint,
            conn_field=getattr(exc, "field", None) if type(exc).__name__ == CONNECTION_PROBLEM else None,
        )

    @property
    def made_no_request(self) -> bool:
        """The connection could not be used, so the exchange was never asked."""
        return self.error_class == CONNECTION_PROBLEM

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Failure:
        return cls(**data)

    def error(self) -> BaseException:
        """The ccxt exception again (its class carries meaning for the classifier)."""
        import ccxt

        error_class = getattr(ccxt, self.error_class, None)
        if isinstance(error_class, type) and issubclass(error_class, BaseException):
            return error_class(self.message)
        return RuntimeError(self.message)

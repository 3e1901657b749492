"""CcxtHook: owns the exchange connection and hands out configured ccxt clients.

Operators, sensors and the importer never read credentials themselves; they ask this hook for a
client. Secrets stay inside the ccxt instance and are never logged or returned.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from exchange_sync.airflow_connections import find_connection
from exchange_sync.provider import CONN_TYPE


@dataclass(frozen=True)
class Credentials:
    exchange: str
    api_key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)
    uid: str = ""
    base_url: str | None = None

    @property
    def fingerprint(self) -> str:
        """Identifies a key version without revealing it: a short hash of key and secret together."""
        digest = hashlib.sha256(f"{self.exchange}\0{self.api_key}\0{self.secret}".encode()).hexdigest()
        return f"{self.api_key[:4]}…{digest[:12]}" if self.api_key else "none"


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int | None = None  # None until a response arrives (or if none ever does)


@dataclass
class RequestLog:
    """Every HTTP request a client made, for task logs, diagnosis and request-count checks."""

    entries: list[RequestRecord] = field(default_factory=list)
    last_body: str | None = None  # the last response body, as the exchange sent it

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def failures(self) -> int:
        """Requests answered with an error status or not answered at all."""
        return sum(1 for e in self.entries if e.status is None or e.status >= 400)

    @property
    def last_status(self) -> int | None:
        return self.entries[-1].status if self.entries else None


class CcxtHook(BaseHook):
    conn_name_attr = "ccxt_conn_id"
    default_conn_name = "ccxt_default"
    conn_type = CONN_TYPE
    hook_name = "Crypto exchange (ccxt)"

    def __init__(self, ccxt_conn_id: str = default_conn_name, **kwargs: Any):
        super().__init__(**kwargs)
        self.ccxt_conn_id = ccxt_conn_id

    def get_credentials(self) -> Credentials:
        conn = find_connection(self.ccxt_conn_id)
        if conn is None:
            raise AirflowNotFoundException(f"The conn_id `{self.ccxt_conn_id}` isn't defined")
        return credentials_from_connection(conn)

    def get_client(self, options: dict[str, Any] | None = None) -> Any:
        """A new ccxt client: callers that diagnose need an instance with no history (see
        reference/exchange-errors.md §0.2 on Binance -2015)."""
        return build_client(self.get_credentials(), options)

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: one authenticated read with these keys."""
        try:
            client = self.get_client()
            client.fetch_balance()
        except Exception as exc:  # the message is the user's answer; ccxt never puts secrets in it
            return False, f"{type(exc).__name__}: {exc}"
        return True, "The exchange accepted the keys (balance read)."


def credentials_from_connection(conn: Any) -> Credentials:
    extra = conn.extra_dejson or {}

    def field(name: str) -> str:
        # The connection form may store its fields prefixed (extra__ccxt__name), as older UIs did.
        return extra.get(name) or extra.get(f"extra__{CONN_TYPE}__{name}") or ""

    exchange = field("exchange")
    if not exchange:
        raise ValueError(
            f"connection {conn.conn_id!r} does not say which exchange it is for (extra 'exchange')"
        )
    return Credentials(
        exchange=exchange,
        api_key=conn.login or "",
        secret=conn.password or "",
        passphrase=field("passphrase"),
        uid=field("uid"),
        base_url=field("base_url") or None,
    )


def build_client(
    credentials: Credentials, options: dict[str, Any] | None = None, asynchronous: bool = False
) -> Any:
    """A configured ccxt client; `asynchronous` gives ccxt.async_support's (for triggers)."""
    # Heavy: imported only when a client is needed, never at DAG parse time.
    if asynchronous:
        import ccxt.async_support as ccxt
    else:
        import ccxt

    config: dict[str, Any] = {"enableRateLimit": True, "options": dict(options or {})}
    for name, value in (
        ("apiKey", credentials.api_key),
        ("secret", credentials.secret),
        ("password", credentials.passphrase),
        ("uid", credentials.uid),
    ):
        if value:
            config[name] = value
    client = getattr(ccxt, credentials.exchange)(config)
    # Parse every amount as a string so nothing passes through a binary float.
    client.number = str
    if credentials.base_url:
        client.urls["api"] = rebase_urls(client.urls["api"], credentials.base_url)
    client.request_log = RequestLog()
    _record_requests(client)
    return client


def rebase_urls(urls: Any, base_url: str) -> Any:
    """Point every API URL at `base_url`, keeping each URL's path: https://api.x.com/api/v3 ->
    {base_url}/api/v3."""
    if isinstance(urls, dict):
        return {key: rebase_urls(value, base_url) for key, value in urls.items()}
    if isinstance(urls, str) and urls.startswith(("http://", "https://")):
        path = urlsplit(urls).path
        return base_url.rstrip("/") + path
    return urls


def _record_requests(client: Any) -> None:
    original_fetch = client.fetch
    original_on_response = client.on_rest_response
    log: RequestLog = client.request_log

    def fetch(url: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        log.entries.append(RequestRecord(method, urlsplit(url).path))
        return original_fetch(url, method, *args, **kwargs)

    # ccxt calls this for every response, before raising for error statuses: the only place the
    # HTTP status of a failed request can be seen.
    def on_rest_response(code: int, reason: str, url: str, method: str, *rest: Any) -> Any:
        if log.entries:
            log.entries[-1].status = int(code)
        body = original_on_response(code, reason, url, method, *rest)
        log.last_body = body[:10_000] if isinstance(body, str) else body
        return body

    client.fetch = fetch
    client.on_rest_response = on_rest_response

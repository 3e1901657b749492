"""CcxtHook: owns the exchange connection and hands out configured ccxt clients.

Operators, sensors and the importer never read credentials themselves; they ask this hook for a
client. Secrets stay inside the ccxt instance and are never logged or returned.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.sdk import BaseHook

from exchange_sync.airflow_connections import find_connection
from exchange_sync.hooks.answers import AnswerShape, check_answer, states_error
from exchange_sync.hooks.backoff import RateLimitBackoff, log_wait
from exchange_sync.hooks.credentials import (
    CONN_TYPE,
    ConnectionProblem,
    Credentials,
    account_credentials,
    credentials_from_connection,
)
from exchange_sync.hooks.pacing import Pacer
from exchange_sync.hooks.shared import share
from exchange_sync.profiles import PROFILES
from exchange_sync.redact import scrub_exception

if TYPE_CHECKING:
    from exchange_sync.warehouse.client_state import ClientState

CLIENT_PACING_ENV = "EXCHANGE_SYNC_CLIENT_PACING"

__all__ = ["CcxtHook", "ConnectionProblem", "Credentials", "build_client", "credentials_from_connection"]


# How many of a client's most recent requests its RequestLog keeps the records of. Diagnosis and
# bad-answer messages read only the last; counts cover every request whatever this is.
RECENT_REQUESTS = 100


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int | None = None  # None until a response arrives (or if none ever does)
    retry_after: str | None = None  # the answer's Retry-After header, where it has one


@dataclass
class RequestLog:
    """A client's HTTP requests, for task logs, diagnosis and request-count checks: how many were
    made and how many failed over the client's life, and the records of the most recent ones.

    One client imports an account's whole history, however long: a record kept per request grew
    with it (1,000 trades a page on Binance, 50 entries on Kraken). So only the last
    RECENT_REQUESTS records are kept, and the totals are counters."""

    entries: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=RECENT_REQUESTS))
    last_body: str | None = None  # the last response body, as the exchange sent it
    last_answer: Any = None  # the last successful answer, as JSON (e.g. a page's total count)
    count: int = 0  # requests made
    _answered: int = 0  # requests answered with a status below 400

    def record(self, method: str, path: str) -> RequestRecord:
        """A request is about to go out."""
        entry = RequestRecord(method, path)
        self.entries.append(entry)
        self.count += 1
        return entry

    def answered(self, status: int, retry_after: str | None = None) -> None:
        """The last request's response arrived with `status` (and a Retry-After header)."""
        if not self.entries:
            return
        last = self.entries[-1]
        last.retry_after = retry_after
        if last.status is not None and last.status < 400:  # answered twice: count it once
            self._answered -= 1
        last.status = status
        if status < 400:
            self._answered += 1

    @property
    def failures(self) -> int:
        """Requests answered with an error status or not answered at all."""
        return self.count - self._answered

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

    def get_credentials(self, exchange: str | None = None) -> Credentials:
        """The connection's credentials, complete (and for `exchange`, when given);
        ConnectionProblem names what is missing or wrong."""
        return account_credentials(find_connection(self.ccxt_conn_id), self.ccxt_conn_id, exchange)

    def get_client(self, options: dict[str, Any] | None = None) -> Any:
        """A new ccxt client: callers that diagnose need an instance with no history (see
        reference/exchange-errors.md §0.2 on Binance -2015)."""
        return build_client(self.get_credentials(), options)

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: the check the Connections page's Fix it makes (triggers/key_check.py):
        the keys work, open the account the registry's account had so far, and may read its streams."""
        import asyncio
        import concurrent.futures

        from exchange_sync.triggers.key_check import VALID, check_keys

        try:
            credentials = self.get_credentials()
            streams, expected_uid = _account_for(self.ccxt_conn_id, credentials.exchange)
            # The Test button may call this from a thread that already runs an event loop.
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                check = pool.submit(asyncio.run, check_keys(credentials, expected_uid, streams)).result()
        except Exception as exc:  # the message is the user's answer; ccxt never puts secrets in it
            return False, f"{type(exc).__name__}: {scrub_exception(exc)}"
        if check.outcome != VALID:
            return False, " ".join(p for p in (check.detail, check.remediation) if p)
        accepted = "The exchange accepted the keys: they may read every stream."
        return True, " ".join((accepted, *check.warnings))


def _account_for(conn_id: str, exchange: str) -> tuple[tuple[str, ...], str | None]:
    """The streams and known exchange identity of the registry account using this connection
    (every stream of the exchange and no identity for a connection no account uses)."""
    from exchange_sync.registry import load_registry
    from exchange_sync.settings import registry_path

    account = next((a for a in load_registry(registry_path()).accounts if a.conn_id == conn_id), None)
    if account is None:
        profile = PROFILES.get(exchange)
        return (tuple(profile.streams) if profile else ("balances",)), None
    try:
        from exchange_sync.warehouse import Warehouse

        with Warehouse.open() as warehouse:
            state = warehouse.accounts.get(account.id)
    except Exception:  # no warehouse reachable from here: the identity cannot be compared
        state = None
    return tuple(account.streams), state.exchange_uid if state else None


def build_client(
    credentials: Credentials,
    options: dict[str, Any] | None = None,
    asynchronous: bool = False,
    shared: ClientState | None = None,
) -> Any:
    """The one place a ccxt client is built: the exchange's profile options (plus `options`),
    exact amounts, the base-URL override, a request log, checked answers and scrubbed errors.
    `asynchronous` gives ccxt.async_support's class (for triggers). With `shared`, the client
    takes its market list and request budget from the warehouse, with every other such client
    of the exchange (hooks/shared.py: every import, scheduled or backfill)."""
    # Heavy: imported only when a client is needed, never at DAG parse time.
    if asynchronous:
        import ccxt.async_support as ccxt
    else:
        import ccxt

    profile = PROFILES.get(credentials.exchange)
    counter = profile.call_counter if profile else None
    config: dict[str, Any] = {
        # Exchanges with a call counter are paced by its model instead (hooks/pacing.py).
        "enableRateLimit": counter is None,
        "options": {**(profile.ccxt_options if profile else {}), **(options or {})},
    }
    for name, value in (
        ("apiKey", credentials.api_key),
        ("secret", credentials.secret),
        ("password", credentials.passphrase),
        ("uid", credentials.uid),
    ):
        if value:
            config[name] = value
    client = getattr(ccxt, credentials.exchange)(config)
    if profile and profile.ccxt_has:
        client.has = {**client.has, **profile.ccxt_has}
    # Parse every amount as a string so nothing passes through a binary float.
    client.number = str
    if credentials.base_url:
        client.urls["api"] = rebase_urls(client.urls["api"], credentials.base_url)
    client.request_log = RequestLog()
    client.pacer = Pacer(counter) if counter is not None and client_pacing_enabled() else None
    _instrument(
        client, profile.answer_shapes if profile else (), profile.error_keys if profile else (), asynchronous
    )
    if not client_pacing_enabled():
        client.enableRateLimit = False
    if shared is not None and not asynchronous:
        share(
            client, credentials.exchange, credentials.base_url, shared, profile.own_budgets if profile else ()
        )
    return client


def client_pacing_enabled() -> bool:
    """Client-side pacing (ccxt's throttle, or the exchange's call counter) is on unless
    EXCHANGE_SYNC_CLIENT_PACING=off: for tests and benchmarks against the simulator with its
    rate limits off, or a deployment that paces requests in a proxy of its own."""
    return os.environ.get(CLIENT_PACING_ENV, "on").lower() not in ("off", "0", "false", "no")


def rebase_urls(urls: Any, base_url: str) -> Any:
    """Point every API URL at `base_url`, keeping each URL's path: https://api.x.com/api/v3 ->
    {base_url}/api/v3."""
    if isinstance(urls, dict):
        return {key: rebase_urls(value, base_url) for key, value in urls.items()}
    if isinstance(urls, str) and urls.startswith(("http://", "https://")):
        path = urlsplit(urls).path
        return base_url.rstrip("/") + path
    return urls


def _instrument(
    client: Any, shapes: tuple[AnswerShape, ...], error_keys: tuple[str, ...], asynchronous: bool
) -> None:
    """Wrap the client's transport: log each request, check each answer's shape, scrub errors."""
    original_fetch = client.fetch
    original_on_response = client.on_rest_response
    original_handle_errors = client.handle_errors
    log: RequestLog = client.request_log

    def before(url: str, method: str) -> str:
        path = urlsplit(url).path
        log.record(method, path)
        return path

    def after(path: str, answer: Any) -> Any:
        check_answer(client.id, path, answer, shapes)
        log.last_answer = answer
        return answer

    if asynchronous:

        @functools.wraps(original_fetch)
        async def fetch(url: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
            if client.pacer is not None:
                await client.pacer.await_turn(urlsplit(url).path)
            path = before(url, method)
            try:
                answer = await original_fetch(url, method, *args, **kwargs)
            except Exception as exc:
                scrub_exception(exc)
                raise
            return after(path, answer)

    else:

        @functools.wraps(original_fetch)
        def fetch(url: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
            if client.pacer is not None:
                client.pacer.wait(urlsplit(url).path)
            path = before(url, method)
            try:
                answer = original_fetch(url, method, *args, **kwargs)
            except Exception as exc:
                scrub_exception(exc)
                raise
            return after(path, answer)

    # ccxt calls this for every response, before raising for error statuses: the only place the
    # HTTP status of a failed request can be seen.
    def on_rest_response(code: int, reason: str, url: str, method: str, *rest: Any) -> Any:
        headers = rest[0] if rest else None
        log.answered(int(code), headers.get("Retry-After") if headers is not None else None)
        body = original_on_response(code, reason, url, method, *rest)
        log.last_body = body[:10_000] if isinstance(body, str) else body
        return body

    # Exchanges that state errors in a 200's body (OKX's {"code": "5xxxx"}): ccxt reads any 200
    # body for one, and raises a bare ExchangeError on a body that is no answer of the exchange
    # at all ({} from a proxy). Such a body is checked here first, so it is a BadResponse.
    def handle_errors(
        code: int, reason: str, url: str, method: str, headers: Any, body: Any, answer: Any, *rest: Any
    ) -> Any:
        if error_keys and 200 <= int(code) < 300 and not states_error(answer, error_keys):
            check_answer(client.id, urlsplit(url).path, answer, shapes)
        return original_handle_errors(code, reason, url, method, headers, body, answer, *rest)

    client.fetch = fetch
    client.on_rest_response = on_rest_response
    client.handle_errors = handle_errors
    client.fetch2 = _backing_off(client, client.fetch2, asynchronous)


def _backing_off(client: Any, original_fetch2: Any, asynchronous: bool) -> Any:
    """ccxt's fetch2 (throttle, sign, send), sent again after a 429/418 as long as the exchange
    asks to wait (hooks/backoff.py): re-signed each time, so nonces and timestamps stay valid."""
    import ccxt

    limited = (ccxt.RateLimitExceeded, ccxt.DDoSProtection)
    policy = RateLimitBackoff()
    log: RequestLog = client.request_log

    def delay(attempt: int, waited: float) -> float | None:
        last = log.entries[-1] if log.entries else None
        wait = policy.delay(last and last.status, last and last.retry_after, attempt, waited)
        if wait is not None:
            log_wait(client.id, last.path, last.status, wait, attempt)
        return wait

    if asynchronous:

        @functools.wraps(original_fetch2)
        async def fetch2(*args: Any, **kwargs: Any) -> Any:
            waited = 0.0
            for attempt in itertools.count(1):
                try:
                    return await original_fetch2(*args, **kwargs)
                except limited:
                    wait = delay(attempt, waited)
                    if wait is None:
                        raise
                await asyncio.sleep(wait)
                waited += wait

        return fetch2

    @functools.wraps(original_fetch2)
    def fetch2(*args: Any, **kwargs: Any) -> Any:
        waited = 0.0
        for attempt in itertools.count(1):
            try:
                return original_fetch2(*args, **kwargs)
            except limited:
                wait = delay(attempt, waited)
                if wait is None:
                    raise
            time.sleep(wait)
            waited += wait

    return fetch2

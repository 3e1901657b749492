"""What an account's Airflow connection holds, checked field by field before any request is made.

A connection that cannot work (missing, extra not JSON, no or a misspelt exchange, a base URL
without a scheme, an empty key or secret) is a `ConnectionProblem` naming the connection and the
field as the connection form labels it, never an exchange error: no request was made.
No Airflow import here: the diagnosis and the CLI read these without a metastore.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

CONN_TYPE = "ccxt"
# The connection form's labels (provider.py), so messages name what the user sees.
FIELD_LABELS = {
    "login": "API key",
    "password": "Secret",
    "extra": "Extra",
    "exchange": "Exchange id",
    "passphrase": "Passphrase",
    "uid": "UID",
    "base_url": "Base URL override",
    "private_key": "Private key (PEM)",
}
# ccxt's names for the credentials it requires -> the connection field that holds each.
CCXT_CREDENTIAL_FIELDS = {"apiKey": "login", "secret": "password", "password": "passphrase", "uid": "uid"}


class ConnectionProblem(ValueError):
    """The account's Airflow connection cannot be used as it is (cause: credentials_missing)."""

    def __init__(self, conn_id: str, field: str | None, problem: str):
        self.conn_id = conn_id
        self.field = field
        self.problem = problem
        where = f"field '{FIELD_LABELS.get(field, field)}' " if field else ""
        super().__init__(f"Airflow connection '{conn_id}': {where}{problem}")


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

    def require_complete(self, conn_id: str) -> Credentials:
        """Raise unless every credential the exchange's ccxt class requires is filled in."""
        import ccxt  # heavy, and only needed once a request is about to be made

        # Instance, not class: each exchange declares its needs in describe().
        required = getattr(ccxt, self.exchange)().requiredCredentials
        values = {"login": self.api_key, "password": self.secret, "passphrase": self.passphrase}
        values["uid"] = self.uid
        for ccxt_name, conn_field in CCXT_CREDENTIAL_FIELDS.items():
            if required.get(ccxt_name) and not values[conn_field]:
                raise ConnectionProblem(conn_id, conn_field, f"is empty, and {self.exchange} keys need it")
        return self


def missing_connection(conn_id: str) -> ConnectionProblem:
    return ConnectionProblem(
        conn_id, None, f"does not exist; create it with connection type 'Crypto exchange ({CONN_TYPE})'"
    )


def account_credentials(conn: Any | None, conn_id: str, exchange: str | None = None) -> Credentials:
    """The credentials an import (for `exchange`, when given) can use, or the ConnectionProblem."""
    if conn is None:
        raise missing_connection(conn_id)
    credentials = credentials_from_connection(conn)
    if exchange is not None and credentials.exchange != exchange:
        raise ConnectionProblem(
            conn_id,
            "exchange",
            f"is '{credentials.exchange}', but the account registry puts this account on '{exchange}'",
        )
    return credentials.require_complete(conn_id)


def credentials_from_connection(conn: Any) -> Credentials:
    """The connection's credentials; ConnectionProblem for anything that cannot work."""
    conn_id = conn.conn_id
    extra = _extra(conn)

    def value(name: str) -> str:
        # The connection form may store its fields prefixed (extra__ccxt__name), as older UIs did.
        found = extra.get(name) or extra.get(f"extra__{CONN_TYPE}__{name}") or ""
        if not isinstance(found, str):
            raise ConnectionProblem(conn_id, name, f"must be text, not {type(found).__name__}")
        return found.strip()

    exchange = value("exchange")
    _check_exchange(conn_id, exchange)
    base_url = value("base_url") or None
    if base_url is not None:
        _check_base_url(conn_id, base_url)
    return Credentials(
        exchange=exchange,
        api_key=(conn.login or "").strip(),
        # A key whose secret is a private key (Coinbase CDP) may be pasted into either field.
        secret=normalize_pem((conn.password or "").strip() or value("private_key")),
        passphrase=value("passphrase"),
        uid=value("uid"),
        base_url=base_url,
    )


_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.S)


def normalize_pem(secret: str) -> str:
    """A PEM private key as its library needs it, however the form carried it: a single-line
    password field drops the line breaks, a JSON copy turns them into a literal backslash-n.
    Anything that is not a PEM is returned as it is."""
    match = _PEM.search(secret.replace("\\n", "\n"))
    if match is None:
        return secret
    kind, body = match.group(1), re.sub(r"\s+", "", match.group(2))
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----", ""])


def _extra(conn: Any) -> dict[str, Any]:
    raw = conn.extra
    if raw in (None, ""):
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        extra = json.loads(raw)
    except ValueError as exc:
        raise ConnectionProblem(
            conn.conn_id, "extra", f"is not valid JSON ({exc.msg} at {exc.pos})"
        ) from None
    if not isinstance(extra, dict):
        raise ConnectionProblem(conn.conn_id, "extra", "must be a JSON object")
    return extra


def _check_exchange(conn_id: str, exchange: str) -> None:
    if not exchange:
        raise ConnectionProblem(
            conn_id, "exchange", "is empty: say which exchange the key is for, e.g. binance"
        )
    import ccxt

    if exchange not in ccxt.exchanges:
        close = difflib.get_close_matches(exchange.lower(), ccxt.exchanges, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConnectionProblem(conn_id, "exchange", f"'{exchange}' is not a ccxt exchange id{hint}")


def _check_base_url(conn_id: str, base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConnectionProblem(
            conn_id,
            "base_url",
            f"'{base_url}' is not an http(s) URL with a host, e.g. http://127.0.0.1:8765/binance",
        )

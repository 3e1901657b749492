"""Fix it: new keys for an account, checked against the exchange before they are saved.

Save and change = the keys are complete for the exchange, one check on a fresh client
(triggers/key_check.check_keys, the same check the waiting recovery makes) says they work, open
the same exchange account as before and may read every stream the account imports; only then
are they written into the account's Airflow connection (airflow_connections.put_connection,
Fernet-encrypted like any connection). On any refusal the connection is left as it was.
Secrets are never logged, returned or kept: only their fingerprint is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from exchange_sync.airflow_connections import find_connection, put_connection
from exchange_sync.hooks.credentials import (
    CONN_TYPE,
    ConnectionProblem,
    Credentials,
    _check_base_url,
    credentials_from_connection,
    normalize_pem,
)
from exchange_sync.registry import AccountConfig

log = logging.getLogger(__name__)

# Exchanges whose API secret is a private key in PEM (Coinbase CDP keys): a multi-line textarea.
PEM_SECRET_EXCHANGES = frozenset({"coinbase", "coinbaseadvanced", "coinbaseinternational"})
# Extra fields that hold a credential: replaced by what the form sends, never carried over.
SECRET_EXTRA_FIELDS = ("passphrase", "uid", "private_key")


# Not frozen: Python sets an exception's __traceback__ as it passes through a `with` block.
@dataclass
class Refusal(Exception):
    """Why the keys were not saved, in the user's words; the connection is unchanged."""

    message: str
    cause: str
    remediation: str = ""
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "saved": False,
            "error": self.message,
            "cause": self.cause,
            "remediation": self.remediation,
            "field": self.field,
        }


def form_fields(exchange: str, connection_exists: bool = True) -> list[dict[str, Any]]:
    """The fields this exchange's keys have, as ccxt's class declares them (requiredCredentials);
    plus where requests go when there is no connection to take that from (new_credentials)."""
    import ccxt

    required = getattr(ccxt, exchange)().requiredCredentials if exchange in ccxt.exchanges else {}
    pem = exchange in PEM_SECRET_EXCHANGES
    fields = [
        {"name": "api_key", "label": "API key name" if pem else "API key", "kind": "text"},
        {
            "name": "secret",
            "label": "Private key (PEM)" if pem else "Secret",
            "kind": "pem" if pem else "password",
            "placeholder": "-----BEGIN EC PRIVATE KEY-----" if pem else "",
        },
    ]
    if required.get("password"):
        fields.append({"name": "passphrase", "label": "Passphrase", "kind": "password"})
    if required.get("uid"):
        fields.append({"name": "uid", "label": "UID", "kind": "text"})
    if not connection_exists:
        fields.append({**BASE_URL_FIELD, "placeholder": f"e.g. http://127.0.0.1:8765/{exchange}"})
    return fields


# Only offered while the connection does not exist: an existing one keeps where its requests go.
BASE_URL_FIELD = {
    "name": "base_url",
    "label": "Base URL (optional): leave empty for the real exchange; only for a test exchange or a proxy",
    "kind": "url",
}


def new_credentials(account: AccountConfig, form: dict[str, Any]) -> tuple[Credentials, dict[str, Any]]:
    """The credentials the form describes, on the exchange and base URL the connection has now
    (the form never changes where an existing connection's requests go), and the connection's
    other extra fields. Without a connection, the form's optional base URL (a Refusal if bad)."""
    existing = find_connection(account.conn_id)
    extra: dict[str, Any] = {}
    base_url = None
    if existing is None:
        base_url = _form_base_url(account.conn_id, form.get("base_url"))
    else:  # a posted base_url is ignored: a new key must not move an account's requests elsewhere
        try:
            base_url = credentials_from_connection(existing).base_url
            extra = {k: v for k, v in existing.extra_dejson.items() if k not in SECRET_EXTRA_FIELDS}
        except ConnectionProblem:  # a broken connection is exactly what Fix it replaces ...
            base_url = _salvaged_base_url(existing)  # ... but not where its requests go
    text = {name: str(form.get(name) or "").strip() for name in ("api_key", "secret", "passphrase", "uid")}
    credentials = Credentials(
        exchange=account.exchange,
        api_key=text["api_key"],
        secret=normalize_pem(text["secret"]),
        passphrase=text["passphrase"],
        uid=text["uid"],
        base_url=base_url,
    )
    extra.update(exchange=account.exchange, **({"base_url": base_url} if base_url else {}))
    return credentials, extra


def _form_base_url(conn_id: str, value: Any) -> str | None:
    """The base URL typed into the form for a new connection: empty = the real exchange."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        _check_base_url(conn_id, text)  # the same check the connection's field gets
    except ConnectionProblem as problem:
        raise Refusal(
            f"Base URL: {problem.problem}. Nothing was saved; leave it empty for the real exchange.",
            "credentials_missing",
            field="base_url",
        ) from None
    return text


def _salvaged_base_url(conn: Any) -> str | None:
    """The base URL of a connection broken elsewhere (e.g. a misspelt exchange id), if it is one."""
    try:
        found = (conn.extra_dejson or {}).get("base_url")
    except Exception:  # extra is not JSON: nothing to keep
        return None
    if not isinstance(found, str) or not found.strip():
        return None
    try:  # credentials.py's own check of the field
        _check_base_url(conn.conn_id, found.strip())
    except ConnectionProblem:
        return None
    return found.strip()


def check_complete(credentials: Credentials, conn_id: str) -> None:
    if not credentials.api_key:
        raise Refusal("Enter the API key.", "credentials_missing", field="api_key")
    if not credentials.secret:
        raise Refusal("Enter the secret that belongs to this API key.", "credentials_missing", field="secret")
    try:
        credentials.require_complete(conn_id)
    except ConnectionProblem as problem:
        field = {"passphrase": "passphrase", "uid": "uid"}.get(problem.field or "", problem.field)
        raise Refusal(str(problem), "credentials_missing", field=field) from None


async def validate(credentials: Credentials, account: AccountConfig, expected_uid: str | None) -> Any:
    """check_keys on a fresh client; a Refusal unless the keys may be saved."""
    from exchange_sync.diagnosis.knowledge import knowledge_for
    from exchange_sync.triggers.key_check import UNANSWERED, VALID, WRONG_ACCOUNT, check_keys

    name = knowledge_for(account.exchange).name
    check = await check_keys(credentials, expected_uid, streams=tuple(account.streams))
    log.info("Fix it for %s: key %s checked: %s", account.id, credentials.fingerprint, check.outcome)
    if check.outcome == VALID:
        return check
    if check.outcome == WRONG_ACCOUNT:
        raise Refusal(
            f"This key belongs to another {name} account, not the one imported so far. Nothing was "
            f"saved. Create the key while logged in to the same {name} account as before.",
            "wrong_account",
        )
    if check.outcome == UNANSWERED:
        raise Refusal(
            f"{name} did not answer the check ({check.detail}). Nothing was saved; try again in a minute.",
            check.cause or "exchange_unavailable",
        )
    raise Refusal(_refusal_words(check, name), check.cause or "unknown", check.remediation)


def _refusal_words(check: Any, name: str) -> str:
    words = {
        "key_invalid": f"{name} refused the key: the secret does not match this API key (or the key does "
        "not exist). Copy the key and its secret again, exactly as the exchange shows them.",
        "key_revoked": f"{name} says this API key was deleted or revoked. Create a new one.",
        "key_expired": f"{name} says this API key has expired. Create a new one.",
        "permission_missing": f"{check.detail}. Enable it for the key on {name} (reading only is "
        "enough), or create a key that has it.",
        "ip_not_allowed": f"{name} refused this server's IP address for the key: add the server's IP "
        "to the key's IP allow-list on the exchange, or create a key without the restriction.",
    }
    found = words.get(check.cause)
    return f"{found or check.detail or 'The keys were refused'}. Nothing was saved.".replace("..", ".")


def save(account: AccountConfig, credentials: Credentials, extra: dict[str, Any]) -> None:
    existing = find_connection(account.conn_id)
    put_connection(
        account.conn_id,
        conn_type=CONN_TYPE,
        login=credentials.api_key,
        password=credentials.secret,
        extra={
            **extra,
            **({"passphrase": credentials.passphrase} if credentials.passphrase else {}),
            **({"uid": credentials.uid} if credentials.uid else {}),
        },
        description=(getattr(existing, "description", None) or "") if existing else "",
    )
    log.info(
        "Fix it for %s: connection %s now holds key %s", account.id, account.conn_id, credentials.fingerprint
    )

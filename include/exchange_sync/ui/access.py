"""Who may do what on the Connections page: Airflow's own authentication (get_user: the UI's
session cookie or a bearer token) and its auth manager's decisions, never a login of our own.

- reading the board: the right to read connections OR DAGs;
- Fix it (writes the account's connection): the right to edit that connection;
- freeze, unfreeze, retry, CSV upload: the right to edit the account's connection OR to trigger
  its exchange's DAG (they change what the pipeline does, not the keys).

CSRF. The Airflow UI's session is an HttpOnly, SameSite=Lax cookie (`_token`) the page's script
cannot read, so the page authenticates with that cookie, and a cookie-authenticated state change
must prove it was sent by our own page. Every state change must be a JSON body (an HTML form on
another site cannot send application/json without a CORS preflight, which nothing here grants)
AND carry X-CSRF-Token: an HMAC of the user's id under Airflow's API secret key, handed out only
by GET /api/session, whose answer another origin cannot read. SameSite=Lax alone would leave
sibling sub-domains and older browsers open. A request with a bearer token instead of the cookie
is not exposed to CSRF (no browser attaches that header by itself) and needs no token.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import (
    ConnectionDetails,
    DagAccessEntity,
    DagDetails,
)
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, Request, status

CSRF_HEADER = "X-CSRF-Token"

User = Annotated[BaseUser, Depends(get_user)]


def csrf_token(user: BaseUser) -> str:
    from airflow.configuration import conf

    secret = conf.get("api", "secret_key", fallback="") or conf.get("api_auth", "jwt_secret", fallback="")
    message = f"exchange-sync-csrf\0{user.get_id()}\0{user.get_name()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def can_read(user: BaseUser) -> bool:
    manager = get_auth_manager()
    return manager.is_authorized_connection(method="GET", user=user) or manager.is_authorized_dag(
        method="GET", user=user
    )


def can_edit_connection(user: BaseUser, conn_id: str | None) -> bool:
    return get_auth_manager().is_authorized_connection(
        method="PUT", user=user, details=ConnectionDetails(conn_id=conn_id)
    )


def can_trigger(user: BaseUser, dag_id: str | None) -> bool:
    return get_auth_manager().is_authorized_dag(
        method="POST", user=user, access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id)
    )


def reader(user: User) -> BaseUser:
    if not can_read(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "You may not read connections or DAGs in Airflow.")
    return user


Reader = Annotated[BaseUser, Depends(reader)]


def state_change(request: Request, user: User) -> BaseUser:
    """The CSRF check every state-changing endpoint passes before its own permission check."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Send a JSON body (application/json).")
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, csrf_token(user)):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "Missing or wrong CSRF token: reload the page and try again."
            )
    return user


Changer = Annotated[BaseUser, Depends(state_change)]


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"You may not {what} in Airflow.")


def session_info(user: BaseUser) -> dict[str, Any]:
    return {
        "user": user.get_name(),
        "csrf_token": csrf_token(user),
        "can_edit_connections": can_edit_connection(user, None),
        "can_trigger": can_trigger(user, None),
    }

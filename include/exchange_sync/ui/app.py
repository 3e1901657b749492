"""The Connections page's FastAPI app, mounted by the plugin at /exchange-sync on Airflow's API
server. Every route needs an Airflow user (401 without one); see access.py for who may do what.

Blocking work (warehouse, metastore) runs in FastAPI's thread pool: routes are plain `def`,
except Fix it, which awaits the exchange check and hands its blocking parts to threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from exchange_sync.ui.access import Changer, Reader, can_edit_connection, can_trigger, require, session_info

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
ASSETS = {"board.js": "text/javascript", "board.css": "text/css"}
# Never cached: the page is small, and a cached copy would outlive a login or an upgrade.
NO_STORE = {"Cache-Control": "no-store"}
# State changes take JSON bodies only (access.py: CSRF); actions without options take `{}`.
JsonBody = Annotated[dict[str, Any], Body()]
OptionalBody = Annotated[dict[str, Any] | None, Body()]


@contextmanager
def opened() -> Iterator[tuple[Any, Any]]:
    from exchange_sync.registry import load_registry
    from exchange_sync.settings import registry_path
    from exchange_sync.warehouse import Warehouse

    registry = load_registry(registry_path())
    warehouse = Warehouse.open()
    try:
        yield registry, warehouse
    finally:
        warehouse.close()


def _account(registry: Any, account_id: str) -> Any:
    try:
        return registry.account(account_id)
    except KeyError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No account '{account_id}' in the registry."
        ) from None


def create_app() -> FastAPI:
    app = FastAPI(title="exchange-sync Connections", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Any:
        if exc.status_code == status.HTTP_401_UNAUTHORIZED and _wants_html(request):
            return HTMLResponse(_login_page(request), status_code=401, headers=NO_STORE)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=NO_STORE)

    @app.get("/", response_class=HTMLResponse)
    def page(user: Reader) -> Any:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=NO_STORE)

    @app.get("/static/{name}")
    def asset(name: str, user: Reader) -> Any:
        if name not in ASSETS:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers=NO_STORE)

    @app.get("/api/session")
    def session(user: Reader) -> Any:
        return JSONResponse(session_info(user), headers=NO_STORE)

    @app.get("/api/board")
    def board(user: Reader, exchange: str | None = None, state: str | None = None) -> Any:
        from exchange_sync.ui.board import board as build

        with opened() as (registry, warehouse):
            return JSONResponse(build(registry, warehouse, exchange or None, state or None), headers=NO_STORE)

    @app.get("/api/accounts/{account_id}/form")
    def form(account_id: str, user: Reader) -> Any:
        from exchange_sync.airflow_connections import find_connection
        from exchange_sync.ui.board import connection_summary
        from exchange_sync.ui.fix_keys import form_fields

        with opened() as (registry, _warehouse):
            account = _account(registry, account_id)
        return JSONResponse(
            {
                "account": account.id,
                "exchange": account.exchange,
                "conn_id": account.conn_id,
                # Never a value: secrets are never pre-filled, and the key is shown as a fingerprint.
                "fields": form_fields(account.exchange, find_connection(account.conn_id) is not None),
                "current": connection_summary(account.conn_id, account.exchange),
                "can_save": can_edit_connection(user, account.conn_id),
            },
            headers=NO_STORE,
        )

    @app.post("/api/accounts/{account_id}/keys")
    async def fix_it(account_id: str, user: Changer, body: JsonBody) -> Any:
        from exchange_sync.ui import fix_keys

        def prepare() -> tuple[Any, Any, Any, str | None]:
            with opened() as (registry, warehouse):
                account = _account(registry, account_id)
                require(can_edit_connection(user, account.conn_id), f"edit the connection {account.conn_id}")
                credentials, extra = fix_keys.new_credentials(account, body)
                state = warehouse.accounts.get(account.id)
                return account, credentials, extra, state.exchange_uid if state else None

        try:
            account, credentials, extra, expected_uid = await asyncio.to_thread(prepare)
            fix_keys.check_complete(credentials, account.conn_id)
            check = await fix_keys.validate(credentials, account, expected_uid)
        except fix_keys.Refusal as refusal:
            log.info("Fix it for %s refused: %s (field %s)", account_id, refusal.cause, refusal.field)
            return JSONResponse(refusal.to_dict(), status_code=422, headers=NO_STORE)
        await asyncio.to_thread(fix_keys.save, account, credentials, extra)
        return JSONResponse(
            {
                "saved": True,
                "fingerprint": credentials.fingerprint,
                "warnings": list(check.warnings),
                "message": f"Saved. The key works and opens the same account. A recovery that is waiting "
                f"for {account.id} notices it within seconds and fills the gap; all history is kept.",
            },
            headers=NO_STORE,
        )

    @app.post("/api/accounts/{account_id}/freeze")
    def freeze(account_id: str, user: Changer, body: JsonBody) -> Any:
        from exchange_sync.ui.actions import freeze_account

        with opened() as (registry, warehouse):
            account = _may_act(registry, account_id, user)
            return _action(
                lambda: freeze_account(
                    account,
                    warehouse,
                    str(body.get("reason") or ""),
                    bool(body.get("final_sync")),
                    user.get_name(),
                )
            )

    @app.post("/api/accounts/{account_id}/unfreeze")
    def unfreeze(account_id: str, user: Changer, body: OptionalBody = None) -> Any:
        from exchange_sync.ui.actions import unfreeze_account

        with opened() as (registry, warehouse):
            account = _may_act(registry, account_id, user)
            return _action(lambda: unfreeze_account(account, warehouse))

    @app.post("/api/accounts/{account_id}/retry")
    def retry(account_id: str, user: Changer, body: OptionalBody = None) -> Any:
        from exchange_sync.ui.actions import retry_account

        with opened() as (registry, warehouse):
            account = _may_act(registry, account_id, user)
            return _action(lambda: retry_account(account, registry, warehouse, user.get_name()))

    @app.post("/api/accounts/{account_id}/csv")
    def csv_upload(account_id: str, user: Changer, body: JsonBody) -> Any:
        """An export file, sent as JSON (the CSRF rule: state changes are JSON bodies) with its
        bytes in base64; imported like `exchange-sync import-csv`."""
        from exchange_sync.ui.csv_upload import UploadError, import_upload

        with opened() as (registry, warehouse):
            account = _may_act(registry, account_id, user)
            try:
                report = import_upload(account, warehouse, body)
            except UploadError as exc:
                return JSONResponse({"ok": False, "error": str(exc)}, status_code=422, headers=NO_STORE)
            return JSONResponse({"ok": True, **report}, headers=NO_STORE)

    return app


def _may_act(registry: Any, account_id: str, user: Any) -> Any:
    account = _account(registry, account_id)
    dag_id = registry.exchange_config(account.exchange).dag_id
    require(
        can_edit_connection(user, account.conn_id) or can_trigger(user, dag_id),
        f"change what exchange-sync does for {account.id} (edit its connection or trigger {dag_id})",
    )
    return account


def _action(do: Any) -> Any:
    from exchange_sync.ui.actions import ActionError

    try:
        return JSONResponse({"ok": True, **do()}, headers=NO_STORE)
    except ActionError as exc:
        return JSONResponse({"ok": False, "error": str(exc)}, status_code=409, headers=NO_STORE)


def _wants_html(request: Request) -> bool:
    return "/api/" not in request.url.path


def _login_page(request: Request) -> str:
    from urllib.parse import quote

    try:
        from airflow.api_fastapi.app import get_auth_manager

        login = get_auth_manager().get_url_login()
    except Exception:
        login = "/auth/login/"
    target = quote(str(request.url), safe="")
    joiner = "&" if "?" in login else "?"
    return (
        "<!doctype html><meta charset='utf-8'><title>Log in</title><p>Log in to Airflow to see the "
        f"exchange connections: <a target='_top' href='{_escape(login)}{joiner}next={target}'>log in</a>.</p>"
    )


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)

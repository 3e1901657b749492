"""Browser tests' helpers: Airflow's API server app served over HTTP in this process (so the
page, the simulator, the warehouse and dag.test() share one world), and Debian's chromium
driven by Playwright (never Playwright's own browser download: it cannot reach the internet)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ports import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@dataclass
class LiveServer:
    url: str
    server: Any
    thread: threading.Thread


@contextmanager
def serve(app: Any) -> Iterator[LiveServer]:
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the API server did not start"
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser_page(base_url: str) -> Iterator[Any]:
    """A fresh headless chromium page (its own thread's Playwright: the sync API is per thread)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it: apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do: Airflow's own UI loads the page's frame slowly on a
    # busy 2-core CI machine (expect's default is 5 s).
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context(base_url=base_url, viewport={"width": 1500, "height": 900})
            context.set_default_timeout(20_000)
            yield context.new_page()
        finally:
            browser.close()


def log_in(page: Any, username: str, password: str, then: str = "/exchange-sync/") -> None:
    """Through Airflow's own login form (SimpleAuthManager), as a person would."""
    page.goto(f"/auth/login/?next={then}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Wait until the login page has gone: its own address carries `next=…{then}`, so a glob on
    # `then` alone matches before the redirect, and a navigation started then aborts it.
    page.wait_for_url(lambda url: _is_at(url, then))


def _is_at(url: str, then: str) -> bool:
    from urllib.parse import urlsplit

    wanted = urlsplit(then)
    got = urlsplit(url)
    return got.path == wanted.path and (not wanted.query or got.query == wanted.query)


def row(page: Any, account_id: str) -> Any:
    return page.locator(f"#row-{account_id}")


def wait_for_state(page: Any, account_id: str, words: str, timeout: float = 30_000) -> None:
    """The board refreshes by itself every few seconds."""
    from playwright.sync_api import expect

    expect(row(page, account_id).locator("[data-field=state]")).to_have_text(words, timeout=timeout)

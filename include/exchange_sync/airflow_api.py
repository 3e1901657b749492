"""A minimal client for Airflow's REST API (v2), used by the demo runner and end-to-end tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class AirflowAPI:
    def __init__(self, base_url: str, username: str, password: str):
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._token: str | None = None

    def health(self) -> dict[str, Any] | None:
        try:
            return self._call("GET", "/api/v2/monitor/health", auth=False)
        except (OSError, urllib.error.HTTPError):
            return None

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def patch(self, path: str, body: dict) -> Any:
        return self._call("PATCH", path, body)

    def post(self, path: str, body: dict) -> Any:
        return self._call("POST", path, body)

    def _call(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self._bearer()}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def _bearer(self) -> str:
        if self._token is None:
            request = urllib.request.Request(
                self.base_url + "/auth/token",
                data=json.dumps(self._credentials).encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                self._token = json.load(response)["access_token"]
        return self._token

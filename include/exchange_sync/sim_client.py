"""A small client for the simulator's `/_sim/` control API, shared by setup, tests and benchmarks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote


class SimulatorError(RuntimeError):
    def __init__(self, status: int, path: str, body: str):
        super().__init__(f"simulator answered {status} to {path}: {body}")
        self.status = status


class SimulatorClient:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def exchange_url(self, exchange: str) -> str:
        """The base-URL override a ccxt connection needs to talk to this simulator."""
        return f"{self.base_url}/{exchange}"

    def request(self, method: str, path: str, body: dict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise SimulatorError(exc.code, path, exc.read().decode(errors="replace")) from None

    def health(self) -> bool:
        try:
            return self.request("GET", "/_sim/health").get("status") == "ok"
        except (OSError, SimulatorError):
            return False

    # accounts and ground truth
    def accounts(self) -> list[dict]:
        return self.request("GET", "/_sim/accounts")["accounts"]

    def create_account(self, account_id: str, exchange: str = "binance", **spec: Any) -> dict:
        return self.request("POST", "/_sim/accounts", {"id": account_id, "exchange": exchange, **spec})

    def history(self, account_id: str) -> dict:
        return self.request("GET", f"/_sim/accounts/{account_id}/history")

    def export(self, account_id: str, name: str) -> bytes:
        """One of the exchange's export files for the account (its `exports` in exchanges())."""
        url = f"{self.base_url}/_sim/accounts/{account_id}/exports/{name}"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            raise SimulatorError(exc.code, url, exc.read().decode(errors="replace")) from None

    def add_activity(self, account_id: str, **counts: int) -> dict:
        return self.request("POST", f"/_sim/accounts/{account_id}/activity", counts)

    def add_conversions(self, account_id: str, **body: Any) -> list[dict]:
        """Conversions booked now (Binance convert / dust: no API stream shows them): {"count", "kind"}
        made from what the account holds, or explicit from_asset/from_amount/to_asset/to_amount."""
        return self.request("POST", f"/_sim/accounts/{account_id}/conversions", body)["conversions"]

    def delist(self, account_id: str, symbol: str) -> dict:
        return self.request("POST", f"/_sim/accounts/{account_id}/delisted", {"symbol": symbol})

    def set_account_status(self, account_id: str, status: str) -> dict:
        return self.request("POST", f"/_sim/accounts/{account_id}/status", {"status": status})

    def settle_transfer(self, account_id: str, transfer_id: str, status: str) -> dict:
        """A pending deposit or withdrawal reaches `status` (ok, failed, canceled) now."""
        return self.request(
            "POST", f"/_sim/accounts/{account_id}/transfers/{transfer_id}", {"status": status}
        )

    # exchanges
    def exchanges(self) -> dict[str, dict]:
        """Per registered exchange: prefix, permission names, read permissions, rate limits, costs."""
        return self.request("GET", "/_sim/exchanges")["exchanges"]

    def account(self, account_id: str) -> dict:
        return self.request("GET", f"/_sim/accounts/{account_id}")

    # keys
    def create_key(self, account_id: str, **spec: Any) -> dict:
        return self.request("POST", f"/_sim/accounts/{account_id}/keys", spec)

    # Kraken keys hold "/" and "+": quoted whole in paths.
    def key(self, api_key: str) -> dict:
        return self.request("GET", f"/_sim/keys/{quote(api_key, safe='')}")

    def key_action(self, api_key: str, action: str) -> dict:
        return self.request("POST", f"/_sim/keys/{quote(api_key, safe='')}/{action}")

    def update_key(self, api_key: str, **changes: Any) -> dict:
        return self.request("PATCH", f"/_sim/keys/{quote(api_key, safe='')}", changes)

    # faults and the request log
    def add_fault(self, kind: str, **spec: Any) -> dict:
        return self.request("POST", "/_sim/faults", {"kind": kind, **spec})

    def clear_faults(self) -> None:
        self.request("DELETE", "/_sim/faults")

    def set_maintenance(self, enabled: bool) -> None:
        self.request("POST", "/_sim/maintenance", {"enabled": enabled})

    def set_ratelimit(self, **settings: Any) -> dict:
        """{"enabled": bool, "weight_per_minute": int}; any change also clears windows and bans."""
        return self.request("POST", "/_sim/ratelimit", settings)

    def set_clock(self, offset_ms: int) -> dict:
        return self.request("POST", "/_sim/clock", {"offset_ms": offset_ms})

    def keys(self, account_id: str) -> list[dict]:
        return self.request("GET", f"/_sim/accounts/{account_id}/keys")["keys"]

    def requests_since(self, seq: int = 0) -> dict:
        return self.request("GET", f"/_sim/requests?since={seq}")

    def notifications(self) -> list[dict]:
        """What arrived in the simulator's notification inbox (the demo's Apprise target)."""
        return self.request("GET", "/_sim/notifications")["notifications"]

    def last_seq(self) -> int:
        return self.requests_since(10**12)["last_seq"]


def spawn_simulator(*args: str, seed: int = 42) -> tuple[subprocess.Popen, SimulatorClient]:
    """Start `python -m exchange_sync.simulator` on a free loopback port (tests, benchmarks)."""
    argv = [sys.executable, "-m", "exchange_sync.simulator", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        [*argv, "--seed", str(seed), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    for line in proc.stdout:
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            # Keep draining its output so a chatty simulator never blocks on a full pipe.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, SimulatorClient(match.group(1))
    raise RuntimeError(f"the simulator did not start (exit code {proc.wait()})")


def ip_weight(costs: dict, exchange: str, path: str) -> int:
    """A request's weight in the exchange's per-IP REQUEST_WEIGHT bucket (Binance; 0 for a route
    counted elsewhere), from the simulator's `costs` (exchanges()[exchange]["costs"])."""
    cost = costs.get(path.split("?")[0].removeprefix(f"/{exchange}"), {})
    return cost["weight"] if "REQUEST_WEIGHT" in cost.get("buckets", ()) else 0

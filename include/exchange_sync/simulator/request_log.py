"""The log of exchange requests, so tests can count exactly which requests a client made.

Only exchange routes are logged (never the /_sim/ control API), and only what identifies a
request: method, path without the query string (which carries signatures), the account resolved
from the API key, the first 8 characters of the key, the HTTP status, whether the exchange refused
the request (an error status, or an error inside a 200 as Kraken sends it) and the request weight.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 200_000


@dataclass(slots=True)
class LoggedRequest:
    seq: int
    time: int
    method: str
    path: str
    account: str | None
    api_key_prefix: str | None
    status: int | None  # None: the connection was dropped without a response
    weight: int
    fault: str | None
    refused: bool = False  # the answer was an error (a status >= 400, or Kraken's error list)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "account": self.account,
            "api_key_prefix": self.api_key_prefix,
            "status": self.status,
            "weight": self.weight,
            "fault": self.fault,
            "refused": self.refused,
        }


class RequestLog:
    def __init__(self) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=MAX_ENTRIES)
        self.last_seq = 0

    def add(self, **fields: Any) -> LoggedRequest:
        self.last_seq += 1
        entry = LoggedRequest(seq=self.last_seq, **fields)
        self._entries.append(entry)
        return entry

    def since(self, seq: int) -> list[LoggedRequest]:
        if not self._entries or seq >= self.last_seq:
            return []
        first = self._entries[0].seq
        start = max(0, seq + 1 - first)
        return [self._entries[i] for i in range(start, len(self._entries))]

"""Commit pages on a background thread while the importer fetches the next one.

The exchange round-trip and the warehouse write overlap instead of adding up. One thread commits
pages strictly in the order they were submitted, each with its cursor in one transaction, so the
guarantees are those of committing inline: a crash loses at most the pages still queued (at most
`depth`), and their cursors with them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from typing import Any

from exchange_sync.warehouse import Cursor, Warehouse

_STOP = object()


class PageWriter:
    def __init__(self, warehouse: Warehouse, depth: int = 2):
        self.warehouse = warehouse
        self._pages: queue.Queue = queue.Queue(maxsize=depth)  # bounds memory to `depth` pages
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._commit_pages, name="warehouse-writer", daemon=True)
        self._thread.start()

    def submit(
        self,
        stream: str,
        rows: Sequence[dict[str, Any]],
        cursor: Cursor,
        transfers_from_ledger: bool = False,
        transfers: Sequence[dict[str, Any]] = (),
    ) -> None:
        self._raise_if_failed()
        self._pages.put((stream, rows, cursor, transfers_from_ledger, transfers))

    def flush(self) -> None:
        """Wait until every submitted page is committed; raise the first commit error."""
        self._pages.join()
        self._raise_if_failed()

    def close(self, raise_error: bool = True) -> None:
        self._pages.put(_STOP)
        self._thread.join()
        if raise_error:
            self._raise_if_failed()

    def _commit_pages(self) -> None:
        while True:
            page = self._pages.get()
            try:
                if page is _STOP:
                    return
                if self._error is None:  # after a failure, later pages must not overtake it
                    self.warehouse.commit_page(*page)
            except BaseException as exc:
                self._error = exc
            finally:
                self._pages.task_done()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

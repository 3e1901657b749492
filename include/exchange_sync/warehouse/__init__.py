"""The warehouse: imported rows and the cursors that say how far each stream is synced."""

from __future__ import annotations

from exchange_sync.warehouse.store import Cursor, Warehouse

__all__ = ["Cursor", "Warehouse"]

"""Account import: fetch each stream through ccxt and commit it page by page with its cursor."""

from __future__ import annotations

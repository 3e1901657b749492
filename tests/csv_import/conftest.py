"""Shared by the CSV import tests: an account's registry entry and a file written from lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange_sync.profiles import get_profile
from exchange_sync.registry import AccountConfig

HEADER = "kind,time,id,symbol,side,price,amount,cost,currency,fee,fee_currency,txid,note"


def account(account_id: str = "acc", exchange: str = "binance") -> AccountConfig:
    return AccountConfig(
        id=account_id,
        exchange=exchange,
        conn_id=f"conn_{account_id}",
        streams=get_profile(exchange).streams,
        history_start=datetime(2024, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def write(tmp_path):
    """write(name, text or bytes) -> the file's path."""

    def write_file(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write_file

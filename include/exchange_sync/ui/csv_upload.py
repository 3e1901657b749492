"""Upload CSV on the Connections page: the file the browser sent, imported as the command would."""

from __future__ import annotations

import base64
import binascii
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from exchange_sync.csv_import.context import context_for
from exchange_sync.csv_import.reader import MalformedFile
from exchange_sync.csv_import.run import import_csv
from exchange_sync.registry import AccountConfig
from exchange_sync.warehouse import Warehouse

MAX_BYTES = 64 * 1024 * 1024  # larger exports: `exchange-sync import-csv` on the machine


class UploadError(ValueError):
    """What the user must change about the upload; nothing was imported."""


def import_upload(account: AccountConfig, warehouse: Warehouse, body: dict[str, Any]) -> dict[str, Any]:
    name = Path(str(body.get("file_name") or "upload.csv")).name  # never a path of the server's
    try:
        data = base64.b64decode(str(body.get("content_base64") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise UploadError(f"{name}: the upload is not base64; reload the page and try again") from None
    if len(data) > MAX_BYTES:
        raise UploadError(f"{name}: larger than {MAX_BYTES // 2**20} MiB; use `exchange-sync import-csv`")
    with tempfile.TemporaryDirectory(prefix="exchange-sync-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            report = import_csv(
                warehouse,
                account,
                path,
                str(body.get("format") or "auto"),
                context_for(warehouse, account.exchange),
            )
        except (MalformedFile, ValueError) as exc:
            raise UploadError(str(exc)) from None
    return asdict(report) | {"message": report.summary()}

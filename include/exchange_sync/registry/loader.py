"""Read the registry file: YAML in, validated `Registry` out.

Entry-level problems are collected, not raised, so one bad account never hides the others.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from exchange_sync.registry.errors import RegistryFileError
from exchange_sync.registry.model import Registry
from exchange_sync.registry.validate import validate_registry


def load_registry(path: str | Path) -> Registry:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryFileError(f"{path}: cannot read the account registry: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryFileError(f"{path}: not valid YAML: {exc}") from exc
    return validate_registry(path, raw)

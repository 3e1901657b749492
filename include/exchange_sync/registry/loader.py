"""Read the registry file: YAML in, validated `Registry` out.

Entry-level problems are collected, not raised, so one bad account never hides the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from exchange_sync.registry.errors import RegistryFileError
from exchange_sync.registry.model import Registry
from exchange_sync.registry.validate import validate_registry

# libyaml's parser, when PyYAML was built with it: the pure-Python one was ~73 % of a DAG file's
# parse at 1,000 accounts. Both build the same objects (SafeConstructor is shared).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_registry(path: str | Path) -> Registry:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryFileError(f"{path}: cannot read the account registry: {exc.strerror}") from exc
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise RegistryFileError(f"{path}: not valid YAML: {exc}") from exc
    return validate_registry(path, raw)


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load`, through libyaml when present. A file libyaml refuses is parsed again by the
    pure-Python loader, whose error is the one raised: it quotes the offending line under a caret
    and words the problem as before, where libyaml gives only a line and column."""
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError:
        if _LOADER is yaml.SafeLoader:
            raise
        return yaml.safe_load(text)

"""Read error codes and messages out of an exchange's response body, by the paths its knowledge
file gives (`code`, `error.*` for every item of a list, `1` for an array index)."""

from __future__ import annotations

import json
from typing import Any


def parse(body: str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def values_at(document: Any, path: str) -> list[Any]:
    current = [document]
    for part in path.split("."):
        found: list[Any] = []
        for node in current:
            if part == "*" and isinstance(node, list):
                found.extend(node)
            elif isinstance(node, dict) and part in node:
                found.append(node[part])
            elif (
                isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node)
            ):
                found.append(node[int(part)])
        current = found
    return [v for v in current if v is not None and v != ""]


def texts_at(document: Any, paths: tuple[str, ...]) -> list[str]:
    return [str(v) for path in paths for v in values_at(document, path) if not isinstance(v, (dict, list))]

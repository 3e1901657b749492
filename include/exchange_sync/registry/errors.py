"""Registry errors name the file, the entry and the field, so a user can fix them without guessing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RegistryError:
    """One problem with one entry; the other entries still load."""

    file: Path
    entry: str  # e.g. "accounts[2] (id 'bob')" or "exchanges.binance"
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.entry}, field '{self.field}'" if self.field else self.entry
        return f"{self.file}: {where}: {self.message}"


class RegistryFileError(ValueError):
    """The file as a whole cannot be used (missing, not YAML, wrong top-level shape)."""


class InvalidRegistryEntries(ValueError):
    """Raised where entries must all be valid (the registry check DAG file, `exchange-sync setup`)."""

    def __init__(self, errors: tuple[RegistryError, ...]):
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{len(errors)} invalid registry entr{'y' if len(errors) == 1 else 'ies'}:\n{lines}")

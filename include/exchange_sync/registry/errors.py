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


class UnknownAccount(KeyError):
    """An account id the registry does not hold (or holds only as an invalid entry)."""

    def __init__(self, file: Path, account_id: str, known: list[str], invalid: RegistryError | None = None):
        if invalid is not None:
            message = f"account {account_id!r} is not usable: {invalid}"
        else:
            import difflib

            close = difflib.get_close_matches(account_id, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            listed = ", ".join(known) or "none"
            message = f"{file}: no account with id {account_id!r} ({hint}accounts: {listed})"
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])

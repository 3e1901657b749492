"""Validate raw registry data into models, collecting one error per bad entry or field."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from exchange_sync.profiles import PROFILES
from exchange_sync.registry.errors import RegistryError, RegistryFileError
from exchange_sync.registry.model import (
    DEFAULT_POOL_SLOTS,
    DEFAULT_SCHEDULE,
    DEFAULT_TRADE_SWEEP_HOURS,
    AccountConfig,
    ExchangeConfig,
    Registry,
)
from exchange_sync.streams import ALL_STREAMS

TOP_LEVEL_KEYS = ("defaults", "exchanges", "accounts")
ACCOUNT_FIELDS = (
    "id",
    "exchange",
    "conn_id",
    "streams",
    "history_start",
    "symbols",
    "notify",
    "trade_sweep_hours",
)
DEFAULT_FIELDS = ("streams", "history_start", "notify", "trade_sweep_hours")
EXCHANGE_FIELDS = (
    "schedule",
    "pool_slots",
    "retry_delay_seconds",
    "key_poll_seconds",
    "key_recheck_seconds",
    "wait_for_keys_hours",
)
DEFAULT_HISTORY_START = datetime(2017, 1, 1, tzinfo=UTC)

ACCOUNT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
CONN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")
SYMBOL = re.compile(r"^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}$")
CRON_PRESETS = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly")


class FieldError(ValueError):
    """A field's value is wrong; the message says what is expected."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@cache
def ccxt_exchange_ids() -> frozenset[str]:
    """ccxt's exchange ids, read from its package folder: importing ccxt would cost ~1 s per parse."""
    spec = find_spec("ccxt")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    folder = Path(next(iter(spec.submodule_search_locations)))
    return frozenset(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def validate_registry(path: Path, raw: Any) -> Registry:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        keys = ", ".join(TOP_LEVEL_KEYS)
        raise RegistryFileError(f"{path}: the top level must be a mapping with keys {keys}")
    unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    if unknown:
        hint = _suggest(unknown[0], TOP_LEVEL_KEYS)
        raise RegistryFileError(f"{path}: unknown top-level key {unknown[0]!r}{hint}")

    errors: list[RegistryError] = []
    defaults = _validate_defaults(path, raw.get("defaults") or {}, errors)
    exchanges = _validate_exchanges(path, raw.get("exchanges") or {}, errors)
    accounts = _validate_accounts(path, raw.get("accounts") or [], defaults, errors)
    return Registry(path=path, accounts=tuple(accounts), exchanges=exchanges, errors=tuple(errors))


def _validate_defaults(path: Path, raw: Any, errors: list[RegistryError]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RegistryFileError(f"{path}: 'defaults' must be a mapping")
    defaults: dict[str, Any] = {
        "history_start": DEFAULT_HISTORY_START,
        "streams": None,
        "notify": (),
        "trade_sweep_hours": DEFAULT_TRADE_SWEEP_HOURS,
    }
    for key, value in raw.items():
        try:
            if key not in DEFAULT_FIELDS:
                raise FieldError(f"unknown field{_suggest(key, DEFAULT_FIELDS)}")
            defaults[key] = _FIELD_PARSERS[key](value)
        except FieldError as exc:
            errors.append(RegistryError(path, "defaults", str(key), str(exc)))
    return defaults


def _validate_exchanges(path: Path, raw: Any, errors: list[RegistryError]) -> dict[str, ExchangeConfig]:
    if not isinstance(raw, dict):
        raise RegistryFileError(f"{path}: 'exchanges' must be a mapping of exchange id to settings")
    exchanges: dict[str, ExchangeConfig] = {}
    for exchange, settings in raw.items():
        entry = f"exchanges.{exchange}"
        try:
            _parse_exchange_id(exchange)
        except FieldError as exc:
            errors.append(RegistryError(path, entry, None, str(exc)))
            continue
        settings = settings or {}
        if not isinstance(settings, dict):
            errors.append(
                RegistryError(path, entry, None, f"must be a mapping ({', '.join(EXCHANGE_FIELDS)})")
            )
            continue
        values: dict[str, Any] = {"schedule": DEFAULT_SCHEDULE, "pool_slots": DEFAULT_POOL_SLOTS}
        ok = True
        for key, value in settings.items():
            try:
                if key not in EXCHANGE_FIELDS:
                    raise FieldError(f"unknown field{_suggest(key, EXCHANGE_FIELDS)}")
                values[key] = PARSERS_BY_EXCHANGE_FIELD.get(key, _parse_positive_int)(value)
            except FieldError as exc:
                errors.append(RegistryError(path, entry, str(key), str(exc)))
                ok = False
        if ok:
            exchanges[exchange] = ExchangeConfig(exchange=exchange, **values)
    return exchanges


def _validate_accounts(
    path: Path, raw: Any, defaults: dict[str, Any], errors: list[RegistryError]
) -> list[AccountConfig]:
    if not isinstance(raw, list):
        raise RegistryFileError(f"{path}: 'accounts' must be a list of account entries")
    accounts: list[AccountConfig] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(raw):
        entry = f"accounts[{index}]"
        if not isinstance(item, dict):
            message = "must be a mapping with at least 'id' and 'exchange'"
            errors.append(RegistryError(path, entry, None, message))
            continue
        if isinstance(item.get("id"), str):
            entry = f"{entry} (id {item['id']!r})"
        entry_errors = [
            RegistryError(path, entry, str(k), f"unknown field{_suggest(k, ACCOUNT_FIELDS)}")
            for k in item
            if k not in ACCOUNT_FIELDS
        ]
        values: dict[str, Any] = {}
        for key in ("id", "exchange"):
            if key not in item:
                entry_errors.append(RegistryError(path, entry, key, "is required"))
        for key in ACCOUNT_FIELDS:
            if key not in item:
                continue
            try:
                values[key] = _FIELD_PARSERS[key](item[key])
            except FieldError as exc:
                entry_errors.append(RegistryError(path, entry, key, str(exc)))
        if not entry_errors:
            try:
                account = _build_account(values, defaults)
            except FieldError as exc:
                entry_errors.append(RegistryError(path, entry, exc.field, str(exc)))
        if not entry_errors and account.id in seen:
            entry_errors.append(RegistryError(path, entry, "id", f"duplicates {seen[account.id]}"))
        if entry_errors:
            errors.extend(entry_errors)
            continue
        seen[account.id] = entry
        accounts.append(account)
    return accounts


def _build_account(values: dict[str, Any], defaults: dict[str, Any]) -> AccountConfig:
    exchange = values["exchange"]
    profile = PROFILES.get(exchange)
    if profile is None:
        raise FieldError(
            f"ccxt knows {exchange!r} but exchange-sync has no profile for it yet "
            f"(supported: {', '.join(PROFILES)})",
            field="exchange",
        )
    requested = values.get("streams") or defaults["streams"]
    if requested is None:
        streams = profile.streams
    else:
        missing = [s for s in requested if s not in profile.streams]
        if missing:
            raise FieldError(
                f"{exchange} has no {missing[0]!r} stream (it has: {', '.join(profile.streams)})",
                field="streams",
            )
        streams = tuple(s for s in profile.streams if s in requested)
    account_id = values["id"]
    return AccountConfig(
        id=account_id,
        exchange=exchange,
        conn_id=values.get("conn_id") or f"exchange_sync_{exchange}_{account_id.replace('-', '_')}",
        streams=streams,
        history_start=values.get("history_start") or defaults["history_start"],
        symbols=values.get("symbols", ()),
        notify=values.get("notify") or defaults["notify"],
        trade_sweep_hours=values.get("trade_sweep_hours") or defaults["trade_sweep_hours"],
    )


def _parse_account_id(value: Any) -> str:
    if not isinstance(value, str) or not ACCOUNT_ID.match(value):
        raise FieldError(f"{value!r} is not a valid account id (lowercase letters, digits, '-' or '_')")
    return value


def _parse_exchange_id(value: Any) -> str:
    known = ccxt_exchange_ids()
    if not isinstance(value, str) or value not in known:
        raise FieldError(f"unknown exchange {value!r}{_suggest(str(value), known)}")
    return value


def _parse_conn_id(value: Any) -> str:
    if not isinstance(value, str) or not CONN_ID.match(value):
        raise FieldError(f"{value!r} is not a valid Airflow connection id")
    return value


def _parse_streams(value: Any) -> tuple[str, ...]:
    items = _string_list(value, "stream names")
    for item in items:
        if item not in ALL_STREAMS:
            raise FieldError(f"unknown stream {item!r}{_suggest(item, ALL_STREAMS)}")
    return tuple(dict.fromkeys(items))


def _parse_history_start(value: Any) -> datetime:
    # YAML turns an unquoted 2025-01-01 into a date; a quoted one stays a string.
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise FieldError(f"{value!r} is not a date (use YYYY-MM-DD)") from None
    else:
        raise FieldError(f"{value!r} is not a date (use YYYY-MM-DD)")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse_symbols(value: Any) -> tuple[str, ...]:
    items = _string_list(value, "symbols like BTC/USDT")
    for item in items:
        if not SYMBOL.match(item):
            raise FieldError(f"{item!r} is not a unified symbol like 'BTC/USDT'")
    return tuple(items)


def _parse_notify(value: Any) -> tuple[str, ...]:
    items = _string_list(value, "Airflow connection ids")
    for item in items:
        _parse_conn_id(item)
    return tuple(items)


def _parse_schedule(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"{value!r} is not a cron expression")
    if value in CRON_PRESETS:
        return value
    from croniter import croniter  # Airflow's own cron parser; imported only when a schedule is given

    if not croniter.is_valid(value):
        raise FieldError(f"{value!r} is not a valid cron expression (e.g. '0 * * * *')")
    return value


def _parse_positive_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise FieldError(f"{value!r} must be a positive number")
    return value


def _parse_positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FieldError(f"{value!r} must be a whole number of at least 1")
    return value


def _string_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(f"must be a list of {what}")
    return value


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


_FIELD_PARSERS = {
    "id": _parse_account_id,
    "exchange": _parse_exchange_id,
    "conn_id": _parse_conn_id,
    "streams": _parse_streams,
    "history_start": _parse_history_start,
    "symbols": _parse_symbols,
    "notify": _parse_notify,
    "trade_sweep_hours": _parse_positive_number,
}

PARSERS_BY_EXCHANGE_FIELD = {"schedule": _parse_schedule, "wait_for_keys_hours": _parse_positive_number}

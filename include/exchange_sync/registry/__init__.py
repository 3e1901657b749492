"""The account registry: a YAML file listing exchange accounts, loaded and validated into models."""

from __future__ import annotations

from exchange_sync.registry.errors import RegistryError, RegistryFileError
from exchange_sync.registry.loader import load_registry
from exchange_sync.registry.model import AccountConfig, ExchangeConfig, Registry

__all__ = [
    "AccountConfig",
    "ExchangeConfig",
    "Registry",
    "RegistryError",
    "RegistryFileError",
    "load_registry",
]

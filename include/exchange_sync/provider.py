"""Airflow provider metadata: registers the "Crypto exchange (ccxt)" connection type and its form.

Found by Airflow through the `apache_airflow_provider` entry point in pyproject.toml.
"""

from __future__ import annotations

from typing import Any

from exchange_sync import __version__

CONN_TYPE = "ccxt"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "exchange-sync",
        "name": "exchange-sync",
        "description": "Crypto-exchange account import through ccxt.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": "exchange_sync.hooks.ccxt.CcxtHook",
                "hook-name": "Crypto exchange (ccxt)",
                "conn-fields": {
                    "exchange": {
                        "label": "Exchange id",
                        "schema": {"type": ["string", "null"]},
                        "description": "The ccxt exchange id, e.g. binance, kraken, coinbase.",
                    },
                    "passphrase": {
                        "label": "Passphrase",
                        "schema": {"type": ["string", "null"], "format": "password"},
                        "description": "Only for exchanges whose keys have one (OKX, KuCoin, Bitget).",
                    },
                    "private_key": {
                        "label": "Private key (PEM)",
                        "schema": {"type": ["string", "null"], "format": "multiline"},
                        "description": "Only for keys whose secret is a private key (Coinbase CDP keys: "
                        "the API key name goes into API key, the -----BEGIN EC PRIVATE KEY----- block "
                        "here or into Secret). Shown masked once saved.",
                    },
                    "uid": {
                        "label": "UID",
                        "schema": {"type": ["string", "null"]},
                        "description": "Only for exchanges whose ccxt class requires a user id.",
                    },
                    "base_url": {
                        "label": "Base URL override",
                        "schema": {"type": ["string", "null"]},
                        "description": "Send every request here instead of the exchange, e.g. the "
                        "simulator: http://127.0.0.1:8765/binance",
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "schema", "port", "extra"],
                    "relabeling": {"login": "API key", "password": "Secret"},
                    "placeholders": {"login": "API key", "password": "API secret"},
                },
            }
        ],
    }

"""The registered exchange protocols: one package per exchange, registered by one line below.

Adding an exchange: write `protocols/<name>/` whose `__init__.py` exposes `PROTOCOL`, an
`ExchangeProtocol` (see `simulator/protocol.py`), and add its name to `REGISTERED`. Everything
else (the control API, faults, maintenance, rate limiting, the request log, persistence, ground
truth) works for it unchanged.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exchange_sync.simulator.protocol import ExchangeProtocol

REGISTERED = ("binance", "kraken", "okx", "coinbase")


@cache
def registered() -> dict[str, ExchangeProtocol]:
    """name -> protocol, in registration order."""
    return {name: importlib.import_module(f"{__name__}.{name}").PROTOCOL for name in REGISTERED}

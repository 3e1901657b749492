"""The interface one exchange's protocol package implements (see `protocols/__init__.py`).

A protocol renders the exchange-neutral world in one exchange's REST dialect. It provides:

* identity: `name`, URL `prefix`, its permission vocabulary (`permissions`, `read_permissions`,
  `stream_permissions`), which final statuses its transfers can reach (`settles`), whether it has
  a ledger stream;
* `build_venue`: what it lists (assets, markets with native ids), the decimals it books, its fee
  rule, fiat it accepts, staking; the neutral generator follows it;
* `mint_key`: a new API key and secret in the exchange's format; `identity`: the account id the
  exchange exposes (Binance's uid, Kraken's IBAN-like account id);
* `add_routes`: its endpoints under the prefix, with their own auth (HMAC query strings, signed
  form bodies, JWTs, passphrases...) and error bodies; paging of any kind (ids, offsets,
  cursors) lives in the handlers;
* the exchange-neutral middleware's view of it: `cost` (weight and limiters of a request),
  `presented_key`, `maintenance_exempt`, and the exchange's bodies for maintenance, rate limits,
  bans and server errors;
* ground truth: each trade, transfer and ledger entry as ccxt's unified parse of this exchange
  presents it (`truth.py` assembles the records);
* its export files (`export_names`, `export`): the account's whole history in the CSV formats the
  exchange's website exports.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from exchange_sync.simulator.ratelimit import Bucket

if TYPE_CHECKING:
    from exchange_sync.simulator.catalog import Catalog
    from exchange_sync.simulator.ledger import LedgerEntry
    from exchange_sync.simulator.model import Account, Trade, Transfer
    from exchange_sync.simulator.state import World
    from exchange_sync.simulator.venue import Venue


@dataclass(frozen=True, slots=True)
class RouteCost:
    weight: int
    buckets: tuple[Bucket, ...]
    route: str = ""  # the route's path, for per-route buckets


class ExchangeProtocol(ABC):
    name: ClassVar[str]
    prefix: ClassVar[str]
    permissions: ClassVar[tuple[str, ...]]  # every permission name a key can have
    read_permissions: ClassVar[tuple[str, ...]]  # what a read-only importer key needs (the default)
    stream_permissions: ClassVar[dict[str, str]]  # stream -> the permission that reads it
    settles: ClassVar[dict[str, tuple[str, ...]]]  # transfer kind -> final statuses it can reach
    buckets: ClassVar[tuple[Bucket, ...]]  # its limiters; the first answers `rate_limit` faults
    has_ledger: ClassVar[bool] = False
    # How many days back the exchange's API serves each stream, where it forgets (OKX's fills and
    # bills); streams not listed are served in full. Handlers enforce it; clients read it here.
    retention_days: ClassVar[dict[str, int]] = {}

    # -- the world -----------------------------------------------------------------------------

    @abstractmethod
    def build_venue(self, catalog: Catalog, seed: int) -> Venue: ...

    @abstractmethod
    def mint_key(self) -> tuple[str, str]:
        """A fresh (API key, secret) in the exchange's format."""

    def mint_passphrase(self) -> str:
        """The passphrase a new key comes with, for exchanges whose keys have one ("": none)."""
        return ""

    def identity(self, account: Account) -> Any:
        return account.uid

    @abstractmethod
    def add_routes(self, app: web.Application, world: World) -> None: ...

    def describe(self, world: World) -> dict[str, Any]:
        """GET /_sim/exchanges: what a client or benchmark needs to know about this exchange."""
        return {
            "prefix": self.prefix,
            "permissions": list(self.permissions),
            "read_permissions": list(self.read_permissions),
            "stream_permissions": dict(self.stream_permissions),
            "has_ledger": self.has_ledger,
            "retention_days": dict(self.retention_days),
            "exports": list(self.export_names),
            "settles": {kind: list(statuses) for kind, statuses in self.settles.items()},
            "rate_limits": [bucket.describe(world.ratelimit.limit(bucket)) for bucket in self.buckets],
            "costs": self.costs(),
        }

    def costs(self) -> dict[str, Any]:
        """Route -> {"weight", "buckets"}: what each request costs."""
        return {}

    # -- the middleware's view -----------------------------------------------------------------

    @abstractmethod
    def cost(self, request: web.Request) -> RouteCost: ...

    @abstractmethod
    def presented_key(self, request: web.Request) -> str | None: ...

    def maintenance_exempt(self, request: web.Request) -> bool:
        return False

    def refused(self, response: web.StreamResponse) -> bool:
        """Whether the answer refuses the request (for the request log: clients must count failed
        calls). Most exchanges say so by the HTTP status."""
        return response.status >= 400

    @abstractmethod
    def maintenance_response(self) -> web.Response: ...

    @abstractmethod
    def rate_limited_response(self, bucket: Bucket, limit: int, retry_after_s: int) -> web.Response: ...

    @abstractmethod
    def banned_response(self, bucket: Bucket, until_ms: int, retry_after_s: int) -> web.Response: ...

    @abstractmethod
    def server_error_response(self, status: int) -> web.Response: ...

    # -- the exchange's own export files (what its website's "export" gives the user) -------------

    # File names an account can export, e.g. ("ledgers.csv", "trades.csv"): each one the
    # exchange's real format, holding the account's whole history (also what the API no longer
    # serves), for the CSV import's tests and demo (csv_import/).
    export_names: ClassVar[tuple[str, ...]] = ()

    def export(self, world: World, account: Account, name: str) -> str:
        """The text of one export file (a name from export_names)."""
        raise KeyError(name)

    def exports_show(self, transfer: Transfer) -> bool:
        """Whether the export files hold this transfer as it is now (its status included): ground
        truth lists the others under `unexported`, which exports alone cannot restore. Most
        exchanges export their transfer histories whole; Kraken's ledger holds a deposit only once
        credited and cannot tell a pending withdrawal from a done one."""
        return True

    # -- ground truth (as ccxt's unified parse presents it) -------------------------------------

    def shows(self, transfer: Transfer) -> bool:
        """Whether the exchange's API shows this transfer (yet): ground truth lists what a client
        can read. Most show every transfer from its creation, pending ones included."""
        return True

    @abstractmethod
    def trade_truth(self, world: World, account: Account, trade: Trade) -> dict[str, Any]: ...

    @abstractmethod
    def transfer_truth(self, world: World, account: Account, transfer: Transfer) -> dict[str, Any]: ...

    def ledger_truth(
        self, world: World, account: Account, entries: list[LedgerEntry]
    ) -> list[dict[str, Any]]:
        return []

    def conversion_truth(self, world: World, account: Account) -> list[dict[str, Any]]:
        """Where an exchange without a ledger API lists its conversions (Binance convert/tradeFlow):
        each as the two ledger entries an import stores of it."""
        return []

    @abstractmethod
    def transfer_id(self, world: World, account: Account, transfer: Transfer) -> str:
        """The exchange-native id of a transfer (the ground truth's `id`)."""

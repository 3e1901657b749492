"""Exchange-neutral middleware: request log, armed faults, maintenance mode and rate limits.

It works the same for every registered exchange protocol (`protocols/`): the protocol tells it
which request goes where (`cost`, `presented_key`) and supplies the exchange's own bodies.
Middleware order, outermost first: request log -> faults -> maintenance -> rate limit -> route.
A fault therefore fires before (and instead of) maintenance and rate limiting, and is logged.

Fault kinds, armed through POST /_sim/faults and fired on the next `count` matching requests
(matching: the exchange prefix, an optional path substring, an optional account):

* ``latency``: wait ``latency_ms`` before answering normally;
* ``http_5xx``: answer ``status`` (default 503) with ``body`` or the exchange's own error body;
* ``rate_limit``: answer 429 with the exchange's rate-limit body and ``Retry-After``;
* ``truncate``: send the real status and headers with the full Content-Length, then half of the
  body, then close the connection;
* ``drop``: close the connection without sending anything;
* ``bad_body``: answer HTTP 200 with a body that is not the endpoint's answer, by ``variant``:
  ``empty`` (no body), ``html`` (a proxy's error page), ``broken_json`` (the real answer cut in
  half, sent whole), ``wrong_shape`` (the real answer's list wrapped in an object, or its object
  in a list), ``empty_object`` (``{}``).

``skip`` lets that many matching requests through before the fault fires: a moment
mid-pagination.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from exchange_sync.simulator.protocol import ExchangeProtocol, RouteCost
from exchange_sync.simulator.ratelimit import Bucket

if TYPE_CHECKING:
    from exchange_sync.simulator.state import World

FAULT_KINDS = ("latency", "http_5xx", "rate_limit", "truncate", "drop", "bad_body")
BAD_BODY_VARIANTS = ("empty", "html", "broken_json", "wrong_shape", "empty_object")
PROXY_ERROR_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>cloudflare</center></body></html>"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Fault:
    id: str
    kind: str
    count: int
    remaining: int
    status: int
    latency_ms: int
    path_contains: str | None
    account: str | None
    body: str | None
    retry_after: int
    variant: str = "empty"
    skip: int = 0  # matching requests still to let through before firing

    def matches(self, path: str, account: str | None) -> bool:
        if self.remaining <= 0:
            return False
        if self.path_contains is not None and self.path_contains not in path:
            return False
        return self.account is None or self.account == account

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "count": self.count,
            "remaining": self.remaining,
            "fired": self.count - self.remaining,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "path_contains": self.path_contains,
            "account": self.account,
            "body": self.body,
            "retry_after": self.retry_after,
            "variant": self.variant,
            "skip": self.skip,
        }


class FaultBook:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)

    def arm(
        self,
        kind: str,
        count: int,
        *,
        status: int = 503,
        latency_ms: int = 0,
        path_contains: str | None = None,
        account: str | None = None,
        body: str | None = None,
        retry_after: int = 10,
        variant: str = "empty",
        skip: int = 0,
    ) -> Fault:
        fault = Fault(
            f"f{next(self._ids)}",
            kind,
            count,
            count,
            status,
            latency_ms,
            path_contains,
            account,
            body,
            retry_after,
            variant,
            skip,
        )
        self.faults.append(fault)
        return fault

    def take(self, path: str, account: str | None) -> Fault | None:
        """The oldest armed fault matching the request, consuming one of its firings."""
        for fault in self.faults:
            if fault.matches(path, account):
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.remaining -= 1
                return fault
        return None

    def clear(self) -> int:
        cleared = len(self.faults)
        self.faults.clear()
        return cleared


def build_middlewares(world: World, protocols: list[ExchangeProtocol]) -> list[Any]:
    def protocol_for(path: str) -> ExchangeProtocol | None:
        for protocol in protocols:
            if path == protocol.prefix or path.startswith(protocol.prefix + "/"):
                return protocol
        return None

    @web.middleware
    async def log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
        protocol = protocol_for(request.path)
        if protocol is None:
            return await handler(request)
        api_key = protocol.presented_key(request)
        key = world.keys.get(api_key) if api_key else None
        account = key.account_id if key is not None else None
        request["sim.protocol"] = protocol
        request["sim.account"] = account
        request["sim.api_key"] = api_key
        request["sim.weight"] = 0
        request["sim.fault"] = None
        status: int | None = 500
        refused = True
        try:
            response = await handler(request)
            status = None if request["sim.fault"] == "drop" else response.status
            refused = status is None or protocol.refused(response)
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            world.requests.add(
                time=world.now_ms(),
                method=request.method,
                path=request.path,
                account=account,
                api_key_prefix=api_key[:8] if api_key else None,
                status=status,
                weight=request["sim.weight"],
                fault=request["sim.fault"],
                refused=refused,
            )

    @web.middleware
    async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        protocol: ExchangeProtocol | None = request.get("sim.protocol")
        if protocol is None:
            return await handler(request)
        fault = world.faults.take(request.path, request["sim.account"])
        if fault is None:
            return await handler(request)
        request["sim.fault"] = fault.kind
        if fault.kind == "latency":
            await asyncio.sleep(fault.latency_ms / 1000)
            return await handler(request)
        if fault.kind == "http_5xx":
            if fault.body is not None:
                return web.Response(status=fault.status, text=fault.body, content_type="text/plain")
            return protocol.server_error_response(fault.status)
        if fault.kind == "rate_limit":
            bucket = protocol.buckets[0]
            return protocol.rate_limited_response(bucket, world.ratelimit.limit(bucket), fault.retry_after)
        if fault.kind == "bad_body":
            return await _bad_body(fault.variant, request, handler)
        if fault.kind == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=599)  # never reaches the client
        # truncate: the real answer's status and headers, Content-Length of the whole body, half of it.
        real = await handler(request)
        body = real.body if isinstance(real, web.Response) and isinstance(real.body, bytes) else b""
        truncated = web.StreamResponse(status=real.status, headers=real.headers)
        truncated.content_length = len(body)
        await truncated.prepare(request)
        await truncated.write(body[: len(body) // 2])
        if request.transport is not None:
            request.transport.close()
        return truncated

    @web.middleware
    async def maintenance(request: web.Request, handler: Handler) -> web.StreamResponse:
        protocol: ExchangeProtocol | None = request.get("sim.protocol")
        if protocol is not None and world.maintenance and not protocol.maintenance_exempt(request):
            return protocol.maintenance_response()
        return await handler(request)

    def scope_key(request: web.Request, bucket: Bucket, cost: RouteCost) -> str:
        """Who a bucket counts: the caller's IP, the key's account or the key (IP when unknown)."""
        ip = f"ip:{request.remote or 'unknown'}"
        if bucket.scope == "account":
            who = f"account:{request['sim.account']}" if request["sim.account"] else ip
        elif bucket.scope == "key":
            who = f"key:{request['sim.api_key']}" if request["sim.api_key"] else ip
        else:
            who = ip
        return f"{who}:{cost.route}" if getattr(bucket, "per_route", False) else who

    @web.middleware
    async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        protocol: ExchangeProtocol | None = request.get("sim.protocol")
        if protocol is None:
            return await handler(request)
        now = world.now_ms()
        cost = protocol.cost(request)
        charges = [(scope_key(request, bucket, cost), bucket) for bucket in cost.buckets]
        if world.ratelimit.enabled:
            for who, bucket in charges:
                until = world.limiter.banned_until(who, bucket, now)
                if until is not None:
                    return protocol.banned_response(bucket, until, _seconds_until(until, now))
        request["sim.weight"] = cost.weight
        verdict = world.limiter.charge(charges, cost.weight, now, world.ratelimit)
        if verdict.banned_until is not None and verdict.rejected_by is not None:
            until = verdict.banned_until
            response = protocol.banned_response(verdict.rejected_by, until, _seconds_until(until, now))
        elif verdict.rejected_by is not None:
            bucket, limit = verdict.rejected_by, verdict.limit
            response = protocol.rate_limited_response(bucket, limit, verdict.retry_after_s)
        else:
            response = await handler(request)
        for bucket in cost.buckets:
            if bucket.header and not response.prepared and bucket.name in verdict.used:
                response.headers[bucket.header] = str(verdict.used[bucket.name])
        return response

    return [log_requests, inject_faults, maintenance, rate_limit]


async def _bad_body(variant: str, request: web.Request, handler: Handler) -> web.Response:
    """HTTP 200 with a body that is not the endpoint's answer (see the module docstring)."""
    if variant == "empty":
        return web.Response(status=200, body=b"", content_type="application/json")
    if variant == "html":
        return web.Response(status=200, text=PROXY_ERROR_PAGE, content_type="text/html")
    if variant == "empty_object":
        return web.Response(status=200, text="{}", content_type="application/json")
    real = await handler(request)
    body = real.body if isinstance(real, web.Response) and isinstance(real.body, bytes) else b""
    if variant == "broken_json":
        return web.Response(status=200, body=body[: len(body) // 2], content_type="application/json")
    try:
        answer = json.loads(body)
    except ValueError:
        answer = body.decode(errors="replace")
    swapped = {"rows": answer, "total": len(answer)} if isinstance(answer, list) else [answer]
    return web.Response(status=200, text=json.dumps(swapped), content_type="application/json")


def _seconds_until(until_ms: int, now_ms: int) -> int:
    return max(1, -(-(until_ms - now_ms) // 1000))

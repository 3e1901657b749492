"""The simulator's HTTP server: `python -m exchange_sync.simulator --port 8765 --seed 42`.

Prints exactly one line once it accepts connections, `simulator listening on http://HOST:PORT`
(with the real port when started with --port 0), and serves until SIGINT/SIGTERM. The aiohttp
access log stays off: request lines carry signatures (Binance query strings), which must never
reach a log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
from pathlib import Path

from aiohttp import web

from exchange_sync.simulator import control_api
from exchange_sync.simulator.faults import build_middlewares
from exchange_sync.simulator.state import World, WorldError


def create_app(world: World) -> web.Application:
    """The aiohttp application serving `world`: each registered exchange's routes under its prefix,
    the /_sim/ control API."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    protocols = list(world.protocols.values())
    for protocol in protocols:
        protocol.add_routes(app, world)
    control_api.add_routes(app, world)
    app.middlewares.extend([*build_middlewares(world, protocols), control_api.world_errors])
    app["world"] = world
    return app


async def _serve(world: World, host: str, port: int, ready: asyncio.Event | None = None) -> None:
    app = create_app(world)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    site = web.SockSite(runner, sock)
    await site.start()
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    print(f"simulator listening on http://{shown_host}:{bound_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(
    host: str,
    port: int,
    seed: int,
    size: float,
    state_file: str | Path | None = None,
    anchor_ms: int | None = None,
) -> None:
    """Build (or load) the world and serve it until interrupted. Blocks."""
    world = World.open(seed, size, state_file, anchor_ms)
    asyncio.run(_serve(world, host, port))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m exchange_sync.simulator",
        description="Exchange simulator: Binance spot under /binance, Kraken spot under /kraken, "
        "OKX spot under /okx, control API under /_sim/.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port, 0 for any free one (default 8765)")
    parser.add_argument("--seed", type=int, default=42, help="world seed: same seed, same world (default 42)")
    parser.add_argument(
        "--size",
        type=float,
        default=1.0,
        help="multiplier for the default accounts' history sizes (default 1.0)",
    )
    parser.add_argument(
        "--state-file",
        default=None,
        help="persist keys, created accounts and activity here; loaded on start when it "
        "exists (then its seed, size and anchor win over the options)",
    )
    parser.add_argument(
        "--anchor-ms",
        type=int,
        default=None,
        help="epoch ms the history is generated back from (default: now, floored to the "
        "minute); fix it to get byte-identical worlds",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.size <= 0:
        print("--size must be positive", file=sys.stderr)
        return 2
    try:
        serve(args.host, args.port, args.seed, args.size, args.state_file, args.anchor_ms)
    except WorldError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"simulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0

"""The `exchange-sync` command: operators' and tests' way in without the Airflow UI."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from exchange_sync import settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "simulator":
        from exchange_sync.simulator.server import main as simulator_main

        return simulator_main(rest) or 0
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    # Our own progress lines; other libraries' start-up chatter (Airflow's "Reading the config
    # from ...", alembic's plugins) only with --debug.
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s")
    logging.getLogger("exchange_sync").setLevel(logging.DEBUG if args.debug else logging.INFO)
    try:
        return args.handler(args) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        # One line an operator can act on; the traceback only with --debug.
        print(f"exchange-sync {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: Exception) -> str:
    """The error as an operator reads it: our own errors say what to fix; anything else gets its
    type and a pointer to --debug. Multi-line messages (every invalid registry entry) stay whole."""
    from exchange_sync.redact import scrub

    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    if type(exc).__module__.startswith("exchange_sync"):
        return scrub(message)
    return scrub(f"{type(exc).__name__}: {message} (run with --debug for the traceback)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exchange-sync", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    # Also accepted after the subcommand (`exchange-sync import alice --debug`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser(
        "simulator", help="run the exchange simulator (see --help of the subcommand)", add_help=False
    )

    setup = sub.add_parser(
        "setup", help="migrate the warehouse, create pools (and demo connections)", parents=[common]
    )
    _registry_option(setup)
    setup.add_argument("--simulator", metavar="URL", help="also give every account a simulator key")
    setup.set_defaults(handler=_setup)

    status = sub.add_parser(
        "status", help="per-account health, incidents and stream freshness", parents=[common]
    )
    _registry_option(status)
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=_status)

    run_import = sub.add_parser("import", help="import one account now, outside Airflow", parents=[common])
    _registry_option(run_import)
    run_import.add_argument("account")
    run_import.set_defaults(handler=_import)

    csv = sub.add_parser(
        "import-csv",
        help="import an exchange's own export file (or the generic template) into an account",
        parents=[common],
    )
    _registry_option(csv)
    csv.add_argument("account")
    csv.add_argument("file", type=Path)
    csv.add_argument("--format", default="auto", help="a format name (default: found by the header)")
    csv.add_argument("--json", action="store_true", help="print the report as one JSON object")
    csv.set_defaults(handler=_import_csv)

    csv_rejects = sub.add_parser(
        "csv-rejects",
        help="the lines CSV imports did not store, with line numbers and reasons",
        parents=[common],
    )
    _registry_option(csv_rejects)
    csv_rejects.add_argument("account")
    csv_rejects.add_argument("--import", dest="import_id", type=int, default=None, help="one import's only")
    csv_rejects.add_argument("--json", action="store_true", help="print one JSON list")
    csv_rejects.set_defaults(handler=_csv_rejects)

    freeze = sub.add_parser(
        "freeze", help="skip an account without alerts (e.g. before closing it)", parents=[common]
    )
    _registry_option(freeze)
    freeze.add_argument("account")
    freeze.add_argument("--final-sync", action="store_true", help="import everything once more first")
    freeze.add_argument("--reason", default="", help="shown in status")
    freeze.set_defaults(handler=_freeze)

    unfreeze = sub.add_parser(
        "unfreeze", help="resume a frozen account (the gap is filled on its next run)", parents=[common]
    )
    _registry_option(unfreeze)
    unfreeze.add_argument("account")
    unfreeze.set_defaults(handler=_freeze)

    diagnose = sub.add_parser(
        "diagnose", help="explain an exchange error response (offline, no network)", parents=[common]
    )
    diagnose.add_argument("--exchange", required=True, help="ccxt exchange id, e.g. binance")
    diagnose.add_argument("--status", type=int, default=None, help="the HTTP status of the response")
    diagnose.add_argument("--body-file", required=True, help="the response body as sent; - for stdin")
    diagnose.add_argument("--json", action="store_true", help="print one JSON object")
    diagnose.set_defaults(handler=_diagnose)

    demo = sub.add_parser(
        "demo", help="what `make run` does: simulator + airflow standalone + demo accounts", parents=[common]
    )
    demo.set_defaults(handler=_demo)
    return parser


def _registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        type=Path,
        default=None,
        help=f"account registry (default: ${settings.REGISTRY_ENV} or dags/accounts.yaml)",
    )


def _load(args: argparse.Namespace):
    from exchange_sync.registry import load_registry

    return load_registry(args.registry or settings.registry_path())


def _setup(args: argparse.Namespace) -> int:
    from exchange_sync import setup
    from exchange_sync.sim_client import SimulatorClient

    registry = _load(args)
    registry.raise_for_errors()
    print(f"warehouse schema at version {setup.migrate_warehouse()}")
    print(f"pools: {', '.join(setup.ensure_pools(registry)) or 'none'}")
    if args.simulator:
        simulator = SimulatorClient(args.simulator)
        for account, outcome in setup.ensure_demo_connections(registry, simulator).items():
            print(f"connection for {account}: {outcome}")
        print(f"notification target: {setup.ensure_demo_notifications(simulator)}")
    return 0


def _status(args: argparse.Namespace) -> int:
    _find_demo_home()
    from exchange_sync.status import format_table, registry_status
    from exchange_sync.warehouse import Warehouse
    from exchange_sync.warehouse.engine import warehouse_url

    registry = _load(args)
    # Which warehouse this is, always: an empty board from the wrong one must not look like news.
    print(f"warehouse: {_safe_url(warehouse_url())}", file=sys.stderr)
    warehouse = Warehouse.open()
    try:
        status = registry_status(registry, warehouse)
    finally:
        warehouse.close()
    print(json.dumps(status, indent=2) if args.json else format_table(status))
    return 0


def _find_demo_home() -> None:
    """Without AIRFLOW_HOME, Airflow would read ~/airflow; in the project, `make run`'s home
    (.airflow/) is the one meant. Set before anything imports Airflow."""
    import os

    demo_home = settings.REPO_ROOT / ".airflow"
    if "AIRFLOW_HOME" not in os.environ and (demo_home / "airflow.cfg").exists():
        os.environ["AIRFLOW_HOME"] = str(demo_home)
        print(f"AIRFLOW_HOME is not set: using the demo's {demo_home}", file=sys.stderr)


def _safe_url(url: object) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _import(args: argparse.Namespace) -> int:
    from exchange_sync.importer.run import run_account_import

    report = run_account_import(_load(args).account(args.account))
    print(json.dumps(report, indent=2))
    return 0


def _import_csv(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from exchange_sync.csv_import.context import context_for
    from exchange_sync.csv_import.run import import_csv
    from exchange_sync.warehouse import Warehouse

    account = _load(args).account(args.account)
    with Warehouse.open() as warehouse:
        report = import_csv(
            warehouse, account, args.file, args.format, context_for(warehouse, account.exchange)
        )
    print(json.dumps(asdict(report), indent=2) if args.json else report.summary())
    return 0


def _csv_rejects(args: argparse.Namespace) -> int:
    from exchange_sync.csv_import.rejects import rejects
    from exchange_sync.warehouse import Warehouse

    account = _load(args).account(args.account)
    with Warehouse.open() as warehouse:
        found = rejects(warehouse.engine, account.id, args.import_id)
    if args.json:
        print(json.dumps(found, indent=2, default=str))
    for r in [] if args.json else found:
        print(f"import {r['import_id']} line {r['line']}: {r['reason']}: {r['detail']}")
    return 0


def _freeze(args: argparse.Namespace) -> int:
    from exchange_sync.recovery.freeze import freeze, unfreeze
    from exchange_sync.warehouse import Warehouse

    account = _load(args).account(args.account)
    with Warehouse.open() as warehouse:
        if args.command == "unfreeze":
            result = unfreeze(account, warehouse)
        else:
            result = freeze(account, warehouse, reason=args.reason, final_sync=args.final_sync)
    print(json.dumps(result, indent=2, default=str))
    return 0


def _diagnose(args: argparse.Namespace) -> int:
    from exchange_sync.diagnosis import classify
    from exchange_sync.diagnosis.report import format_diagnosis

    try:
        body = sys.stdin.read() if args.body_file == "-" else Path(args.body_file).read_text(encoding="utf-8")
    except OSError as exc:
        print(
            f"exchange-sync diagnose: cannot read --body-file {args.body_file}: {exc.strerror}",
            file=sys.stderr,
        )
        return 2
    diagnosis = classify(args.exchange, args.status, body)
    print(json.dumps(diagnosis.to_dict(), indent=2) if args.json else format_diagnosis(diagnosis))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from exchange_sync.demo import run_demo

    return run_demo()


if __name__ == "__main__":
    sys.exit(main())

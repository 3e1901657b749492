"""docker-compose.yaml, Dockerfile, .dockerignore and .env.example, checked without Docker.

No Docker engine runs where these tests run, so they check what `docker compose build/up` relies on by
other means: the files parse; compose variable interpolation is re-implemented (`${VAR}`, `${VAR:-x}`,
`${VAR:?msg}`, `$$`) to see which settings a user must provide; every `airflow ...`, `exchange-sync ...`
and `celery --app ...` command in the file is checked against the installed Airflow 3.3.2, the project's
CLI and the pinned packages; the Python and shell the one-shot airflow-init runs are executed or
syntax-checked here; and the Dockerfile's build context is replayed into a directory from which
setuptools must be able to build the package.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fixtures.compose import (
    AIRFLOW_SERVICES,
    BIN,
    COMPONENT_COMMANDS,
    COMPOSE_FILE,
    DEPENDS_ON_CONDITIONS,
    ENV_ADDITIONS,
    HEALTHCHECKED,
    REPO,
    MissingVariable,
    all_commands,
    common_env,
    compose,
    compose_raw,
    env_example,
    environment,
    filled_env,
    generate,
    heredoc,
    init_script,
    references,
    resolve,
    run_python,
    service_commands,
    services,
    uses_project_image,
    walk_strings,
)

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"


# --- Dockerfile ------------------------------------------------------------------------------------


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        keyword, _, args = (current + line).strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        current = ""
    return instructions


def dockerfile_copies() -> list[tuple[int, list[str], str]]:
    """(instruction index, sources, destination) of every COPY/ADD from the build context."""
    copies = []
    for index, (keyword, args) in enumerate(dockerfile()):
        if keyword in ("COPY", "ADD"):
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            copies.append((index, words[:-1], words[-1]))
    return copies


def dockerfile_workdir_at(index: int) -> str:
    workdir = "/"
    for keyword, args in dockerfile()[:index]:
        if keyword == "WORKDIR":
            workdir = args if args.startswith("/") else f"{workdir.rstrip('/')}/{args}"
    return workdir


def first_run(containing: str) -> int:
    for index, (keyword, args) in enumerate(dockerfile()):
        if keyword == "RUN" and containing in args:
            return index
    pytest.fail(f"the Dockerfile has no RUN with {containing!r}")


@cache
def dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(relative: str) -> bool:
    """Whether .dockerignore keeps a path (relative to the repo) out of the build context."""
    parts = relative.strip("/").split("/")
    ignored = False
    for raw in dockerignore_patterns():
        negate = raw.startswith("!")
        regex = _pattern_regex(os.path.normpath(raw.lstrip("!")).strip("/"))
        if any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            ignored = not negate
    return ignored


def requirement_pin(name: str, path: Path = REPO / "requirements.txt") -> str:
    for line in path.read_text().splitlines():
        match = re.match(rf"^\s*{re.escape(name)}\s*==\s*([^\s;#]+)", line, re.I)
        if match:
            return match.group(1)
    pytest.fail(f"{name} is not pinned in {path.name}")


# ===================================================================================================
# The compose file
# ===================================================================================================


def test_compose_file_parses_and_has_every_service():
    raw = compose_raw()
    assert set(raw) >= {"x-airflow-common", "services", "volumes"}
    expected = {"postgres", "redis", "simulator", *AIRFLOW_SERVICES}
    assert expected <= set(raw["services"]), f"missing: {expected - set(raw['services'])}"
    assert services()["airflow-cli"].get("profiles") == ["debug"]
    assert services()["flower"].get("profiles") == ["flower"]
    assert services()["redis"]["image"] == "redis:7.2-bookworm"
    assert services()["postgres"]["image"] == "postgres:16"


def test_compose_fails_without_fernet_key_instead_of_storing_secrets_unencrypted():
    for name in AIRFLOW_SERVICES:
        value = str(services()[name]["environment"]["AIRFLOW__CORE__FERNET_KEY"])
        assert re.fullmatch(r"\$\{FERNET_KEY:\?[^}]+\}", value), (
            f"{name}: AIRFLOW__CORE__FERNET_KEY must be ${{FERNET_KEY:?message}} (an error when unset or "
            f"empty), not {value!r}"
        )
    # A .env copied from .env.example without filling it in must stop compose, not start Airflow.
    assert env_example().get("FERNET_KEY") == "", ".env.example must not ship a (shared, public) key"
    with pytest.raises(MissingVariable, match="FERNET_KEY"):
        resolve(compose_raw(), {**env_example(), "JWT_SECRET": "x" * 64, "_AIRFLOW_WWW_USER_PASSWORD": "x"})


def test_documented_fernet_key_and_jwt_secret_commands_give_usable_secrets():
    from cryptography.fernet import Fernet

    key = common_env()["AIRFLOW__CORE__FERNET_KEY"]
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"api secret")) == b"api secret"
    jwt_secret = common_env()["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert len(jwt_secret.encode()) >= 64, "HMAC-SHA512 keys under 64 bytes make PyJWT warn on every token"
    assert generate("JWT_SECRET") != jwt_secret, "the JWT secret command must generate a fresh secret"


def test_env_example_lists_every_variable_compose_needs_without_default():
    needed = {
        ref.name
        for text in walk_strings(compose_raw())
        for ref in references(text)
        if ref.op not in ("-", ":-", "+", ":+")
    }
    missing = needed - set(env_example())
    assert not missing, f".env.example does not list {sorted(missing)}, which docker-compose.yaml needs"
    # ... and with it filled in as documented, every required (${VAR:?...}) reference resolves.
    resolve(compose_raw(), filled_env())


def test_every_airflow_service_runs_the_project_image_with_the_common_settings():
    common = compose()["x-airflow-common"]
    assert common["build"] == "." or common["build"].get("context") in (".", "./")
    assert common["image"] and not common["image"].startswith("apache/airflow"), (
        "the Airflow services must run the image built from ./Dockerfile (it holds exchange_sync)"
    )
    names = {
        name
        for name, service in compose()["services"].items()
        if "AIRFLOW__CORE__EXECUTOR" in environment(service)
    }
    assert names == AIRFLOW_SERVICES, "every Airflow service, and only those, gets the Airflow settings"
    for name in AIRFLOW_SERVICES:
        service = compose()["services"][name]
        assert service["image"] == common["image"] and service["build"] == common["build"], name
        assert service["volumes"] == common["volumes"], f"{name}: dags/logs/config/plugins mounts differ"
        env = environment(service)
        changed = {key for key in common_env() if env.get(key) != common_env()[key]}
        assert not changed, f"{name} overrides common settings {sorted(changed)}"
        extra = set(env) - set(common_env()) - ENV_ADDITIONS.get(name, set())
        assert not extra, f"{name} adds settings {sorted(extra)}: put them in x-airflow-common"
        if name != "airflow-init":  # airflow-init runs as root to chown the mounts, like the official file
            assert service["user"] == common["user"], name
    assert uses_project_image("simulator"), "the simulator runs `exchange-sync simulator` from the same image"
    assert compose()["services"]["simulator"]["build"] == common["build"]


def test_each_airflow_component_runs_its_airflow_command():
    for name, expected in COMPONENT_COMMANDS.items():
        runs = [c.argv for c in service_commands(name) if c.where == f"{name} command"]
        assert runs == [expected], f"{name} runs {runs}, expected {expected}"


def test_celery_executor_with_broker_and_backends_on_the_compose_services():
    env = common_env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    postgres = environment(compose()["services"]["postgres"])
    user, password = postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"]

    metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert metadata.scheme == "postgresql+psycopg2"
    assert (metadata.hostname, metadata.username, metadata.password) == ("postgres", user, password)
    assert metadata.path == f"/{postgres['POSTGRES_DB']}"

    backend = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
    assert backend.scheme == "db+postgresql" and backend.hostname == "postgres"
    assert (backend.username, backend.password) == (user, password)

    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname == "redis"
    assert str(broker.port or 6379) in [str(p) for p in compose()["services"]["redis"].get("expose", [])]

    warehouse = urlsplit(env["EXCHANGE_SYNC_WAREHOUSE_URL"])
    assert warehouse.scheme == "postgresql+psycopg2" and warehouse.hostname == "postgres"
    assert (warehouse.username, warehouse.password) == (user, password)
    assert warehouse.path.strip("/") not in ("", postgres["POSTGRES_DB"]), (
        "the warehouse needs a database of its own, not Airflow's metadata database"
    )


def test_database_urls_load_their_drivers_from_the_pinned_packages():
    from sqlalchemy.engine import make_url

    env = common_env()
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "EXCHANGE_SYNC_WAREHOUSE_URL"):
        make_url(env[key]).get_dialect().import_dbapi()  # psycopg2 must be installed
    backend = env["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+")
    make_url(backend).get_dialect().import_dbapi()


def test_execution_api_url_points_at_the_api_server():
    url = urlsplit(common_env()["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname == "airflow-apiserver" and url.path == "/execution/"
    published = [str(p).rsplit(":", 1)[-1] for p in compose()["services"]["airflow-apiserver"]["ports"]]
    assert str(url.port or 80) in published, "the execution API must be the api-server's own port"


def test_healthchecks_and_depends_on_conditions_are_consistent():
    all_services = compose()["services"]
    for name in HEALTHCHECKED:
        assert (all_services[name].get("healthcheck") or {}).get("test"), f"{name} has no healthcheck"
    for name, service in all_services.items():
        depends_on = service.get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions (long syntax)"
        for target, spec in depends_on.items():
            assert target in all_services, f"{name} depends on {target}, which is not a service"
            condition = spec.get("condition")
            assert condition in DEPENDS_ON_CONDITIONS, f"{name} -> {target}: condition {condition!r}"
            if condition == "service_healthy":
                assert all_services[target].get("healthcheck"), f"{name} waits for {target}'s health"
            if condition == "service_completed_successfully":
                assert "restart" not in all_services[target], f"{target} must be a one-shot service"
            if not service.get("profiles"):
                assert not all_services[target].get("profiles"), f"{name} depends on profiled {target}"
    for name in COMPONENT_COMMANDS:
        conditions = {t: s["condition"] for t, s in all_services[name]["depends_on"].items()}
        assert conditions.get("postgres") == conditions.get("redis") == "service_healthy", name
        assert conditions.get("airflow-init") == "service_completed_successfully", name
    assert all_services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    init_deps = all_services["airflow-init"]["depends_on"]
    assert {t: s["condition"] for t, s in init_deps.items()} == {
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "simulator": "service_healthy",
    }

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"dependency cycle: {' -> '.join((*path, name))}"
        for target in all_services[name].get("depends_on") or {}:
            visit(target, (*path, name))

    for name in all_services:
        visit(name, ())


def test_healthchecks_probe_the_ports_the_services_listen_on():
    from airflow.configuration import conf

    def curl_urls(name: str) -> list[str]:
        return [c.argv[-1] for c in service_commands(name) if c.argv[0] == "curl"]

    assert common_env()["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"].lower() == "true"
    port = conf.getint("scheduler", "scheduler_health_check_server_port")
    assert curl_urls("airflow-scheduler") == [f"http://localhost:{port}/health"]
    assert curl_urls("airflow-apiserver") == ["http://localhost:8080/api/v2/monitor/health"]
    simulator = next(c.argv for c in all_commands("exchange-sync") if c.argv[1] == "simulator")
    sim_port = simulator[simulator.index("--port") + 1]
    assert curl_urls("simulator") == [f"http://localhost:{sim_port}/_sim/health"]
    assert any(str(p).endswith(f":{sim_port}") for p in compose()["services"]["simulator"]["ports"])
    job_types = {
        c.argv[c.argv.index("--job-type") + 1]: c.where
        for c in all_commands("airflow")
        if "--job-type" in c.argv
    }
    assert job_types == {
        "DagProcessorJob": "airflow-dag-processor healthcheck",
        "TriggererJob": "airflow-triggerer healthcheck",
    }


def test_mounted_host_paths_exist_or_are_created_by_the_documented_setup():
    documented = set()
    for line in COMPOSE_FILE.read_text().splitlines():
        if line.startswith("#") and "mkdir -p" in line:
            documented |= {os.path.normpath(p) for p in line.split("mkdir -p", 1)[1].split()}
    assert {"logs", "config"} <= documented, "the header must say to create ./logs and ./config first"
    named_volumes = set(compose()["volumes"])
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = (volume["source"] if isinstance(volume, dict) else volume.split(":")[0]).rstrip("/")
            if not source.startswith((".", "/", "~")):
                assert source in named_volumes, f"{name}: volume {source} is not declared"
                continue
            relative = os.path.normpath(source)
            assert (REPO / relative).exists() or relative in documented, (
                f"{name} mounts {source}, which is neither in the repo nor created by the documented setup"
            )


def test_paths_the_containers_read_are_on_the_mounts():
    mounts = {}
    for volume in compose()["x-airflow-common"]["volumes"]:
        source, target = volume.split(":")[:2]
        mounts[target.rstrip("/")] = os.path.normpath(source)

    def host_path(container_path: str) -> Path | None:
        for target, source in mounts.items():
            if container_path.startswith(target + "/"):
                return REPO / source / container_path[len(target) + 1 :]
        return None

    registry = host_path(common_env()["EXCHANGE_SYNC_REGISTRY"])
    assert registry is not None and registry.is_file(), "EXCHANGE_SYNC_REGISTRY must be the mounted registry"
    assert registry.resolve() == (REPO / "dags" / "accounts.yaml").resolve()
    # Written by airflow-init, read by every other container: must be on a shared mount.
    for key in ("AIRFLOW_CONFIG", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
        assert host_path(common_env()[key]) is not None, f"{key} is not on a shared mount"
    assert mounts.get("/opt/airflow/dags") == "dags" and mounts.get("/opt/airflow/plugins") == "plugins"
    # The simulator's state survives restarts: its state file lives in a volume.
    argv = next(c.argv for c in all_commands("exchange-sync") if c.argv[1] == "simulator")
    state_dir = str(Path(argv[argv.index("--state-file") + 1]).parent)
    sim_targets = [v.split(":")[1] for v in compose()["services"]["simulator"]["volumes"]]
    assert state_dir in sim_targets
    assert any(keyword == "RUN" and state_dir in args for keyword, args in dockerfile()), (
        f"the image must create {state_dir} writable for the airflow user (a new volume copies it)"
    )


def test_runtime_state_and_secrets_are_git_ignored():
    paths = [".env", "config/airflow.cfg", "config/simple_auth_manager_passwords.json", "logs/x.log"]
    not_ignored = [
        path
        for path in paths
        if subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode != 0
    ]
    assert not not_ignored, (
        f"{not_ignored} would show up in `git status` (config/ holds the generated secret keys and the "
        "Airflow password): add /logs/ and /config/ to .gitignore"
    )


# ===================================================================================================
# Commands the compose file runs
# ===================================================================================================

_PARSE_AIRFLOW = """
import json, sys
from airflow.cli.cli_parser import get_parser
parser = get_parser()
results = {}
for argv in json.loads(sys.argv[1]):
    try:
        parser.parse_args(argv)
        results[" ".join(argv)] = "ok"
    except SystemExit as exc:
        results[" ".join(argv)] = f"rejected (exit {exc.code})"
print("RESULTS=" + json.dumps(results))
"""


def test_every_airflow_command_is_a_valid_airflow_cli_command():
    commands = all_commands("airflow")
    # The extraction must see the commands of the components, healthchecks and airflow-init.
    seen = {c.argv[1] for c in commands if len(c.argv) > 1}
    assert {"api-server", "scheduler", "dag-processor", "triggerer", "celery", "jobs", "version"} <= seen
    argvs = sorted({c.argv[1:] for c in commands if len(c.argv) > 1})
    result = subprocess.run(
        [sys.executable, "-c", _PARSE_AIRFLOW, json.dumps(argvs)],
        env={**os.environ, "AIRFLOW__CORE__EXECUTOR": common_env()["AIRFLOW__CORE__EXECUTOR"]},
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULTS=")]
    assert lines, result.stdout + result.stderr
    verdicts = json.loads(lines[-1].removeprefix("RESULTS="))
    rejected = [str(c) for c in commands if verdicts.get(" ".join(c.argv[1:])) != "ok" and len(c.argv) > 1]
    assert not rejected, f"Airflow {_airflow_version()} rejects: {rejected}\n{result.stderr[-3000:]}"


def _airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


def _help(subcommand: str) -> str:
    result = subprocess.run(
        [str(BIN / "exchange-sync"), subcommand, "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"exchange-sync {subcommand} --help failed:\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("subcommand", ["setup", "simulator"])
def test_exchange_sync_commands_exist_with_the_options_used(subcommand):
    commands = [c for c in all_commands("exchange-sync") if c.argv[1:2] == (subcommand,)]
    assert commands, f"docker-compose.yaml does not run `exchange-sync {subcommand}`"
    if subcommand == "simulator" and not (REPO / "include/exchange_sync/simulator/server.py").exists():
        pytest.skip("include/exchange_sync/simulator/server.py is not written yet (simulator in progress)")
    help_text = _help(subcommand)
    for command in commands:
        for option in (a.split("=")[0] for a in command.argv[2:] if a.startswith("--")):
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text), (
                f"{command}: `exchange-sync {subcommand}` has no {option} option"
            )


def test_setup_talks_to_the_simulator_service():
    (setup,) = [c for c in all_commands("exchange-sync") if c.argv[1] == "setup"]
    assert setup.where == "airflow-init command"
    url = urlsplit(setup.argv[setup.argv.index("--simulator") + 1])
    simulator = next(c.argv for c in all_commands("exchange-sync") if c.argv[1] == "simulator")
    assert url.hostname == "simulator"
    assert str(url.port) == simulator[simulator.index("--port") + 1]
    assert simulator[simulator.index("--host") + 1] == "0.0.0.0", "reachable from the other containers"


def test_airflow_init_migrates_then_sets_up_and_fails_loudly():
    env = environment(compose()["services"]["airflow-init"])
    assert env.get("_AIRFLOW_DB_MIGRATE", "").lower() == "true", "the entrypoint's `airflow db migrate`"
    assert "_AIRFLOW_WWW_USER_CREATE" not in env, "`airflow users create` needs FAB, which is not installed"
    script = init_script()
    assert re.search(r"^set -[a-z]*e", script, re.M), "a failing step must fail airflow-init (set -e)"
    lines = script.splitlines()

    def line(pattern: str, last: bool = False) -> int:
        found = [i for i, text in enumerate(lines) if re.search(pattern, text)]
        assert found, f"airflow-init does not run {pattern!r}"
        return found[-1] if last else found[0]

    # Run as root, Airflow's (and exchange_sync's) packages are only importable through /entrypoint,
    # and the first /entrypoint call is the one that runs `airflow db migrate`.
    migrate = line(r"^/entrypoint ")
    assert line(r"^/entrypoint airflow ") == migrate
    assert "unset _AIRFLOW_DB_MIGRATE" not in "\n".join(lines[:migrate])
    create_db = line(r"^/entrypoint python - <<'CREATE_WAREHOUSE_DATABASE'")
    setup = line(r"^/entrypoint bash -c 'exchange-sync setup ")
    chown = line(r"^chown ", last=True)
    assert migrate < setup, "exchange-sync setup creates pools: Airflow's tables must exist first"
    assert create_db < setup, "exchange-sync setup migrates the warehouse: its database must exist first"
    assert setup < chown, "files created as root during setup must be handed to AIRFLOW_UID"


def test_airflow_init_shell_script_is_valid_bash():
    for name in compose()["services"]:
        service = compose()["services"][name]
        command = service.get("command")
        scripts = []
        if isinstance(command, list) and command[:1] == ["-c"]:
            scripts.append(command[1])
        if isinstance(command, list) and command[:2] == ["bash", "-c"]:
            scripts.append(command[2])
        test = (service.get("healthcheck") or {}).get("test") or []
        if test[:1] == ["CMD-SHELL"]:
            scripts.append(test[1])
        for script in scripts:
            result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
            # bash -n only warns (exit 0) about e.g. an unterminated here-document
            assert result.returncode == 0 and not result.stderr, f"{name}: bash -n: {result.stderr}"


def test_worker_healthcheck_celery_app_and_executor_load_from_pinned_packages():
    apps = {c.argv[c.argv.index("--app") + 1] for c in all_commands("celery")}
    assert apps, "the worker healthcheck pings its Celery app"
    env = {key: value for key, value in common_env().items() if key.startswith("AIRFLOW__CELERY__")}
    env["AIRFLOW__CORE__EXECUTOR"] = common_env()["AIRFLOW__CORE__EXECUTOR"]
    code = "\n".join(
        [
            "import importlib",
            "from airflow.executors.executor_loader import ExecutorLoader",
            "print(ExecutorLoader.import_default_executor_cls())",
            *(
                f"getattr(importlib.import_module({module!r}), {attr!r})"
                for module, _, attr in (app.rpartition(".") for app in sorted(apps))
            ),
        ]
    )
    result = run_python(code, env)
    assert result.returncode == 0, (
        "the scheduler and the workers could not load the CeleryExecutor with the pinned packages:\n"
        + result.stderr[-2500:]
    )


# ===================================================================================================
# What airflow-init runs, run here
# ===================================================================================================


def test_login_written_by_airflow_init_is_the_one_the_api_server_accepts(tmp_path):
    init_env = environment(compose()["services"]["airflow-init"])
    passwords = tmp_path / "simple_auth_manager_passwords.json"
    env = {
        key: value
        for key, value in init_env.items()
        if key.startswith(("AIRFLOW__CORE__", "AIRFLOW__API_AUTH__", "_AIRFLOW_WWW_USER_"))
    }
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(passwords)
    written = run_python(heredoc(init_script(), "WRITE_AIRFLOW_LOGIN"), env)
    assert written.returncode == 0, written.stderr
    assert passwords.stat().st_mode & 0o077 == 0, "the password file must not be readable by others"

    user, password = init_env["_AIRFLOW_WWW_USER_USERNAME"], init_env["_AIRFLOW_WWW_USER_PASSWORD"]
    check = f"""
from fastapi import HTTPException
from airflow.api_fastapi.app import init_auth_manager
from airflow.api_fastapi.auth.managers.simple.datamodels.login import LoginBody
from airflow.api_fastapi.auth.managers.simple.services.login import SimpleAuthManagerLogin
init_auth_manager()  # what the api-server does at start-up
assert SimpleAuthManagerLogin.create_token(LoginBody(username={user!r}, password={password!r}))
try:
    SimpleAuthManagerLogin.create_token(LoginBody(username={user!r}, password="wrong"))
    raise SystemExit("a wrong password was accepted")
except HTTPException as exc:
    assert exc.status_code == 401
"""
    result = run_python(check, env)
    assert result.returncode == 0, result.stderr[-2500:]
    assert json.loads(passwords.read_text()) == {user: password}, "Airflow replaced the password"


@pytest.mark.postgres
def test_airflow_init_creates_the_warehouse_database_once():
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    base = os.environ.get("EXCHANGE_SYNC_TEST_PG_URL")
    if not base:
        pytest.skip("EXCHANGE_SYNC_TEST_PG_URL is not set (.ci/run sets it)")
    name = f"es_compose_{uuid.uuid4().hex[:10]}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    code = heredoc(init_script(), "CREATE_WAREHOUSE_DATABASE")
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    warehouse = create_engine(url, poolclass=NullPool)
    try:
        for expected in ("created database", "exists"):  # the second airflow-init run keeps it
            result = run_python(code, {"EXCHANGE_SYNC_WAREHOUSE_URL": url})
            assert result.returncode == 0, result.stderr
            assert expected in result.stdout
        with warehouse.connect() as conn:
            assert conn.scalar(text("SELECT current_database()")) == name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# ===================================================================================================
# Dockerfile and .dockerignore
# ===================================================================================================


def test_image_is_the_pinned_airflow_on_the_frozen_python():
    (base,) = [args for keyword, args in dockerfile() if keyword == "FROM"]
    match = re.fullmatch(r"apache/airflow:(?P<airflow>[\w.]+)-python(?P<python>\d+\.\d+)", base)
    assert match, f"FROM {base}: expected apache/airflow:<version>-python<X.Y>"
    assert match["airflow"] == requirement_pin("apache-airflow"), "FROM and requirements.txt disagree"
    assert match["airflow"] == requirement_pin("apache-airflow", REPO / "constraints.txt")
    frozen = re.search(r"Python (\d+\.\d+)", (REPO / "constraints.txt").read_text())
    assert frozen and match["python"] == frozen.group(1), "constraints.txt was frozen for another Python"


def test_dockerfile_installs_requirements_with_constraints_then_the_project():
    runs = [args for keyword, args in dockerfile() if keyword == "RUN"]
    deps = first_run("-r requirements.txt")
    assert re.search(r'"?apache-airflow==\$\{AIRFLOW_VERSION\}"?', dockerfile()[deps][1])
    assert "-c constraints.txt" in dockerfile()[deps][1] and "--no-cache-dir" in dockerfile()[deps][1]
    project = next(
        i for i, (keyword, args) in enumerate(dockerfile()) if keyword == "RUN" and "--no-deps" in args
    )
    assert re.search(
        r"pip install .*--no-deps(\s+--no-build-isolation)?\s+(-e\s+)?\.(\s|$)", dockerfile()[project][1]
    ), runs
    assert deps < project

    def copied_before(path: str, index: int) -> bool:
        return any(
            i < index and any(s.rstrip("/") == path for s in sources) for i, sources, _ in dockerfile_copies()
        )

    for path in ("requirements.txt", "constraints.txt"):
        assert copied_before(path, deps), f"{path} must be copied before `pip install -r`"
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    package_dirs = pyproject["tool"]["setuptools"]["packages"]["find"]["where"]
    for path in ("pyproject.toml", *package_dirs):
        assert copied_before(path, project), f"{path} must be copied before the project is installed"
    for i, _, destination in dockerfile_copies():
        assert dockerfile_workdir_at(i) == dockerfile_workdir_at(project) or destination.startswith("/")


def test_build_context_holds_everything_the_package_build_needs(tmp_path):
    """Replay the Dockerfile's COPYs (minus .dockerignore) and let setuptools read the package there."""
    context = tmp_path / "context"
    context.mkdir()
    for _, sources, destination in dockerfile_copies():
        target = context / destination.lstrip("./") if destination not in (".", "./") else context
        for source in sources:
            path = REPO / source
            assert path.exists(), f"the Dockerfile copies {source}, which is not in the repo"
            assert not dockerignored(source), f".dockerignore excludes {source}, which the Dockerfile copies"
            if path.is_dir():
                for file in path.rglob("*"):
                    relative = file.relative_to(REPO).as_posix()
                    if file.is_file() and not dockerignored(relative):
                        out = target / file.relative_to(path)
                        out.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(file, out)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.name if destination.endswith("/") else target)
    egg_base = tmp_path / "egg"
    egg_base.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from setuptools import setup; setup()",
            "egg_info",
            "--egg-base",
            str(egg_base),
        ],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"setuptools cannot read the package from the build context:\n{result}"
    (info,) = egg_base.glob("*.egg-info")
    entry_points = (info / "entry_points.txt").read_text()
    assert re.search(r"^exchange-sync = exchange_sync\.cli:main$", entry_points, re.M)
    assert "[apache_airflow_provider]" in entry_points, "the ccxt connection type comes from this entry point"
    packaged = set((info / "SOURCES.txt").read_text().split())
    modules = {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "include" / "exchange_sync").rglob("*.py")
        if not dockerignored(path.relative_to(REPO).as_posix())
    }
    assert modules - packaged == set(), "modules the image would not install"


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build_context():
    for path in (".env", ".venv/bin/python", ".git/config", ".airflow/airflow.db", "config/airflow.cfg"):
        assert dockerignored(path), f"{path} would be sent to the Docker daemon with the build context"
    assert dockerignored("include/exchange_sync/__pycache__/cli.cpython-311.pyc")
    assert not dockerignored("include/exchange_sync/cli.py")


def test_a_dead_workers_task_is_retried_in_minutes_and_a_running_one_never_handed_out_twice():
    """Celery's default visibility timeout (24 h) redelivers an unacknowledged task a day later;
    one shorter than a try would hand a running try to a second worker. Airflow reads the compose
    settings as the deployment would; the task timeouts come from the DAGs themselves."""
    from exchange_sync.pipeline.tasks import TRY_TIMEOUT

    env = {k: v for k, v in common_env().items() if k.startswith("AIRFLOW__") and "${" not in v}
    airflow = Path(sys.executable).with_name("airflow")

    def setting(section: str, key: str) -> float:
        result = subprocess.run(
            [str(airflow), "config", "get-value", section, key],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        assert result.returncode == 0, result.stderr
        return float(result.stdout.strip())

    visibility = setting("celery_broker_transport_options", "visibility_timeout")
    heartbeat = setting("scheduler", "task_instance_heartbeat_timeout")
    assert heartbeat <= 300  # a dead worker's try is failed and retried within minutes
    assert TRY_TIMEOUT.total_seconds() < visibility < 86_400
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    bag = DagBag(str(REPO / "dags"))
    checked = 0
    for dag in bag.dags.values():
        for task in dag.tasks:
            if task.task_id.endswith(("import_account", "backfill_chunk", "backfill_trades")):
                assert task.execution_timeout == TRY_TIMEOUT, task.task_id
                checked += 1
    assert checked >= 3

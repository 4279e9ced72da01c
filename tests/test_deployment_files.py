"""The deployment recipes say what docs/operations.md promises, read without a container runtime or systemd: the
image runs `steward run` as a non-root user with no secret built in, Compose wires Steward to its PostgreSQL
service, and the systemd unit runs `steward run` as its own user, restarts it, and confines it to its data."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

import bot
from storage.db import async_url

ROOT = Path(__file__).resolve().parent.parent
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY|PRIVATE", re.I)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    return instructions


def exec_form(arguments: str) -> list[str]:
    """`["a", "b"]` as a list; the shell form as its words."""
    return yaml.safe_load(arguments) if arguments.startswith("[") else shlex.split(arguments)


def env_names(arguments: str) -> list[str]:
    words = shlex.split(arguments)
    if words and "=" not in words[0]:  # the legacy `ENV NAME value` form
        return [words[0]]
    return [word.split("=", 1)[0] for word in words]


def test_the_image_runs_steward_run_as_a_non_root_user_on_python_3_11_slim() -> None:
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    names = [name for name, _ in steps]
    start = min(i for i, name in enumerate(names) if name in {"ENTRYPOINT", "CMD"})
    users = [args for name, args in steps[:start] if name == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "a non-root USER before the entrypoint"
    assert "USER" not in names[start:]
    entrypoint = next(exec_form(args) for name, args in steps if name == "ENTRYPOINT")
    command = next(exec_form(args) for name, args in steps if name == "CMD")
    assert entrypoint + command == ["steward", "run"]
    assert any(name == "RUN" and "pip install ." in args for name, args in steps)
    assert any(name == "VOLUME" for name, _ in steps)


def test_the_image_builds_in_no_secret() -> None:
    steps = dockerfile()
    declared = [n for name, args in steps if name in {"ENV", "ARG"} for n in env_names(args)]
    assert declared and not [n for n in declared if SECRET_NAME.search(n)]
    assert not [args for name, args in steps if name in {"COPY", "ADD"} and ".env" in args.split()]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".git", ".venv", "data/"} <= set(ignored)


def test_the_sample_community_is_copied_where_the_runner_looks_for_it() -> None:
    """Without tokens `steward run` replays the sample beside the installed packages; the image puts it there."""
    from bot.runner import SAMPLE

    packages = Path(bot.__file__).resolve().parent.parent
    assert packages / "examples" / "sample-community.jsonl" == SAMPLE
    run = " ".join(args for name, args in dockerfile() if name == "RUN")
    assert "cp -r examples" in run and 'get_paths()["purelib"])\')/examples"' in run  # site-packages


def interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: interpolate(str(value)) for key, value in env.items()}


def test_compose_runs_steward_against_its_postgres_service() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"steward", "postgres"} <= set(services)
    steward, postgres = services["steward"], services["postgres"]

    url = async_url(environment(steward)["DATABASE_URL"])  # the URL Steward itself would use
    database = environment(postgres)
    assert url.drivername == "postgresql+asyncpg" and url.host == "postgres"
    assert (url.username, url.password, url.database) == (
        database["POSTGRES_USER"], database["POSTGRES_PASSWORD"], database["POSTGRES_DB"],
    )
    assert steward["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])

    port = environment(steward)["WEB_PORT"]
    assert environment(steward)["WEB_HOST"] == "0.0.0.0"
    assert any(str(p).endswith(f":{port}") for p in steward["ports"])
    assert f":{port}/healthz" in " ".join(steward["healthcheck"]["test"])
    assert not [k for k in environment(steward) if SECRET_NAME.search(k)]  # tokens come from .env


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(ROOT / "deploy" / "steward.service", encoding="utf-8")
    return parser


def test_the_systemd_unit_runs_steward_run_as_its_own_user_and_restarts_it() -> None:
    service = unit()["Service"]
    command = shlex.split(service["ExecStart"])
    assert Path(command[0]).name == "steward" and command[1:] == ["run"]
    assert service["User"] not in {"", "root", "0"}
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/steward/steward.env"
    assert service.get("KillSignal", "SIGTERM") == "SIGTERM"
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_systemd_unit_confines_steward_to_its_data_directory() -> None:
    service = unit()["Service"]
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["WorkingDirectory"] in service["ReadWritePaths"].split()
    assert service["ProtectHome"] == "yes" and service["PrivateTmp"] == "yes"
    assert service["CapabilityBoundingSet"] == ""

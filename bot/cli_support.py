"""What every `steward` subcommand shares: settings with clear errors, one-line failures, logging."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

import typer
from pydantic import ValidationError

from bot.settings import Settings


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and .env; a bad value is a clear message, not a traceback."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        fail(f"configuration error: {problems}")


def say_error(message: str) -> None:
    """The one line every failed command ends with."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)


def fail(message: str, code: int = 2) -> NoReturn:
    say_error(message)
    raise typer.Exit(code)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise at every start
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # two lines per job run, every sweep


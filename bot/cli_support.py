"""What every `steward` subcommand shares: settings with clear errors, one-line failures, logging."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

import typer
from pydantic import ValidationError

from bot.core.log_format import JsonFormatter
from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_loaded_log_format = "text"  # LOG_FORMAT of the settings this command loaded: its log lines follow it


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and .env; a bad value is a clear message, not a traceback."""
    global _loaded_log_format
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        fail(f"configuration error: {problems}")
    _loaded_log_format = settings.log_format
    return settings


def say_error(message: str) -> None:
    """The one line every failed command ends with."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)


def fail(message: str, code: int = 2) -> NoReturn:
    say_error(message)
    raise typer.Exit(code)


def setup_logging(level: str, log_format: str | None = None) -> None:
    """Log to stderr at `level`, as text lines or JSON objects (`log_format`; default: LOG_FORMAT of the settings
    `load_settings` gave this command)."""
    handler = logging.StreamHandler(sys.stderr)
    json_lines = (log_format or _loaded_log_format) == "json"
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise at every start
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # two lines per job run, every sweep


"""The `steward` command line."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from typer.exceptions import TyperException

from bot.cli_support import fail, load_settings, say_error, setup_logging
from bot.core.transcript import TranscriptError
from storage.db import DatabaseURLError, redact

app = typer.Typer(
    help="Steward: a facilitation bot for change communities.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

logger = logging.getLogger(__name__)


@app.command()
def replay(
    transcript: Annotated[
        Path, typer.Argument(help="A transcript: JSON lines, one event a line (docs/transcripts.md).")
    ],
    report: Annotated[Path | None, typer.Option("--report", help="Write the replay report (JSON) here.")] = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Database URL; default: a fresh temporary SQLite file.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")] = False,
) -> None:
    """Replay a transcript on a simulated clock and report what Steward concluded and would have done."""
    import tempfile

    from adapters.console.render import Narrator, print_summary
    from bot.app.replay import replay as run_replay

    settings = load_settings()
    setup_logging("WARNING" if quiet else settings.log_level)
    with tempfile.TemporaryDirectory(prefix="steward-replay-") as scratch:
        url = database or f"sqlite:///{scratch}/replay.db"
        settings = settings.model_copy(update={"database_url": url})
        try:
            result = asyncio.run(
                run_replay(transcript, settings, report_path=report, on_actions=None if quiet else Narrator())
            )
        except (TranscriptError, DatabaseURLError) as exc:
            fail(str(exc))
    print_summary(result)
    if report is not None:
        typer.echo(f"report written to {report}")


@app.command()
def run(
    console: Annotated[bool, typer.Option("--console", help="Talk to Steward in this terminal.")] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Replay the sample community even if tokens are set.")] = False,
) -> None:
    """Run Steward: on Slack and/or Discord when tokens are configured, else show it on the sample community."""
    from bot.runner import run_console, run_demo, run_platforms

    settings = load_settings()
    # In the console, Steward's own lines are the conversation; routine log lines would interrupt it.
    setup_logging("WARNING" if console and settings.log_level.upper() == "INFO" else settings.log_level)
    try:
        if console:
            asyncio.run(run_console(settings))
        elif demo or not (settings.has_slack or settings.has_discord):
            run_demo(settings)
        else:
            asyncio.run(run_platforms(settings))
    except DatabaseURLError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("bye")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads") -> None:
    """Apply the database migrations (Steward also does this at start)."""
    from storage.db import redact
    from storage.migrate import upgrade_blocking

    settings = load_settings()
    setup_logging(settings.log_level)
    try:
        upgrade_blocking(settings.database_url, revision)
    except DatabaseURLError as exc:
        fail(str(exc))
    typer.echo(f"database {redact(settings.database_url)} is at {revision}")


@db_app.command("purge")
def db_purge() -> None:
    """Forget message text older than MESSAGE_RETENTION_DAYS now (Steward also does this nightly)."""
    from datetime import UTC, datetime, timedelta

    from storage.db import create_engine
    from storage.repository import purge_message_text

    settings = load_settings()
    setup_logging(settings.log_level)
    days = settings.message_retention_days

    async def purge() -> int:
        await _upgrade(settings.database_url)
        db = create_engine(settings.database_url)
        try:
            return await purge_message_text(db, datetime.now(UTC) - timedelta(days=days))
        finally:
            await db.dispose()

    try:
        purged = asyncio.run(purge())
    except DatabaseURLError as exc:
        fail(str(exc))
    typer.echo(f"forgot the text of {purged} messages older than {days} days in {redact(settings.database_url)}")


async def _upgrade(url: str) -> None:
    from storage.migrate import upgrade

    await upgrade(url)


# Feature areas register their own command groups here.
from adapters.discord.cli import discord_app  # noqa: E402

app.add_typer(discord_app, name="discord")
from bot.lessons_cli import lessons_app  # noqa: E402

app.add_typer(lessons_app, name="lessons")
from bot.decisions_cli import decisions_app  # noqa: E402

app.add_typer(decisions_app, name="decisions")

from bot.history_cli import audit, import_app  # noqa: E402
from bot.member_cli import member_app  # noqa: E402

app.add_typer(member_app, name="member")

app.add_typer(import_app, name="import")
from adapters.web.cli import web_app  # noqa: E402

app.add_typer(web_app, name="web")
app.command("audit", help="Write the facilitation audit report.")(audit)
from bot.report_cli import report  # noqa: E402

app.command("report", help="Write the monthly sponsor report.")(report)
from bot.config_cli import config_app  # noqa: E402

app.add_typer(config_app, name="config")


def main() -> None:
    """The `steward` command. Bad input and an unreachable database are one line and exit status 2, never a
    traceback; anything else unexpected is one line too, with the details in the log at DEBUG."""
    try:
        code = app(standalone_mode=False)  # a command's `fail` comes back as its exit status
    except typer.Exit as exc:  # `fail` said why already, or --help was shown
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except TyperException as exc:  # a wrong command, option or argument
        context = getattr(exc, "ctx", None)
        command = context.command_path if context is not None else "steward"
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail_plainly(f"{message} (see `{command} --help`)")
    except (ConnectionError, TimeoutError) as exc:
        _fail_plainly(one_line(exc))
    except OSError as exc:  # a path that cannot be read or written
        where = f": {exc.filename}" if exc.filename else ""
        _fail_plainly(f"{exc.strerror or exc}{where}")
    except Exception as exc:
        _fail_plainly(one_line(exc))
    if isinstance(code, int) and code:
        raise SystemExit(code)


def one_line(exc: BaseException) -> str:
    """An error as one line a person can act on: what failed and why, without a traceback or a secret."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return f"could not connect to the database ({exc.strerror or exc}); is it running, and is DATABASE_URL right?"
    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    if type(exc).__module__.startswith(("sqlalchemy", "asyncpg", "sqlite3")):
        return f"the database refused or failed: {redact(text) if '://' in text else text}"
    return f"{type(cause).__name__}: {text}"


def _fail_plainly(message: str) -> NoReturn:
    logging.getLogger(__name__).debug("the command failed", exc_info=True)
    say_error(message)
    raise SystemExit(2)


if __name__ == "__main__":
    main()

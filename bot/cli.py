"""The `steward` command line."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_support import fail, load_settings, setup_logging
from bot.core.transcript import TranscriptError
from storage.db import DatabaseURLError

app = typer.Typer(
    help="Steward: a facilitation bot for change communities.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

logger = logging.getLogger(__name__)


@app.command()
def replay(
    transcript: Annotated[Path, typer.Argument(help="A transcript (JSONL, see TRANSCRIPT.md).")],
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


# Feature areas register their own command groups here.
from adapters.discord.cli import discord_app  # noqa: E402

app.add_typer(discord_app, name="discord")
from bot.lessons_cli import lessons_app  # noqa: E402

app.add_typer(lessons_app, name="lessons")

from bot.history_cli import audit_app, import_app  # noqa: E402

app.add_typer(import_app, name="import")
app.add_typer(audit_app, name="audit")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""`steward import ...` (history from platform exports) and `steward audit` (the facilitation report)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from adapters.discord.export import DiscordExport
from adapters.slack.export import SlackExport
from bot.app.importer import ImportResult, import_export, progress_for, write_transcript
from bot.cli_support import fail, load_settings, setup_logging
from bot.core.ports import Export, ExportError
from storage.db import DatabaseURLError

logger = logging.getLogger(__name__)

import_app = typer.Typer(help="Import history from platform exports (backfill).", no_args_is_help=True)

ToTranscript = Annotated[
    Path | None,
    typer.Option("--to-transcript", help="Write a transcript (JSONL) here instead of importing into the database."),
]


def open_export(kind: str, path: Path) -> Export:
    """The reader for `kind` ("slack" or "discord"); raises ExportError when the export cannot be opened."""
    if kind == "slack":
        return SlackExport(path)
    if kind == "discord":
        return DiscordExport(path)
    raise ExportError(f"unknown export kind {kind!r}")


@import_app.command("slack-export")
def slack_export(
    export: Annotated[Path, typer.Argument(help="The Slack workspace export (ZIP, or its unpacked folder).")],
    to_transcript: ToTranscript = None,
) -> None:
    """Import a Slack workspace export: messages, threads, reactions, joins, edits, members."""
    _run_import("slack", export, to_transcript)


@import_app.command("discord-export")
def discord_export(
    export: Annotated[Path, typer.Argument(help="A DiscordChatExporter JSON file, or a folder of them.")],
    to_transcript: ToTranscript = None,
) -> None:
    """Import DiscordChatExporter JSON: messages, replies, threads and forum posts, reactions."""
    _run_import("discord", export, to_transcript)


def _run_import(kind: str, path: Path, to_transcript: Path | None) -> None:
    """Open, import or convert, then summarise; exit non-zero only when nothing could be imported."""
    settings = load_settings()
    setup_logging(settings.log_level)
    try:
        source = open_export(kind, path)
        progress = progress_for(f"{kind} {path.name}")
        if to_transcript is not None:
            result = write_transcript(source, to_transcript, progress=progress)
        else:
            result = asyncio.run(import_export(source, settings, progress=progress))
    except (ExportError, DatabaseURLError) as exc:
        fail(str(exc))
    _summary(result, to_transcript)


def _summary(result: ImportResult, to_transcript: Path | None) -> None:
    problems = result.problems
    for line in problems.skipped[:20]:
        typer.secho(f"skipped: {line}", err=True, fg=typer.colors.YELLOW)
    if len(problems.skipped) > 20:
        typer.secho(f"... and {len(problems.skipped) - 20} more skipped", err=True, fg=typer.colors.YELLOW)
    target = f"transcript {to_transcript}" if to_transcript else f"workspace {result.workspace}"
    typer.echo(
        f"{result.messages:,} messages ({result.events:,} events) into {target} in {result.seconds:.1f} s"
        f" ({result.rate:,.0f} messages/s); {result.already_known:,} already imported,"
        f" {len(problems.skipped)} skipped, {len(problems.warnings)} warnings"
    )


def audit(
    out: Annotated[Path, typer.Option("--out", help="Where to write the report.")],
    since: Annotated[
        datetime | None, typer.Option("--since", help="Only questions asked from this date on (YYYY-MM-DD).")
    ] = None,
    report_format: Annotated[str, typer.Option("--format", help="html or markdown.")] = "html",
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="Only this workspace (e.g. slack:T123); default: all.")
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", help="Language of the report, en or de; default: STEWARD_LANGUAGE."),
    ] = None,
) -> None:
    """Audit the stored history (DATABASE_URL): what happened to questions, and what Steward would have done."""
    from bot.app.audit import AuditError, write_audit
    from bot.i18n import LANGUAGES

    if report_format not in {"html", "markdown"}:
        fail("--format must be html or markdown")
    chosen = language.strip().lower() if language is not None else None
    if chosen is not None and chosen not in LANGUAGES:
        fail(f"--language must be one of {', '.join(LANGUAGES)} (got {language!r})")
    settings = load_settings()
    setup_logging(settings.log_level)
    start = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    lang = chosen or settings.steward_language
    try:
        asyncio.run(
            write_audit(settings.database_url, out, since=start, fmt=report_format, workspace=workspace, language=lang)
        )
    except (AuditError, DatabaseURLError) as exc:
        fail(str(exc))
    typer.echo(f"audit report written to {out}")

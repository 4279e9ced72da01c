"""`steward report`: write a community's monthly sponsor report from the stored history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_support import fail, load_settings, setup_logging
from storage.db import DatabaseURLError


def report(
    month: Annotated[str, typer.Option("--month", help="The month to report on, YYYY-MM (e.g. 2026-03).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the report (e.g. report.html).")],
    report_format: Annotated[str, typer.Option("--format", help="html or markdown.")] = "html",
    language: Annotated[
        str | None, typer.Option("--language", help="en or de; default: the community's language.")
    ] = None,
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="The community (e.g. slack:T123); needed when there are several.")
    ] = None,
) -> None:
    """Write the monthly sponsor report (DATABASE_URL): trends with charts, escalations, decisions, lessons,
    newcomer conversion and the facilitators' notes."""
    from bot.app.sponsor import ReportError, write_report
    from bot.i18n import LANGUAGES

    if report_format not in {"html", "markdown"}:
        fail(f"--format must be html or markdown (got {report_format!r})")
    chosen = language.strip().lower() if language is not None else None
    if chosen is not None and chosen not in LANGUAGES:
        fail(f"--language must be one of {', '.join(LANGUAGES)} (got {language!r})")
    settings = load_settings()
    setup_logging(settings.log_level)
    try:
        asyncio.run(write_report(
            settings.database_url, out, month, now=datetime.now(UTC), floor=settings.web_min_group,
            fmt=report_format, workspace=workspace, language=chosen,
        ))
    except (ReportError, DatabaseURLError) as exc:
        fail(str(exc))
    typer.echo(f"sponsor report for {month} written to {out}")

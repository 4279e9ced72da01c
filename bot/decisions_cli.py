"""`steward decisions export`: the decisions log as files a wiki, a static site or another tool can publish."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Table, select

from bot.app.decision_files import export_decisions
from bot.core.cocreation import DecisionRecord
from bot.i18n import translate

decisions_app = typer.Typer(help="The decisions log.", no_args_is_help=True)


class ExportFormat(StrEnum):
    markdown = "markdown"
    json = "json"


@decisions_app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Write the files into this directory (created if missing).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="markdown: one file per decision plus index.md; "
                                              "json: one decisions.json.")] = ExportFormat.markdown,
    workspace: Annotated[str | None, typer.Option("--workspace", help="Only this workspace, e.g. slack:T123.")] = None,
    include_private: Annotated[bool, typer.Option("--include-private", help="Also decisions of private channels.")]
    = False,
) -> None:
    """Export the decisions, with the chain of superseded ones (Steward's database from DATABASE_URL)."""
    from bot.cli_support import fail, load_settings, setup_logging
    from storage.db import DatabaseURLError

    settings = load_settings()
    setup_logging(settings.log_level)
    try:
        decisions, names = asyncio.run(_load(settings.database_url, workspace))
    except DatabaseURLError as exc:
        fail(str(exc))
    shown = [d for d in decisions if include_private or not d.private]
    language = settings.steward_language
    written = export_decisions(shown, directory, fmt.value, names, language)
    files = translate("lessons.n_files", language, count=len(written))
    typer.echo(translate("decisions.exported", language, count=len(shown), directory=directory, files=files))


async def _load(url: str, workspace: str | None) -> tuple[list[DecisionRecord], dict[str, str]]:
    from storage.db import create_engine
    from storage.decisions import DecisionStore
    from storage.migrate import upgrade
    from storage.models import Member

    await upgrade(url)
    db = create_engine(url)
    try:
        decisions = await DecisionStore(db).all(workspace)
        members: Table = Member.__table__  # type: ignore[attr-defined]
        async with db.connect() as conn:
            names = {row.id: row.name for row in await conn.execute(select(members.c.id, members.c.name)) if row.name}
    finally:
        await db.dispose()
    return decisions, names

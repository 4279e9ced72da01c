"""`steward lessons export`: the knowledge store as files a wiki, a static site or another tool can publish."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Table, select

from bot.app.lesson_files import escape_link_text, markdown, record, slug
from bot.i18n import translate
from storage.lessons import Lesson, LessonStore

lessons_app = typer.Typer(help="The knowledge store of lessons.", no_args_is_help=True)


class ExportFormat(StrEnum):
    markdown = "markdown"
    json = "json"


@lessons_app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Write the files into this directory (created if missing).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="markdown: one file per lesson plus index.md; "
                                              "json: one lessons.json.")] = ExportFormat.markdown,
    workspace: Annotated[str | None, typer.Option("--workspace", help="Only this workspace, e.g. slack:T123.")] = None,
    include_private: Annotated[bool, typer.Option("--include-private", help="Also lessons of private channels.")]
    = False,
) -> None:
    """Export the lessons (Steward's database from DATABASE_URL)."""
    from bot.cli_support import fail, load_settings, setup_logging
    from storage.db import DatabaseURLError

    settings = load_settings()
    setup_logging(settings.log_level)
    try:
        lessons, names = asyncio.run(_load(settings.database_url, workspace))
    except DatabaseURLError as exc:
        fail(str(exc))
    public = [lesson for lesson in lessons if include_private or not lesson.private]
    language = settings.steward_language
    written = export_lessons(public, directory, fmt.value, names, language)
    files = translate("lessons.n_files", language, count=len(written))
    typer.echo(translate("lessons.exported", language, count=len(public), directory=directory, files=files))


async def _load(url: str, workspace: str | None) -> tuple[list[Lesson], dict[str, str]]:
    from storage.db import create_engine
    from storage.migrate import upgrade
    from storage.models import Member

    await upgrade(url)
    db = create_engine(url)
    try:
        lessons = await LessonStore(db).all(workspace)
        members: Table = Member.__table__  # type: ignore[attr-defined]
        async with db.connect() as conn:
            rows = await conn.execute(select(members.c.id, members.c.name))
            names = {row.id: row.name for row in rows if row.name}
    finally:
        await db.dispose()
    return lessons, names


def export_lessons(
    lessons: Sequence[Lesson], directory: Path, fmt: str, names: Mapping[str, str], language: str = "en"
) -> list[Path]:
    """Write the files; returns their paths. `language`: the headings of the Markdown files."""
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path = directory / "lessons.json"
        path.write_text(json.dumps([record(x, names) for x in lessons], indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return [path]
    written = []
    index = ["# Lessons", ""]
    for lesson in lessons:
        path = directory / f"{lesson.id:05d}-{slug(lesson.title)}.md"
        path.write_text(markdown(lesson, names, language), encoding="utf-8")
        written.append(path)
        tags = f" ({', '.join(lesson.tags)})" if lesson.tags else ""
        index.append(f"- [{escape_link_text(lesson.title)}]({path.name}){tags}")
    index_path = directory / "index.md"
    index_path.write_text("\n".join(index) + "\n", encoding="utf-8")
    return [*written, index_path]

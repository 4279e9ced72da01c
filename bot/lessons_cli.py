"""`steward lessons export`: the knowledge store as files a wiki, a static site or another tool can publish."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from sqlalchemy import Table, select

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
        path.write_text(json.dumps([_record(x, names) for x in lessons], indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return [path]
    written = []
    index = ["# Lessons", ""]
    for lesson in lessons:
        path = directory / f"{lesson.id:05d}-{slug(lesson.title)}.md"
        path.write_text(markdown(lesson, names, language), encoding="utf-8")
        written.append(path)
        tags = f" ({', '.join(lesson.tags)})" if lesson.tags else ""
        index.append(f"- [{_escape(lesson.title)}]({path.name}){tags}")
    index_path = directory / "index.md"
    index_path.write_text("\n".join(index) + "\n", encoding="utf-8")
    return [*written, index_path]


def markdown(lesson: Lesson, names: Mapping[str, str], language: str = "en") -> str:
    """One lesson with YAML front matter (title, tags, source, contributors, dates), and the card's sections:
    the problem, what worked, the steps in order and the tips."""
    meta = {k: v for k, v in _record(lesson, names).items() if k not in _CARD_KEYS}
    body = [f"# {lesson.title}", "", lesson.summary]
    body += _md_section(translate("lesson.heading_solution", language), [lesson.solution] if lesson.solution else [])
    body += _md_section(translate("lesson.heading_steps", language), [f"- {step}" for step in lesson.steps])
    body += _md_section(translate("lesson.heading_tips", language), [f"- {tip}" for tip in lesson.tips])
    if lesson.permalink:
        body += ["", f"{translate('lesson.field_source', language)}: {lesson.permalink}"]
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip()
    return f"---\n{front}\n---\n\n" + "\n".join(body).strip() + "\n"


_CARD_KEYS = frozenset({"summary", "solution", "steps", "tips"})


def _md_section(heading: str, lines: Sequence[str]) -> list[str]:
    return ["", f"## {heading}", "", *lines] if lines else []


def _record(lesson: Lesson, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": lesson.id,
        "title": lesson.title,
        "workspace": lesson.workspace_id,
        "channel": lesson.channel_id,
        "tags": list(lesson.tags),
        "source": lesson.permalink,
        "source_message": lesson.source_message_id,
        "contributors": [names.get(c, c) for c in lesson.contributors],
        "created": lesson.created_at.isoformat(),
        "updated": lesson.updated_at.isoformat(),
        "verified": lesson.verified_at.isoformat() if lesson.verified_at else None,
        "verified_by": names.get(lesson.verified_by, lesson.verified_by) if lesson.verified_by else None,
        "summary": lesson.summary,
        "solution": lesson.solution,
        "steps": list(lesson.steps),
        "tips": list(lesson.tips),
    }


def slug(title: str) -> str:
    """A file-name-safe form of a title ("Übergabe: SAP-Rollen" -> "ubergabe-sap-rollen")."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:60] or "lesson"


def _escape(text: str) -> str:
    return text.replace("[", r"\[").replace("]", r"\]")

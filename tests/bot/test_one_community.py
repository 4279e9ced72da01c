"""`make run`, the console, `lessons` and `audit` show one community: the one in DATABASE_URL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from adapters.console.adapter import ConsoleSession
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.runner import run_demo, sample_workspace
from bot.settings import Settings
from storage.db import create_engine
from storage.lessons import LessonStore
from storage.repository import T_MESSAGE, T_QUESTION
from tests.support import message


async def count(settings: Settings, table: object, workspace: str) -> int:
    db = create_engine(settings.database_url)
    try:
        async with db.connect() as conn:
            query = select(func.count()).select_from(table).where(table.c.workspace_id == workspace)  # type: ignore[attr-defined]
            return int((await conn.execute(query)).scalar_one())
    finally:
        await db.dispose()


def test_the_demo_fills_the_database_every_command_reads_and_keeps_the_rest(settings: Settings) -> None:
    import asyncio

    async def another_community() -> None:
        engine = await build_engine(settings, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
        await engine.handle(message("zoe", "Who has the keys to room 4?", datetime(2026, 3, 2, 9, tzinfo=UTC),
                                    message_id="z1", ws="slack:OTHER"))
        await engine.close()

    asyncio.run(another_community())
    printed: list[str] = []
    run_demo(settings, printed.append)
    ws = sample_workspace()
    questions = asyncio.run(count(settings, T_QUESTION, ws))
    assert questions > 20
    run_demo(settings, printed.append)  # again: the sample starts afresh, nothing doubles
    assert asyncio.run(count(settings, T_QUESTION, ws)) == questions
    assert asyncio.run(count(settings, T_MESSAGE, "slack:OTHER")) == 1, "another workspace's history stays"
    assert any("make console" in line for line in printed) and any("audit --out" in line for line in printed)

    async def lessons() -> list[str]:
        db = create_engine(settings.database_url)
        try:
            return [hit.lesson.title for hit in await LessonStore(db).search(ws, "onedrive")]
        finally:
            await db.dispose()

    assert any("OneDrive" in title for title in asyncio.run(lessons())), "`steward lessons` finds the demo's lesson"


def test_the_console_opens_the_sample_community_the_demo_left(settings: Settings) -> None:
    import asyncio

    run_demo(settings, lambda _line: None)

    async def talk() -> list[str]:
        clock = SimulatedClock(datetime(2026, 3, 16, 9, tzinfo=UTC))
        engine = await build_engine(settings, clock)
        said: list[str] = []
        session = ConsoleSession(engine, clock, said.append, workspace=sample_workspace())
        try:
            await session.handle_line("/steward lessons onedrive")
            await session.handle_line("Is the Teams pilot still on for Friday?")
        finally:
            await engine.close()
        return said

    said = asyncio.run(talk())
    assert any("OneDrive" in line for line in said), said
    assert any("[1] #general alice: Is the Teams pilot" in line for line in said), said

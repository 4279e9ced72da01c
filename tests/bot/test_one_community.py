"""`make run`, the console, `lessons` and `audit` show one community: the one in DATABASE_URL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from adapters.console.adapter import ConsoleSession
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.runner import run_demo, sample_workspace
from bot.settings import Settings
from storage.db import create_engine
from storage.lessons import LessonStore
from storage.repository import T_MEMBER, T_MESSAGE, T_NUDGE, T_QUESTION
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


def test_the_audit_of_imported_history_names_whom_a_live_steward_asked(tmp_path: Path) -> None:
    """Importing history replays it through the live rules: the audit then agrees with the demo about whom Steward
    asks about which question, and how often each member is asked, though nothing was sent."""
    import asyncio

    from bot.app.audit.figures import collect
    from bot.app.replay import replay
    from bot.runner import SAMPLE

    live = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'live.db'}")
    imported = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'imported.db'}")
    asyncio.run(replay(SAMPLE, live))
    asyncio.run(replay(SAMPLE, imported, backfill=True))

    def whom(settings: Settings) -> tuple[list[tuple[str, list[str]]], list[tuple[str, int]]]:
        audit = asyncio.run(collect(settings.database_url, workspace=sample_workspace()))
        return [(row.id, row.experts) for row in audit.would_flag], audit.would_nudge

    asked_live, asked_imported = whom(live), whom(imported)
    assert asked_live[0] and asked_live[1], "the sample has flagged questions and nudged experts"
    assert asked_imported == asked_live
    assert asyncio.run(count(imported, T_NUDGE, sample_workspace())) == 0, "nothing was sent for the past"
    assert dict(asked_live[1]) == asyncio.run(expert_nudges_sent(live)), "the audit counts the nudges really sent"


async def expert_nudges_sent(settings: Settings) -> dict[str, int]:
    """Expert nudges in the nudge table, per member's name."""
    db = create_engine(settings.database_url)
    try:
        async with db.connect() as conn:
            query = (
                select(T_MEMBER.c.name, func.count())
                .select_from(T_NUDGE.join(T_MEMBER, (T_MEMBER.c.workspace_id == T_NUDGE.c.workspace_id)
                                          & (T_MEMBER.c.id == T_NUDGE.c.member_id)))
                .where(T_NUDGE.c.workspace_id == sample_workspace(), T_NUDGE.c.kind == "expert")
                .group_by(T_MEMBER.c.name)
            )
            return {name: int(n) for name, n in await conn.execute(query)}
    finally:
        await db.dispose()

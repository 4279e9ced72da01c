"""The sample community replayed into a database, plus a private channel whose words must never show to outsiders."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

from bot.runner import SAMPLE, sample_workspace
from storage.db import create_engine
from storage.lessons import Lesson, LessonStore
from storage.repository import T_CHANNEL, T_MESSAGE, T_QUESTION
from tests.conftest import make_settings

WORKSPACE = sample_workspace()
FACILITATOR = "U01ANNA"  # writes in #facilitators
MEMBER = "U01ELIF"  # a member who is not a facilitator and not in the private channel
INSIDER = "U01TOM"  # a member who has written in the private channel
PRIVATE_CHANNEL = "steering"
SECRET = "ZEBRA-PRIVATE-7731"  # in every private text: found anywhere an outsider looks, it is a leak


async def _build(url: str) -> None:
    from bot.app.replay import replay

    await replay(SAMPLE, make_settings(url, steward_timezone="Europe/Berlin"))
    db = create_engine(url)
    at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    try:
        async with db.begin() as conn:
            await conn.execute(T_CHANNEL.insert().values(
                workspace_id=WORKSPACE, id=PRIVATE_CHANNEL, name=PRIVATE_CHANNEL, private=True, watched=True,
                kind="text", settings={},
            ))
            await conn.execute(T_MESSAGE.insert().values(
                workspace_id=WORKSPACE, id="p1", channel_id=PRIVATE_CHANNEL, user_id=INSIDER,
                text=f"Who approves the {SECRET} budget for the reorganisation?", posted_at=at, is_bot=False,
            ))
            await conn.execute(T_QUESTION.insert().values(
                workspace_id=WORKSPACE, id="p1", channel_id=PRIVATE_CHANNEL, asker_id=INSIDER, status="asked",
                asked_at=at, suggested_experts=[], nudged_experts=[],
            ))
        await LessonStore(db).add_many([Lesson(
            workspace_id=WORKSPACE, source_message_id="p1", channel_id=PRIVATE_CHANNEL,
            title=f"Budget approvals {SECRET}", summary=f"How the {SECRET} budget is approved",
            solution="The steering group signs it off.", tags=["budget", SECRET.lower()], contributors=[INSIDER],
            created_at=at, updated_at=at, private=True,
        )])
    finally:
        await db.dispose()


def build(directory: Path) -> Path:
    """Replay the sample and add the private channel into `directory`/portal-community.db."""
    path = directory / "portal-community.db"
    asyncio.run(_build(f"sqlite:///{path}"))
    return path


def copy_of(built: Path, directory: Path) -> str:
    """A copy of the built community for one test, so what a test changes stays in it."""
    copy = directory / "steward.db"
    shutil.copy(built, copy)
    return f"sqlite:///{copy}"

"""A learning path in the portal's community: a public lesson and the private channel's lesson, in that order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.settings import Settings
from storage.db import create_engine
from storage.lessons import LessonStore
from storage.paths import PathStore
from tests.web.community import FACILITATOR, PRIVATE_CHANNEL, WORKSPACE

PATH = "starters"
GOAL = "What every change agent should know in the first weeks"


def add_path(settings: Settings, *, follower: str | None = None) -> tuple[int, int]:
    """The path "starters" (a public lesson, then the private one); `follower` follows it with the first done.
    Returns the ids of the public and the private lesson."""

    async def make() -> tuple[int, int]:
        db = create_engine(settings.database_url)
        now = datetime.now(UTC)
        try:
            lessons = await LessonStore(db).all(WORKSPACE)
            public = next(x for x in lessons if x.channel_id != PRIVATE_CHANNEL and x.id is not None)
            hidden = next(x for x in lessons if x.channel_id == PRIVATE_CHANNEL and x.id is not None)
            assert public.id is not None and hidden.id is not None
            store = PathStore(db)
            path, _ = await store.create(WORKSPACE, PATH, GOAL, by=FACILITATOR, now=now)
            for lesson_id in (public.id, hidden.id):
                assert await store.add_lesson(WORKSPACE, path.id, lesson_id, None) == "added"
            if follower is not None:
                await store.start(WORKSPACE, path.id, follower, pace=2, now=now, due=now)
                assert await store.mark_done(WORKSPACE, path.id, follower, public.id, now)
            return public.id, hidden.id
        finally:
            await db.dispose()

    return asyncio.run(make())

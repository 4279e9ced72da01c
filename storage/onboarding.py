"""What a newcomer's welcome needs from the knowledge store: a few lessons to start with."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.lessons import LessonHit
from storage.lesson_model import T_LESSON

STARTERS = 3


class StarterLessons:
    """The channel's lessons a newcomer should see first: the most recently verified, then the most recent.

    A channel without enough lessons of its own is topped up with the workspace's public ones, in the same order.
    Private lessons never reach a welcome.
    """

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    async def starters(self, workspace: str, channel: str, *, limit: int = STARTERS) -> list[LessonHit]:
        lesson = T_LESSON
        public = and_(lesson.c.workspace_id == workspace, lesson.c.private.is_(False))
        order = (
            lesson.c.verified_at.is_(None),  # verified ones first
            func.coalesce(lesson.c.verified_at, lesson.c.created_at).desc(),
            lesson.c.id.desc(),
        )
        columns = (lesson.c.id, lesson.c.title, lesson.c.permalink)
        async with self.db.connect() as conn:
            own = list(await conn.execute(
                select(*columns).where(public, lesson.c.channel_id == channel).order_by(*order).limit(limit)
            ))
            more = [] if len(own) >= limit else list(await conn.execute(
                select(*columns).where(public, lesson.c.channel_id != channel).order_by(*order)
                .limit(limit - len(own))
            ))
        return [LessonHit(id=str(r.id), title=r.title, link=r.permalink or "") for r in [*own, *more]]

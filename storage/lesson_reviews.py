"""Stale lessons: those nobody verified for long, and which of their authors were offered a review already.

The "offered" fact is the offer's nudge row (kind "lesson_review", subject `lesson-review:ID:CHECKED`), written by
the engine with the direct message itself; a verification changes CHECKED, so the lesson may be offered again
once it is stale again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.paths import REVIEW_NUDGE, StaleLesson
from storage.lesson_model import T_LESSON
from storage.repository import T_NUDGE


class StaleLessons:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    async def stale(self, workspace: str, before: datetime, limit: int = 500) -> list[StaleLesson]:
        """Lessons last verified (else captured) before `before`, the longest unchecked first."""
        lesson = T_LESSON
        checked = func.coalesce(lesson.c.verified_at, lesson.c.created_at)
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(lesson.c.id, lesson.c.title, lesson.c.permalink, lesson.c.contributors,
                       lesson.c.verified_at, lesson.c.created_at)
                .where(lesson.c.workspace_id == workspace, checked < before)
                .order_by(checked, lesson.c.id)
                .limit(limit)
            )
            return [
                StaleLesson(lesson_id=int(r.id), title=r.title, link=r.permalink or "",
                            contributors=tuple(r.contributors or ()), checked_at=r.verified_at or r.created_at)
                for r in rows
            ]

    async def asked(self, workspace: str) -> set[tuple[str, str]]:
        """(author, subject) of every review offered in the workspace."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(T_NUDGE.c.member_id, T_NUDGE.c.question_id)
                .where(T_NUDGE.c.workspace_id == workspace, T_NUDGE.c.kind == REVIEW_NUDGE)
            )
            return {(r.member_id, r.question_id) for r in rows}

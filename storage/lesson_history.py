"""What happened to each lesson, and who did it: captured, edited, retagged, verified, merged.

Written in the same transaction as the change itself, so the history never disagrees with the lesson. Steward's
own changes have no member; a member who is forgotten is removed from the history too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Index, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

DETAIL_CHARS = 300


class LessonChange(SQLModel, table=True):
    __tablename__ = "lesson_change"
    __table_args__ = (Index("ix_lesson_change_lesson", "workspace_id", "lesson_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    lesson_id: int
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    by: str | None = None  # the member; None: Steward itself
    change: str  # captured | recaptured | edited | retagged | verified | merged
    detail: str = ""  # the new title, the new tags, the lesson merged in


T_LESSON_CHANGE = LessonChange.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Change:
    at: datetime
    by: str | None
    change: str
    detail: str


async def record(
    conn: AsyncConnection, workspace: str, lesson_id: int, change: str, *, at: datetime, by: str | None = None,
    detail: str = "",
) -> None:
    await conn.execute(T_LESSON_CHANGE.insert().values(
        workspace_id=workspace, lesson_id=lesson_id, at=at, by=by, change=change, detail=detail[:DETAIL_CHARS],
    ))


async def history(conn: AsyncConnection, workspace: str, lesson_id: int) -> list[Change]:
    rows = await conn.execute(
        select(T_LESSON_CHANGE)
        .where(T_LESSON_CHANGE.c.workspace_id == workspace, T_LESSON_CHANGE.c.lesson_id == lesson_id)
        .order_by(T_LESSON_CHANGE.c.at, T_LESSON_CHANGE.c.id)
    )
    return [Change(r.at, r.by, r.change, r.detail) for r in rows]


async def forget(conn: AsyncConnection, workspace: str, lesson_ids: Sequence[int]) -> None:
    """The lessons are gone: so is their history."""
    if lesson_ids:
        await conn.execute(delete(T_LESSON_CHANGE).where(
            T_LESSON_CHANGE.c.workspace_id == workspace, T_LESSON_CHANGE.c.lesson_id.in_(list(lesson_ids))
        ))


async def forget_member(conn: AsyncConnection, workspace: str, member: str) -> None:
    """A forgotten member's changes stay, no longer credited to anyone."""
    await conn.execute(
        update(T_LESSON_CHANGE)
        .where(T_LESSON_CHANGE.c.workspace_id == workspace, T_LESSON_CHANGE.c.by == member)
        .values(by=None)
    )

"""Credits and contributions: who was thanked, by whom and why, and what a member helped with.

A credit row is written by the shell when a rule decided one (a thanks in a thread, a 🙏, the asker's ✅ on an
answer, `/steward thanks`). Its key says who thanked for what, so the same thank-you stored twice (a redelivered
event, a retried errand, a second replica) is one row. A member's contributions are read from the stored
questions, responses, credits and lessons, never compared with anyone else's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import Column, Index, String, UniqueConstraint, and_, bindparam, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import Field, SQLModel

from bot.core.markup import excerpt
from bot.core.recognition import (
    REASON_CHARS,
    AnsweredQuestion,
    Contributions,
    Credit,
    LessonRef,
    ReceivedCredit,
)
from storage.db import dialect_insert
from storage.lesson_model import T_LESSON
from storage.repository import T_MESSAGE, T_QUESTION, T_RESPONSE
from storage.types import UTCDateTime

logger = logging.getLogger(__name__)

LISTED = 5  # the latest answers, credits and lessons a summary names
EXCERPT = 100
NOT_QUESTIONS = ("not_a_question", "withdrawn")


class CreditRow(SQLModel, table=True):
    """One thank-you that credits a member (see `bot.core.recognition.Credit`)."""

    __tablename__ = "credit"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        Index("ix_credit_member", "workspace_id", "member_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    key: str
    member_id: str
    by_id: str | None = None  # None once the member who thanked asked to be forgotten
    how: str  # thanks | reaction | accepted | command
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    channel_id: str | None = None
    question_id: str | None = None
    message_id: str | None = None
    reason: str = ""


T_CREDIT = CreditRow.__table__  # type: ignore[attr-defined]


class CreditStore:
    """Credits on Steward's async engine; `flush` writes the engine's pending batch before a summary is read,
    so it includes the answers just processed."""

    def __init__(self, db: AsyncEngine, *, flush: Callable[[], Awaitable[None]] | None = None) -> None:
        self.db = db
        self.flush = flush

    async def record(self, workspace: str, credits: tuple[Credit, ...]) -> int:
        """Store the credits not stored yet; how many were new."""
        rows = [
            {
                "workspace_id": workspace,
                "key": c.key,
                "member_id": c.member,
                "by_id": c.by,
                "how": c.how,
                "at": c.at,
                "channel_id": c.channel,
                "question_id": c.question,
                "message_id": c.message,
                "reason": c.reason[:REASON_CHARS],
            }
            for c in credits
        ]
        if not rows:
            return 0
        added = 0
        async with self.db.begin() as conn:
            for row in rows:  # one by one: the count of new rows says whether a thank-you is news
                stmt = dialect_insert(conn, T_CREDIT).values(**row).on_conflict_do_nothing(
                    index_elements=["workspace_id", "key"]
                )
                added += int((await conn.execute(stmt)).rowcount or 0)
        return added

    async def contributions(self, workspace: str, member: str) -> Contributions:
        if self.flush is not None:
            await self.flush()
        async with self.db.connect() as conn:
            return await contributions(conn, workspace, member)

    async def forget_member(self, workspace: str, member: str) -> None:
        """A forget-me request: credits the member received go; those they gave stay, credited to nobody, without
        the reason they wrote."""
        async with self.db.begin() as conn:
            await conn.execute(
                delete(T_CREDIT).where(T_CREDIT.c.workspace_id == workspace, T_CREDIT.c.member_id == member)
            )
            await conn.execute(
                update(T_CREDIT)
                .where(T_CREDIT.c.workspace_id == workspace, T_CREDIT.c.by_id == member)
                .values(by_id=None, reason="")
            )


async def purge_credit_reasons(db: AsyncEngine, before: datetime) -> int:
    """A `/steward thanks` reason is member text: it is kept only as long as MESSAGE_RETENTION_DAYS says (the
    credit itself stays, as a message's metadata does)."""
    async with db.begin() as conn:
        result = await conn.execute(
            update(T_CREDIT).where(T_CREDIT.c.at < before, T_CREDIT.c.reason != "").values(reason="")
        )
    return int(result.rowcount or 0)


async def contributions(conn: AsyncConnection, workspace: str, member: str) -> Contributions:
    """What `member` helped with: questions they answered first, credits received, lessons made from their answers."""
    q, m = T_QUESTION, T_MESSAGE
    answered_first = and_(
        q.c.workspace_id == workspace,
        q.c.first_responder_id == member,
        q.c.asker_id != member,
        q.c.status.not_in(NOT_QUESTIONS),
    )
    count = int((await conn.execute(select(func.count()).where(answered_first))).scalar_one())
    latest = await conn.execute(
        select(q.c.id, q.c.channel_id, q.c.first_response_at, q.c.asked_at, m.c.text)
        .select_from(q.outerjoin(m, and_(m.c.workspace_id == q.c.workspace_id, m.c.id == q.c.id)))
        .where(answered_first)
        .order_by(func.coalesce(q.c.first_response_at, q.c.asked_at).desc(), q.c.id.desc())
        .limit(LISTED)
    )
    answered = tuple(
        AnsweredQuestion(id=r.id, channel=r.channel_id, excerpt=excerpt(r.text or "", EXCERPT),
                         at=r.first_response_at or r.asked_at)
        for r in latest
    )
    mine = and_(T_CREDIT.c.workspace_id == workspace, T_CREDIT.c.member_id == member)
    credits = int((await conn.execute(select(func.count()).where(mine))).scalar_one())
    recent = await conn.execute(
        select(T_CREDIT).where(mine).order_by(T_CREDIT.c.at.desc(), T_CREDIT.c.id.desc()).limit(LISTED)
    )
    received = tuple(
        ReceivedCredit(by=r.by_id, how=r.how, reason=r.reason or "", at=r.at, channel=r.channel_id) for r in recent
    )
    lesson_count, lessons = await _lessons_from_answers(conn, workspace, member)
    return Contributions(
        answered_first=count, answered=answered, credits=credits, recent_credits=received, lessons=lesson_count,
        lesson_refs=lessons,
    )


async def _lessons_from_answers(
    conn: AsyncConnection, workspace: str, member: str
) -> tuple[int, tuple[LessonRef, ...]]:
    """Lessons made from threads the member answered in (a response of theirs, or a credit on the lesson), not
    from their own questions."""
    lesson, root, r = T_LESSON, T_MESSAGE.alias("root"), T_RESPONSE
    answered_in = select(r.c.question_id).where(r.c.workspace_id == workspace, r.c.responder_id == member)
    credited = cast(lesson.c.contributors, String).like(bindparam("pattern"), escape="\\")
    where = and_(
        lesson.c.workspace_id == workspace,
        or_(lesson.c.source_message_id.in_(answered_in), credited),
        func.coalesce(root.c.user_id, "") != member,
    )
    joined = lesson.outerjoin(root, and_(root.c.workspace_id == lesson.c.workspace_id,
                                         root.c.id == lesson.c.source_message_id))
    pattern = {"pattern": f'%"{_like_escaped(member)}"%'}
    count = int((await conn.execute(select(func.count()).select_from(joined).where(where), pattern)).scalar_one())
    rows = await conn.execute(
        select(lesson.c.id, lesson.c.title, lesson.c.permalink)
        .select_from(joined)
        .where(where)
        .order_by(lesson.c.created_at.desc(), lesson.c.id.desc())
        .limit(LISTED),
        pattern,
    )
    return count, tuple(LessonRef(id=int(x.id), title=x.title, link=x.permalink or "") for x in rows)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def credits_of(conn: AsyncConnection, workspace: str, member: str) -> list[dict[str, object]]:
    """Every credit a member received, oldest first (tests and the audit read them)."""
    rows = await conn.execute(
        select(T_CREDIT)
        .where(T_CREDIT.c.workspace_id == workspace, T_CREDIT.c.member_id == member)
        .order_by(T_CREDIT.c.at, T_CREDIT.c.id)
    )
    return [dict(r._mapping) for r in rows]


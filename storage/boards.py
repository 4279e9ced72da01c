"""What the portal lists: communities, channels, waiting questions, posted digests and a member's own activity.

Every query takes the channels a reader may see, so the caller decides access once and no query can leak a
channel's rows by forgetting to filter.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.markup import excerpt
from storage.lesson_model import T_LESSON, Lesson
from storage.lesson_model import _lesson as lesson_from_row
from storage.repository import T_CHANNEL, T_MEMBER, T_MESSAGE, T_OUTBOX, T_QUESTION, T_WORKSPACE

Q, M = T_QUESTION, T_MESSAGE
WAITING = ("asked", "flagged", "escalated")  # open and nobody has responded yet
EXCERPT = 200


@dataclass(frozen=True)
class Community:
    id: str
    platform: str
    name: str
    timezone: str
    language: str


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    private: bool
    kind: str


@dataclass(frozen=True)
class WaitingQuestion:
    id: str
    channel: str
    asker: str
    asked_at: datetime
    status: str
    excerpt: str
    flagged_at: datetime | None
    nudged: tuple[str, ...] = ()


@dataclass(frozen=True)
class PostedDigest:
    channel: str
    period_key: str
    created_at: datetime
    card: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OwnQuestion:
    id: str
    channel: str
    asked_at: datetime
    status: str
    excerpt: str


async def community(conn: AsyncConnection, workspace: str) -> Community | None:
    row = (await conn.execute(select(T_WORKSPACE).where(T_WORKSPACE.c.id == workspace))).first()
    if row is None:
        return None
    return Community(row.id, row.platform, row.name or row.id, row.timezone or "UTC", row.language or "en")


async def channels(conn: AsyncConnection, workspace: str) -> list[ChannelInfo]:
    rows = await conn.execute(
        select(T_CHANNEL.c.id, T_CHANNEL.c.name, T_CHANNEL.c.private, T_CHANNEL.c.kind)
        .where(T_CHANNEL.c.workspace_id == workspace)
        .order_by(T_CHANNEL.c.name, T_CHANNEL.c.id)
    )
    return [ChannelInfo(r.id, r.name or r.id, bool(r.private), r.kind or "text") for r in rows]


async def channels_written_in(conn: AsyncConnection, workspace: str, member: str) -> set[str]:
    """The channels where the member has written: the membership Steward can vouch for.

    Read through the member's own messages in time order, which the index on (workspace, member, time) serves
    without statistics; asked for distinct channels directly, SQLite walks the workspace's every message."""
    own = (
        select(M.c.channel_id)
        .where(M.c.workspace_id == workspace, M.c.user_id == member)
        .order_by(M.c.posted_at)
        .subquery()
    )
    rows = await conn.execute(select(own.c.channel_id).distinct())
    return set(rows.scalars())


async def member_row(conn: AsyncConnection, workspace: str, member: str) -> Any | None:
    return (
        await conn.execute(select(T_MEMBER).where(T_MEMBER.c.workspace_id == workspace, T_MEMBER.c.id == member))
    ).first()


async def member_names(conn: AsyncConnection, workspace: str) -> dict[str, str]:
    rows = await conn.execute(
        select(T_MEMBER.c.id, T_MEMBER.c.name).where(T_MEMBER.c.workspace_id == workspace)
    )
    return {r.id: r.name for r in rows if r.name}


async def waiting_questions(
    conn: AsyncConnection, workspace: str, visible: Collection[str], *, limit: int = 200
) -> list[WaitingQuestion]:
    """Open questions nobody has responded to, oldest first."""
    if not visible:
        return []
    stmt = (
        select(Q, M.c.text)
        .select_from(Q.outerjoin(M, and_(M.c.workspace_id == Q.c.workspace_id, M.c.id == Q.c.id)))
        .where(
            Q.c.workspace_id == workspace,
            Q.c.channel_id.in_(list(visible)),
            Q.c.status.in_(WAITING),
            Q.c.first_response_id.is_(None),
        )
        .order_by(Q.c.asked_at, Q.c.id)
        .limit(limit)
    )
    return [
        WaitingQuestion(
            id=r.id, channel=r.channel_id, asker=r.asker_id, asked_at=r.asked_at, status=r.status,
            excerpt=excerpt(r.text or "", EXCERPT), flagged_at=r.flagged_at, nudged=tuple(r.nudged_experts or ()),
        )
        for r in await conn.execute(stmt)
    ]


async def posted_digests(
    conn: AsyncConnection, workspace: str, visible: Collection[str]
) -> list[PostedDigest]:
    """Every weekly digest as Steward decided to post it (the outbox keeps the card), newest first."""
    rows = await conn.execute(
        select(T_OUTBOX.c.key, T_OUTBOX.c.action, T_OUTBOX.c.created_at)
        .where(T_OUTBOX.c.workspace_id == workspace, T_OUTBOX.c.key.like("digest:%"), T_OUTBOX.c.status != "failed")
        .order_by(T_OUTBOX.c.created_at.desc(), T_OUTBOX.c.id.desc())
    )
    found = []
    for row in rows:
        _, channel, period_key = str(row.key).split(":", 2)
        card = (row.action or {}).get("card") or {}
        if channel in visible and card:
            found.append(PostedDigest(channel, period_key, row.created_at, card))
    return found


async def own_questions(conn: AsyncConnection, workspace: str, member: str, *, limit: int = 50) -> list[OwnQuestion]:
    return await _questions(conn, and_(Q.c.workspace_id == workspace, Q.c.asker_id == member), limit)


async def own_answers(conn: AsyncConnection, workspace: str, member: str, *, limit: int = 50) -> list[OwnQuestion]:
    """Questions where the member gave the first response."""
    where = and_(Q.c.workspace_id == workspace, Q.c.first_responder_id == member, Q.c.asker_id != member)
    return await _questions(conn, where, limit)


async def _questions(conn: AsyncConnection, where: Any, limit: int) -> list[OwnQuestion]:
    stmt = (
        select(Q.c.id, Q.c.channel_id, Q.c.asked_at, Q.c.status, M.c.text)
        .select_from(Q.outerjoin(M, and_(M.c.workspace_id == Q.c.workspace_id, M.c.id == Q.c.id)))
        .where(where, Q.c.status.not_in(("not_a_question", "withdrawn")))
        .order_by(Q.c.asked_at.desc())
        .limit(limit)
    )
    return [
        OwnQuestion(r.id, r.channel_id, r.asked_at, r.status, excerpt(r.text or "", EXCERPT))
        for r in await conn.execute(stmt)
    ]


async def lesson_tags(conn: AsyncConnection, workspace: str, visible: Collection[str]) -> list[tuple[str, int]]:
    """Tags of the lessons a reader may see, most used first."""
    counts: dict[str, int] = {}
    rows = await conn.execute(
        select(T_LESSON.c.tags).where(T_LESSON.c.workspace_id == workspace, T_LESSON.c.channel_id.in_(list(visible)))
    )
    for tags in rows.scalars():
        for tag in tags or ():
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))


async def latest_message_at(conn: AsyncConnection, workspace: str, visible: Collection[str]) -> datetime | None:
    """When the latest message in these channels was written (an imported community may have stopped long ago)."""
    if not visible:
        return None
    found: datetime | None = (
        await conn.execute(
            select(func.max(M.c.posted_at)).where(M.c.workspace_id == workspace, M.c.channel_id.in_(list(visible)))
        )
    ).scalar()
    return found


async def recent_lessons(
    conn: AsyncConnection, workspace: str, visible: Collection[str], *, limit: int = 50, order: str = "updated_at"
) -> list[Lesson]:
    """The newest lessons in these channels (by last change, or `order="created_at"` by capture)."""
    if not visible:
        return []
    column = T_LESSON.c.created_at if order == "created_at" else T_LESSON.c.updated_at
    rows = await conn.execute(
        select(T_LESSON)
        .where(T_LESSON.c.workspace_id == workspace, T_LESSON.c.channel_id.in_(list(visible)))
        .order_by(column.desc(), T_LESSON.c.id.desc())
        .limit(limit)
    )
    return [lesson_from_row(row) for row in rows]


async def lessons_with_contributor(
    conn: AsyncConnection, workspace: str, visible: Collection[str], member: str, *, limit: int = 100
) -> list[Lesson]:
    """Lessons the member helped to work out, newest first."""
    if not visible:
        return []
    listed = cast(T_LESSON.c.contributors, String).like(f'%"{member}"%')  # JSON text; ids hold no quotes
    rows = await conn.execute(
        select(T_LESSON)
        .where(T_LESSON.c.workspace_id == workspace, T_LESSON.c.channel_id.in_(list(visible)), listed)
        .order_by(T_LESSON.c.created_at.desc())
        .limit(limit)
    )
    return [lesson for lesson in map(lesson_from_row, rows) if member in lesson.contributors]

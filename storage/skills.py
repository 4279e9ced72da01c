"""The skills and resources map: who can help with what, for members who said they may be listed.

Evidence comes from two places: the expert registry (topics a member signed up for with `/steward expert add`)
and the answers members actually gave (the stored responses the expertise index learns from), to questions in
public channels only: a private channel's question never shows who answered it or what it said. Nobody is
listed without their consent (`/steward expert visible on`); forgetting a member removes the consent and so the
listing. The chat's `/steward skills TOPIC` and the portal's skills page both read `holders`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel

from bot.core.markup import excerpt
from storage.db import dialect_insert
from storage.metrics import NOT_QUESTIONS
from storage.repository import T_CHANNEL, T_EXPERT_TOPIC, T_MEMBER, T_MESSAGE, T_QUESTION, T_RESPONSE
from storage.types import UTCDateTime

logger = logging.getLogger(__name__)

EXAMPLES = 3  # questions quoted per member: what they answered
EXCERPT = 100
TOPIC_CHARS = 100


class SkillsConsent(SQLModel, table=True):
    """A member's say on being listed in the skills map (no row: not listed)."""

    __tablename__ = "skills_consent"

    workspace_id: str = Field(primary_key=True)
    member_id: str = Field(primary_key=True)
    visible: bool = False
    changed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


T_CONSENT = SkillsConsent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SkillHolder:
    """A consenting member who can help with a topic: the topics they registered that match, how many public
    questions on it they answered, and the start of a few of those questions."""

    member: str
    name: str
    registered: tuple[str, ...] = ()
    answers: int = 0
    answered: tuple[str, ...] = ()


def normalise(topic: str) -> str:
    return " ".join(topic.lower().split())[:TOPIC_CHARS]


async def set_visible(db: AsyncEngine, workspace: str, member: str, visible: bool, *, at: datetime) -> None:
    async with db.begin() as conn:
        stmt = dialect_insert(conn, T_CONSENT).values(
            workspace_id=workspace, member_id=member, visible=visible, changed_at=at
        )
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["workspace_id", "member_id"], set_={"visible": visible, "changed_at": at}
            )
        )


async def is_visible(db: AsyncEngine, workspace: str, member: str) -> bool:
    async with db.connect() as conn:
        found = await conn.execute(
            select(T_CONSENT.c.visible).where(T_CONSENT.c.workspace_id == workspace, T_CONSENT.c.member_id == member)
        )
        return bool(found.scalar())


async def forget_member(db: AsyncEngine, workspace: str, member: str) -> None:
    """A forget-me request: the consent goes, and with it the listing."""
    async with db.begin() as conn:
        await conn.execute(
            delete(T_CONSENT).where(T_CONSENT.c.workspace_id == workspace, T_CONSENT.c.member_id == member)
        )


async def holders(db: AsyncEngine, workspace: str, topic: str, *, limit: int = 5) -> list[SkillHolder]:
    """Consenting members who can help with `topic`, most answers first (registered topics break ties)."""
    wanted = normalise(topic)
    if not wanted:
        return []
    consenting = select(T_CONSENT.c.member_id).where(
        T_CONSENT.c.workspace_id == workspace, T_CONSENT.c.visible.is_(True)
    )
    registered: dict[str, list[str]] = {}
    answered: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    async with db.connect() as conn:
        e = T_EXPERT_TOPIC
        rows = await conn.execute(  # a member registers a handful of topics: matched here as `/steward experts` does
            select(e.c.member_id, e.c.topic)
            .where(e.c.workspace_id == workspace, e.c.member_id.in_(consenting))
            .order_by(e.c.member_id, e.c.topic)
        )
        for member, name in rows:
            own = normalise(name)
            if own and (wanted in own or own in wanted):
                registered.setdefault(member, []).append(name)
        r, q, m, ch = T_RESPONSE, T_QUESTION, T_MESSAGE, T_CHANNEL
        public = select(ch.c.id).where(ch.c.workspace_id == workspace, ch.c.private.is_(False))
        answers = await conn.execute(
            select(r.c.responder_id, q.c.id, m.c.text)
            .select_from(
                r.join(q, and_(q.c.workspace_id == r.c.workspace_id, q.c.id == r.c.question_id))
                .join(m, and_(m.c.workspace_id == q.c.workspace_id, m.c.id == q.c.id))
            )
            .where(
                r.c.workspace_id == workspace,
                r.c.accepted.is_(False),
                r.c.responder_id != q.c.asker_id,
                r.c.responder_id.in_(consenting),
                q.c.status.not_in(NOT_QUESTIONS),
                q.c.channel_id.in_(public),
                m.c.text.is_not(None),
                func.lower(m.c.text).contains(wanted, autoescape=True),
            )
            .distinct()
            .order_by(r.c.responder_id, q.c.id.desc())
        )
        for member, _question, text in answers:
            counts[member] = counts.get(member, 0) + 1
            if len(answered.setdefault(member, [])) < EXAMPLES:
                answered[member].append(excerpt(text or "", EXCERPT))
        people = sorted(set(registered) | set(counts))
        known = {
            row.id: (row.name or row.id, bool(row.is_bot))
            for row in await conn.execute(
                select(T_MEMBER.c.id, T_MEMBER.c.name, T_MEMBER.c.is_bot).where(
                    T_MEMBER.c.workspace_id == workspace, T_MEMBER.c.id.in_(people)
                )
            )
        }
    found = [
        SkillHolder(
            member=p, name=known.get(p, (p, False))[0], registered=tuple(registered.get(p, ())),
            answers=counts.get(p, 0), answered=tuple(answered.get(p, ())),
        )
        for p in people
        if not known.get(p, (p, False))[1]  # a bot is never listed
    ]
    found.sort(key=lambda h: (-h.answers, -len(h.registered), h.name.lower()))
    return found[:limit]

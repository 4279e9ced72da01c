"""The sponsor report's own facts: which month's report went out, the facilitators' notes, the escalations.

A month's report is claimed by inserting a row (unique per workspace and month) before it is decided, so a
restart, a late start or a second replica never posts it twice. Notes are what facilitators wrote with
`/steward report note TEXT`, kept per month. Escalations are counted from the stored question lifecycle; a
private channel is counted, never named or quoted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint, and_, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel

from bot.core.digest_figures import Period
from storage.metrics import NOT_QUESTIONS
from storage.repository import T_CHANNEL, T_OUTBOX, T_QUESTION
from storage.types import UTCDateTime

logger = logging.getLogger(__name__)

NOTE_CHARS = 2000  # a note longer than this is cut (a report note is a paragraph, not a document)


class SponsorReportRun(SQLModel, table=True):
    """A month's report for one community: claimed -> posted (the key of its outbox row says which)."""

    __tablename__ = "sponsor_report_run"
    __table_args__ = (UniqueConstraint("workspace_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    month: str  # "2026-03"
    status: str = "claimed"  # claimed | posted
    owner: str
    claimed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ReportNote(SQLModel, table=True):
    """A facilitator's note for a month's sponsor report."""

    __tablename__ = "report_note"
    __table_args__ = (Index("ix_report_note_month", "workspace_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    month: str
    author_id: str
    text: str
    written_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


T_RUN = SponsorReportRun.__table__  # type: ignore[attr-defined]
T_NOTE = ReportNote.__table__  # type: ignore[attr-defined]


def report_key(month: str) -> str:
    """The idempotency key of a month's posted report."""
    return f"sponsor-report:{month}"


@dataclass(frozen=True, slots=True)
class Escalations:
    """Questions escalated to the facilitators in a period: all of them, per public channel (by name), and how
    many came from private channels (counted together, never named)."""

    total: int = 0
    per_channel: tuple[tuple[str, int], ...] = ()
    private: int = 0


async def claim_month(db: AsyncEngine, workspace: str, month: str, *, owner: str, at: datetime) -> bool:
    """True if this caller now owns the month's report (nobody else posts it); False if it was claimed before."""
    try:
        async with db.begin() as conn:
            await conn.execute(
                insert(T_RUN).values(workspace_id=workspace, month=month, status="claimed", owner=owner, claimed_at=at)
            )
        return True
    except IntegrityError:
        return False


async def mark_posted(db: AsyncEngine) -> int:
    """Runs whose report reached the platform (their outbox row was sent) become `posted`; returns how many."""
    sent = (
        select(T_OUTBOX.c.id)
        .where(
            T_OUTBOX.c.workspace_id == T_RUN.c.workspace_id,
            T_OUTBOX.c.key == literal("sponsor-report:") + T_RUN.c.month,
            T_OUTBOX.c.status == "sent",
        )
        .exists()
    )
    async with db.begin() as conn:
        result = await conn.execute(update(T_RUN).where(T_RUN.c.status == "claimed", sent).values(status="posted"))
    return int(result.rowcount or 0)


async def add_note(db: AsyncEngine, workspace: str, month: str, author: str, text: str, *, at: datetime) -> None:
    async with db.begin() as conn:
        await conn.execute(
            insert(T_NOTE).values(
                workspace_id=workspace, month=month, author_id=author, text=text.strip()[:NOTE_CHARS], written_at=at
            )
        )


async def notes_of(db: AsyncEngine, workspace: str, month: str) -> list[str]:
    """The facilitators' notes for a month, in the order they were written."""
    async with db.connect() as conn:
        rows = await conn.execute(
            select(T_NOTE.c.text)
            .where(T_NOTE.c.workspace_id == workspace, T_NOTE.c.month == month)
            .order_by(T_NOTE.c.written_at, T_NOTE.c.id)
        )
        return list(rows.scalars())


async def escalations(db: AsyncEngine, workspace: str, period: Period) -> Escalations:
    """Questions escalated to the facilitators during the period, per channel."""
    q, ch = T_QUESTION, T_CHANNEL
    stmt = (
        select(q.c.channel_id, ch.c.name, ch.c.private, func.count().label("n"))
        .select_from(q.outerjoin(ch, and_(ch.c.workspace_id == q.c.workspace_id, ch.c.id == q.c.channel_id)))
        .where(
            q.c.workspace_id == workspace,
            q.c.status.not_in(NOT_QUESTIONS),
            q.c.escalated_at >= period.start,
            q.c.escalated_at < period.end,
        )
        .group_by(q.c.channel_id, ch.c.name, ch.c.private)
    )
    public: list[tuple[str, int]] = []
    private = 0
    async with db.connect() as conn:
        for row in await conn.execute(stmt):
            if row.private is None or row.private:  # unknown channels are treated as private: never named
                private += int(row.n)
            else:
                public.append((row.name or row.channel_id, int(row.n)))
    public.sort(key=lambda item: (-item[1], item[0]))
    return Escalations(total=sum(n for _, n in public) + private, per_channel=tuple(public), private=private)


async def forget_author(db: AsyncEngine, workspace: str, member: str) -> None:
    """A forget-me request: notes stay (they are the facilitators' record), no longer tied to the member."""
    async with db.begin() as conn:
        await conn.execute(
            update(T_NOTE).where(T_NOTE.c.workspace_id == workspace, T_NOTE.c.author_id == member).values(author_id="")
        )

"""Reading a thread back from the message table, for distillation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import (
    Table,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.lessons import ThreadMessage
from storage.models import Message, Reaction


class MessageThreadReader:
    """Reads a thread from the message table, for distillation (texts purged by retention come back as None).

    `before` runs first: the engine writes messages in batches, and a thread must include what was just said.
    """

    def __init__(self, db: AsyncEngine, *, before: Callable[[], Awaitable[None]] | None = None) -> None:
        self.db = db
        self.before = before

    async def thread(self, workspace_id: str, root_id: str) -> list[ThreadMessage]:
        if self.before is not None:
            await self.before()
        m: Table = Message.__table__  # type: ignore[attr-defined]
        r: Table = Reaction.__table__  # type: ignore[attr-defined]
        reactions = (
            select(r.c.message_id, func.count(r.c.user_id.distinct()).label("n"))
            .where(r.c.workspace_id == workspace_id)
            .group_by(r.c.message_id)
            .subquery()
        )
        stmt = (
            select(m.c.id, m.c.user_id, m.c.text, m.c.posted_at, m.c.is_bot, m.c.deleted_at, reactions.c.n)
            .outerjoin(reactions, reactions.c.message_id == m.c.id)
            .where(m.c.workspace_id == workspace_id, or_(m.c.id == root_id, m.c.thread_id == root_id))
            .order_by(m.c.posted_at, m.c.id)
        )
        async with self.db.connect() as conn:
            rows = list((await conn.execute(stmt)).all())
        rows.sort(key=lambda row: row.id != root_id)  # the root first even if a clock skew says otherwise
        return [
            ThreadMessage(id=row.id, author=row.user_id, text=None if row.deleted_at else row.text,
                          position=i, reactions=int(row.n or 0), at=row.posted_at, bot=row.is_bot)
            for i, row in enumerate(rows)
        ]

    async def reactors(self, workspace_id: str, message_id: str, emoji: str) -> set[str]:
        """Who reacted to a message with an emoji (removed reactions are gone from the table)."""
        if self.before is not None:
            await self.before()
        r: Table = Reaction.__table__  # type: ignore[attr-defined]
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(r.c.user_id).where(r.c.workspace_id == workspace_id, r.c.message_id == message_id,
                                          r.c.emoji == emoji)
            )
            return {row.user_id for row in rows}

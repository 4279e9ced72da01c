"""Members' commitments: what they promised, by when, and whether Steward asked them about it.

The "asked" fact is the follow-up's nudge row (kind "commitment", subject `commitment:ID:ROUND`), which the
engine writes in the same transaction as the direct message itself; so after a restart a follow-up that was sent
is never sent again, and one that was decided but never stored is decided again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.cocreation import COMMITMENT_NUDGE, DONE, HELP, OPEN, CommitmentRecord, commitment_subject
from storage.cocreation_model import T_COMMITMENT
from storage.repository import T_NUDGE

logger = logging.getLogger(__name__)

C = T_COMMITMENT


class CommitmentStore:
    """Commitments of all workspaces, on Steward's async engine."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    async def record(
        self,
        workspace: str,
        *,
        origin: str,
        owner: str,
        channel: str,
        thread: str | None,
        message: str | None,
        text: str,
        language: str,
        now: datetime,
        due: datetime,
        ask_at: datetime,
    ) -> tuple[CommitmentRecord, bool]:
        """Store a commitment; the second value is False when the same message or command stored it before."""
        try:
            async with self.db.begin() as conn:
                found = await self._by_origin(conn, workspace, origin)
                if found is not None:
                    return found, False
                result = await conn.execute(C.insert().values(
                    workspace_id=workspace, owner_id=owner, channel_id=channel, thread_id=thread, message_id=message,
                    origin=origin, text=text, language=language, recorded_at=now, due_at=due, ask_at=ask_at,
                    round=0, postponed=False, status=OPEN, updated_at=now,
                ))
                stored = await self._get(conn, workspace, int(result.inserted_primary_key[0]))  # type: ignore[index]
                assert stored is not None
                return stored, True
        except IntegrityError:
            found = await self.by_origin(workspace, origin)
            if found is None:
                raise
            return found, False

    async def get(self, workspace: str, commitment_id: int) -> CommitmentRecord | None:
        async with self.db.connect() as conn:
            return await self._get(conn, workspace, commitment_id)

    async def by_origin(self, workspace: str, origin: str) -> CommitmentRecord | None:
        async with self.db.connect() as conn:
            return await self._by_origin(conn, workspace, origin)

    async def by_message(self, workspace: str, message: str) -> CommitmentRecord | None:
        """The commitment a message made (or, for a thread's root, the latest made in that thread)."""
        async with self.db.connect() as conn:
            row = (await conn.execute(
                select(C).where(C.c.workspace_id == workspace, (C.c.message_id == message) | (C.c.thread_id == message))
                .order_by((C.c.message_id == message).desc(), C.c.id.desc()).limit(1)
            )).first()
            return _record(row._mapping) if row is not None else None

    async def open_of(self, workspace: str, owner: str) -> list[CommitmentRecord]:
        """A member's open commitments, soonest due first."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(C).where(C.c.workspace_id == workspace, C.c.owner_id == owner, C.c.status == OPEN)
                .order_by(C.c.due_at, C.c.id)
            )
            return [_record(r._mapping) for r in rows]

    async def pending(self, workspace: str, *, due_after: datetime) -> list[CommitmentRecord]:
        """Open commitments due after `due_after` whose owner was not asked about them for their due date yet."""
        async with self.db.connect() as conn:
            rows = (await conn.execute(
                select(C).where(C.c.workspace_id == workspace, C.c.status == OPEN, C.c.due_at > due_after)
                .order_by(C.c.ask_at, C.c.id)
            )).all()
            found = [_record(r._mapping) for r in rows]
            return [c for c in found if not await self._asked(conn, c)]

    async def asked(self, commitment: CommitmentRecord) -> bool:
        """Whether the owner was asked about this commitment for its current due date (the nudge row exists)."""
        async with self.db.connect() as conn:
            return await self._asked(conn, commitment)

    async def mark_done(self, workspace: str, commitment_id: int, now: datetime) -> CommitmentRecord | None:
        async with self.db.begin() as conn:
            await conn.execute(
                update(C).where(C.c.workspace_id == workspace, C.c.id == commitment_id, C.c.status == OPEN)
                .values(status=DONE, done_at=now, updated_at=now)
            )
            return await self._get(conn, workspace, commitment_id)

    async def postpone(
        self, workspace: str, commitment_id: int, *, due: datetime, ask_at: datetime, now: datetime
    ) -> CommitmentRecord | None:
        """Move an open commitment's due date, once; returns it afterwards (unchanged if it was moved before)."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(C).where(C.c.workspace_id == workspace, C.c.id == commitment_id, C.c.status == OPEN,
                                C.c.postponed.is_(False))
                .values(due_at=due, ask_at=ask_at, round=C.c.round + 1, postponed=True, updated_at=now)
            )
            return await self._get(conn, workspace, commitment_id)

    async def mark_help(
        self, workspace: str, commitment_id: int, question: str | None, now: datetime
    ) -> CommitmentRecord | None:
        async with self.db.begin() as conn:
            await conn.execute(
                update(C).where(C.c.workspace_id == workspace, C.c.id == commitment_id, C.c.status == OPEN)
                .values(status=HELP, help_question=question, updated_at=now)
            )
            return await self._get(conn, workspace, commitment_id)

    async def forget_member(self, workspace: str, member: str) -> int:
        """A member's forget-me request: every commitment they made goes."""
        async with self.db.begin() as conn:
            result = await conn.execute(delete(C).where(C.c.workspace_id == workspace, C.c.owner_id == member))
            return int(result.rowcount or 0)

    async def all(self, workspace: str) -> list[dict[str, Any]]:
        """Every commitment of a workspace with whether its owner was asked, in the order made (the report)."""
        async with self.db.connect() as conn:
            rows = (await conn.execute(
                select(C).where(C.c.workspace_id == workspace).order_by(C.c.recorded_at, C.c.id)
            )).all()
            found = []
            for row in rows:
                record = _record(row._mapping)
                found.append({**dict(row._mapping), "asked": await self._asked(conn, record)})
            return found

    async def _asked(self, conn: AsyncConnection, commitment: CommitmentRecord) -> bool:
        found = await conn.execute(
            select(T_NUDGE.c.id).where(and_(
                T_NUDGE.c.workspace_id == commitment.workspace_id,
                T_NUDGE.c.member_id == commitment.owner_id,
                T_NUDGE.c.kind == COMMITMENT_NUDGE,
                T_NUDGE.c.question_id == commitment_subject(commitment.id, commitment.round),
            ))
        )
        return found.first() is not None

    async def _by_origin(self, conn: AsyncConnection, workspace: str, origin: str) -> CommitmentRecord | None:
        row = (await conn.execute(select(C).where(C.c.workspace_id == workspace, C.c.origin == origin))).first()
        return _record(row._mapping) if row is not None else None

    async def _get(self, conn: AsyncConnection, workspace: str, commitment_id: int) -> CommitmentRecord | None:
        row = (await conn.execute(
            select(C).where(C.c.workspace_id == workspace, C.c.id == commitment_id)
        )).first()
        return _record(row._mapping) if row is not None else None


def _record(row: Any) -> CommitmentRecord:
    return CommitmentRecord(
        id=int(row["id"]),
        workspace_id=row["workspace_id"],
        owner_id=row["owner_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        message_id=row["message_id"],
        text=row["text"],
        language=row["language"] or "en",
        recorded_at=row["recorded_at"],
        due_at=row["due_at"],
        ask_at=row["ask_at"],
        round=int(row["round"]),
        postponed=bool(row["postponed"]),
        status=row["status"],
        done_at=row["done_at"],
    )

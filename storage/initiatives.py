"""Initiatives: named plans that group decisions, ideas and commitments, and how far each one is.

Progress is counted from the grouped items' own rows when asked (a decision agreed, an idea done, a commitment
overdue), so it is never out of date and nothing has to be kept in step.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.cocreation import AGREED, DONE
from bot.core.ideas import ACTIVE, CLOSED, IDEA_STATUSES, InitiativeProgress, InitiativeRecord
from storage.cocreation_model import T_COMMITMENT, T_DECISION
from storage.ideas_model import T_IDEA, T_INITIATIVE, T_INITIATIVE_ITEM

logger = logging.getLogger(__name__)

N, ITEM = T_INITIATIVE, T_INITIATIVE_ITEM
ITEM_TABLES = {"decision": T_DECISION, "idea": T_IDEA, "commitment": T_COMMITMENT}


def name_key(name: str) -> str:
    """How an initiative's name is looked up: case and surrounding space do not matter."""
    return " ".join(name.split()).casefold()


class InitiativeStore:
    """Initiatives of all workspaces, on Steward's async engine."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    async def create(
        self, workspace: str, name: str, *, goal: str, channel: str, by: str, now: datetime
    ) -> tuple[InitiativeRecord, bool]:
        """A new initiative; the second value is False when one of that name exists (it is returned)."""
        try:
            async with self.db.begin() as conn:
                found = await self._named(conn, workspace, name)
                if found is not None:
                    return found, False
                await conn.execute(N.insert().values(
                    workspace_id=workspace, name=name, name_key=name_key(name), goal=goal, channel_id=channel,
                    created_by=by, created_at=now, status=ACTIVE,
                ))
                created = await self._named(conn, workspace, name)
                assert created is not None
                return created, True
        except IntegrityError:  # the same name, created concurrently
            again = await self.named(workspace, name)
            if again is None:
                raise
            return again, False

    async def item_exists(self, workspace: str, kind: str, item_id: int) -> bool:
        table = ITEM_TABLES[kind]
        async with self.db.connect() as conn:
            row = (await conn.execute(
                select(table.c.id).where(table.c.workspace_id == workspace, table.c.id == item_id)
            )).first()
            return row is not None

    async def add(
        self, workspace: str, initiative: InitiativeRecord, kind: str, item_id: int, *, by: str, now: datetime
    ) -> bool:
        """Group an item under the initiative; False when it was grouped there already."""
        try:
            async with self.db.begin() as conn:
                found = (await conn.execute(select(ITEM.c.id).where(
                    ITEM.c.workspace_id == workspace, ITEM.c.initiative_id == initiative.id, ITEM.c.kind == kind,
                    ITEM.c.item_id == item_id,
                ))).first()
                if found is not None:
                    return False
                await conn.execute(ITEM.insert().values(
                    workspace_id=workspace, initiative_id=initiative.id, kind=kind, item_id=item_id, added_by=by,
                    added_at=now,
                ))
                return True
        except IntegrityError:
            return False

    async def close(self, workspace: str, initiative: InitiativeRecord) -> InitiativeRecord | None:
        async with self.db.begin() as conn:
            await conn.execute(update(N).where(N.c.workspace_id == workspace, N.c.id == initiative.id)
                               .values(status=CLOSED))
            return await self._named(conn, workspace, initiative.name)

    async def named(self, workspace: str, name: str) -> InitiativeRecord | None:
        async with self.db.connect() as conn:
            return await self._named(conn, workspace, name)

    async def all(self, workspace: str) -> list[InitiativeRecord]:
        """Every initiative, the active ones first, each group in the order started."""
        async with self.db.connect() as conn:
            rows = await conn.execute(select(N).where(N.c.workspace_id == workspace).order_by(N.c.created_at, N.c.id))
            found = [_record(r._mapping) for r in rows]
        return sorted(found, key=lambda i: i.status != ACTIVE)

    async def items(self, initiative: InitiativeRecord) -> list[tuple[str, int]]:
        """What is grouped under the initiative, as (kind, id), in the order added (the portal links them)."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(ITEM.c.kind, ITEM.c.item_id)
                .where(ITEM.c.workspace_id == initiative.workspace_id, ITEM.c.initiative_id == initiative.id)
                .order_by(ITEM.c.added_at, ITEM.c.id)
            )
            return [(str(r.kind), int(r.item_id)) for r in rows]

    async def progress(self, initiative: InitiativeRecord, now: datetime) -> InitiativeProgress:
        async with self.db.connect() as conn:
            return await progress_of(conn, initiative, now)

    async def forget_member(self, workspace: str, member: str) -> int:
        """A member's forget-me request: the initiatives they started and the items they added stop naming them."""
        async with self.db.begin() as conn:
            started = await conn.execute(update(N).where(N.c.workspace_id == workspace, N.c.created_by == member)
                                         .values(created_by=None))
            added = await conn.execute(update(ITEM).where(ITEM.c.workspace_id == workspace, ITEM.c.added_by == member)
                                       .values(added_by=None))
            return int(started.rowcount or 0) + int(added.rowcount or 0)

    async def _named(self, conn: AsyncConnection, workspace: str, name: str) -> InitiativeRecord | None:
        row = (await conn.execute(
            select(N).where(N.c.workspace_id == workspace, N.c.name_key == name_key(name))
        )).first()
        return _record(row._mapping) if row is not None else None


async def progress_of(conn: AsyncConnection, initiative: InitiativeRecord, now: datetime) -> InitiativeProgress:
    """Counts over the grouped items as they stand now."""
    ws = initiative.workspace_id

    def grouped(kind: str) -> Select[tuple[int]]:
        return select(ITEM.c.item_id).where(ITEM.c.workspace_id == ws, ITEM.c.initiative_id == initiative.id,
                                            ITEM.c.kind == kind)

    D, IDEA, C = T_DECISION, T_IDEA, T_COMMITMENT
    decisions = (await conn.execute(
        select(D.c.status, func.count()).where(D.c.workspace_id == ws, D.c.id.in_(grouped("decision")))
        .group_by(D.c.status)
    )).all()
    ideas: dict[str, int] = dict((await conn.execute(
        select(IDEA.c.status, func.count()).where(IDEA.c.workspace_id == ws, IDEA.c.id.in_(grouped("idea")))
        .group_by(IDEA.c.status)
    )).all())
    commitments = (await conn.execute(
        select(C.c.status, C.c.due_at).where(C.c.workspace_id == ws, C.c.id.in_(grouped("commitment")))
    )).all()
    still_open = [c for c in commitments if c.status != DONE]
    return InitiativeProgress(
        initiative=initiative,
        decisions=sum(int(count) for _, count in decisions),
        decisions_taken=sum(int(count) for status, count in decisions if status == AGREED),
        ideas=tuple((status, int(ideas[status])) for status in IDEA_STATUSES if ideas.get(status)),
        commitments_done=len(commitments) - len(still_open),
        commitments_open=len(still_open),
        commitments_overdue=sum(1 for c in still_open if c.due_at < now),
    )


async def active_in(
    conn: AsyncConnection, workspace: str, channels: Sequence[str], now: datetime
) -> tuple[InitiativeProgress, ...]:
    """The digest's initiatives: the active ones started in these (public) channels, with their progress."""
    rows = await conn.execute(
        select(N).where(and_(N.c.workspace_id == workspace, N.c.status == ACTIVE,
                             N.c.channel_id.in_(list(channels))))
        .order_by(N.c.created_at, N.c.id)
    )
    return tuple([await progress_of(conn, _record(r._mapping), now) for r in rows.all()])


def _record(row: object) -> InitiativeRecord:
    data = dict(row)  # type: ignore[call-overload]
    return InitiativeRecord(
        id=int(data["id"]),
        workspace_id=data["workspace_id"],
        name=data["name"],
        goal=data["goal"] or "",
        channel_id=data["channel_id"],
        created_by=data["created_by"],
        created_at=data["created_at"],
        status=data["status"],
    )

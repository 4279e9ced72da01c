"""Learning paths: which lessons a path holds in which order, who follows it at which pace, and how far they got.

The "delivered" fact of a round is its nudge row (kind "path", subject `path:ID:ROUND`), which the engine writes
in the same transaction as the direct message; a round the member asked for (`path next`) is marked here instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.paths import ACTIVE, FINISHED, PATH_NUDGE, STOPPED, Enrolment, PathRecord, PathStep, path_subject
from storage import boards
from storage.lesson_model import T_LESSON
from storage.path_model import T_PATH, T_PATH_DONE, T_PATH_LESSON, T_PATH_MEMBER
from storage.repository import T_CHANNEL, T_NUDGE

logger = logging.getLogger(__name__)

P, PL, PM, PD = T_PATH, T_PATH_LESSON, T_PATH_MEMBER, T_PATH_DONE


async def forget_lessons(conn: AsyncConnection, workspace: str, lesson_ids: Iterable[int]) -> None:
    """Deleted lessons leave every path and every member's progress; the paths close their gaps."""
    ids = list(lesson_ids)
    if not ids:
        return
    touched = {r.path_id for r in await conn.execute(
        select(PL.c.path_id).where(PL.c.workspace_id == workspace, PL.c.lesson_id.in_(ids))
    )}
    await conn.execute(delete(PL).where(PL.c.workspace_id == workspace, PL.c.lesson_id.in_(ids)))
    await conn.execute(delete(PD).where(PD.c.workspace_id == workspace, PD.c.lesson_id.in_(ids)))
    for path_id in sorted(touched):
        await _renumber(conn, path_id, [r.lesson_id for r in await _ordered(conn, path_id)])


async def _ordered(conn: AsyncConnection, path_id: int) -> list[Any]:
    return list(await conn.execute(select(PL).where(PL.c.path_id == path_id).order_by(PL.c.position, PL.c.lesson_id)))


async def _renumber(conn: AsyncConnection, path_id: int, lesson_ids: list[int]) -> None:
    for position, lesson_id in enumerate(lesson_ids, start=1):
        await conn.execute(
            update(PL).where(PL.c.path_id == path_id, PL.c.lesson_id == lesson_id).values(position=position)
        )


class PathStore:
    """Learning paths of all workspaces, on Steward's async engine."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    # --- paths ---------------------------------------------------------------------------------------------
    async def create(self, workspace: str, name: str, goal: str, *, by: str, now: datetime) -> tuple[PathRecord,
                                                                                                      bool]:
        """A new path; the second value is False when one of that name exists (it is returned unchanged)."""
        try:
            async with self.db.begin() as conn:
                found = await self._by_name(conn, workspace, name)
                if found is not None:
                    return found, False
                await conn.execute(P.insert().values(workspace_id=workspace, name=name, goal=goal, created_by=by,
                                                     created_at=now, updated_at=now))
                made = await self._by_name(conn, workspace, name)
                assert made is not None
                return made, True
        except IntegrityError:
            again = await self.get(workspace, name)
            if again is None:
                raise
            return again, False

    async def delete_path(self, workspace: str, name: str) -> bool:
        async with self.db.begin() as conn:
            found = await self._by_name(conn, workspace, name)
            if found is None:
                return False
            for table in (PL, PD, PM):
                await conn.execute(delete(table).where(table.c.path_id == found.id))
            await conn.execute(delete(P).where(P.c.id == found.id))
            return True

    async def get(self, workspace: str, name: str) -> PathRecord | None:
        async with self.db.connect() as conn:
            return await self._by_name(conn, workspace, name)

    async def by_id(self, workspace: str, path_id: int) -> PathRecord | None:
        async with self.db.connect() as conn:
            row = (await conn.execute(select(P).where(P.c.workspace_id == workspace, P.c.id == path_id))).first()
            return await self._record(conn, row) if row is not None else None

    async def all(self, workspace: str) -> list[PathRecord]:
        """Every path of a workspace, by name."""
        async with self.db.connect() as conn:
            rows = list(await conn.execute(select(P).where(P.c.workspace_id == workspace).order_by(P.c.name)))
            return [await self._record(conn, row) for row in rows]

    async def add_lesson(self, workspace: str, path_id: int, lesson_id: int, position: int | None) -> str:
        """Put a lesson on a path (at `position`, else last): "added", "moved" (it was there), or "no_lesson"."""
        async with self.db.begin() as conn:
            lesson = (await conn.execute(
                select(T_LESSON.c.id).where(T_LESSON.c.workspace_id == workspace, T_LESSON.c.id == lesson_id)
            )).first()
            if lesson is None:
                return "no_lesson"
            order = [r.lesson_id for r in await _ordered(conn, path_id)]
            outcome = "moved" if lesson_id in order else "added"
            if outcome == "added":
                await conn.execute(PL.insert().values(path_id=path_id, lesson_id=lesson_id, workspace_id=workspace,
                                                      position=len(order) + 1))
            else:
                order.remove(lesson_id)
            at = len(order) if position is None else min(max(position, 1) - 1, len(order))
            order.insert(at, lesson_id)
            await _renumber(conn, path_id, order)
            return outcome

    async def remove_lesson(self, workspace: str, path_id: int, lesson_id: int) -> bool:
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(PL).where(PL.c.workspace_id == workspace, PL.c.path_id == path_id, PL.c.lesson_id == lesson_id)
            )
            if not result.rowcount:
                return False
            await _renumber(conn, path_id, [r.lesson_id for r in await _ordered(conn, path_id)])
            return True

    # --- members following a path --------------------------------------------------------------------------
    async def enrolment(self, workspace: str, path_id: int, member: str) -> Enrolment | None:
        async with self.db.connect() as conn:
            return await self._enrolment(conn, workspace, path_id, member)

    async def enrolments_of(self, workspace: str, member: str) -> dict[int, Enrolment]:
        """The paths a member follows or followed, by path id (the portal shows their progress)."""
        async with self.db.connect() as conn:
            rows = list(await conn.execute(select(PM).where(PM.c.workspace_id == workspace,
                                                            PM.c.member_id == member)))
            return {int(r.path_id): await self._with_done(conn, r) for r in rows}

    async def start(
        self, workspace: str, path_id: int, member: str, *, pace: int, now: datetime, due: datetime
    ) -> tuple[Enrolment, bool]:
        """Follow a path. The second value is False when the member follows it already (then only the pace
        changes); a stopped or finished path starts again with a new round."""
        async with self.db.begin() as conn:
            found = await self._enrolment(conn, workspace, path_id, member)
            where = and_(PM.c.workspace_id == workspace, PM.c.path_id == path_id, PM.c.member_id == member)
            if found is None:
                await conn.execute(PM.insert().values(
                    workspace_id=workspace, path_id=path_id, member_id=member, pace_days=pace, status=ACTIVE,
                    round=0, due_at=due, delivered_round=-1, started_at=now, updated_at=now,
                ))
            elif found.active:
                await conn.execute(update(PM).where(where).values(pace_days=pace, updated_at=now))
            else:
                await conn.execute(update(PM).where(where).values(
                    pace_days=pace, status=ACTIVE, round=PM.c.round + 1, due_at=due, finished_at=None, updated_at=now,
                ))
            after = await self._enrolment(conn, workspace, path_id, member)
            assert after is not None
            return after, found is None or not found.active

    async def stop(self, workspace: str, path_id: int, member: str, now: datetime) -> bool:
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(PM).where(PM.c.workspace_id == workspace, PM.c.path_id == path_id, PM.c.member_id == member,
                                 PM.c.status == ACTIVE).values(status=STOPPED, updated_at=now)
            )
            return bool(result.rowcount)

    async def advance(
        self, workspace: str, path_id: int, member: str, *, from_round: int, due: datetime, now: datetime,
        delivered: bool = False,
    ) -> Enrolment | None:
        """The next round, due at `due`, if the member is still at `from_round` and following; None otherwise.
        `delivered`: it is sent now, at the member's request."""
        async with self.db.begin() as conn:
            values: dict[str, Any] = {"round": from_round + 1, "due_at": due, "updated_at": now}
            if delivered:
                values["delivered_round"] = from_round + 1
            result = await conn.execute(
                update(PM).where(PM.c.workspace_id == workspace, PM.c.path_id == path_id, PM.c.member_id == member,
                                 PM.c.status == ACTIVE, PM.c.round == from_round).values(**values)
            )
            if not result.rowcount:
                return None
            return await self._enrolment(conn, workspace, path_id, member)

    async def mark_done(self, workspace: str, path_id: int, member: str, lesson_id: int, now: datetime) -> bool:
        """Whether the lesson was newly marked done (pressing "Done" twice counts once)."""
        try:
            async with self.db.begin() as conn:
                found = (await conn.execute(select(PD.c.lesson_id).where(
                    PD.c.workspace_id == workspace, PD.c.path_id == path_id, PD.c.member_id == member,
                    PD.c.lesson_id == lesson_id,
                ))).first()
                if found is not None:
                    return False
                await conn.execute(PD.insert().values(workspace_id=workspace, path_id=path_id, member_id=member,
                                                      lesson_id=lesson_id, done_at=now))
                return True
        except IntegrityError:
            return False

    async def finish(self, workspace: str, path_id: int, member: str, now: datetime) -> bool:
        """Whether the path is newly finished for the member (the congratulation goes out once)."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(PM).where(PM.c.workspace_id == workspace, PM.c.path_id == path_id, PM.c.member_id == member,
                                 PM.c.status == ACTIVE).values(status=FINISHED, finished_at=now, updated_at=now)
            )
            return bool(result.rowcount)

    async def pending(self, workspace: str) -> list[Enrolment]:
        """Followed paths whose current round was not delivered yet (after a restart, their deadlines)."""
        async with self.db.connect() as conn:
            rows = list(await conn.execute(
                select(PM).where(PM.c.workspace_id == workspace, PM.c.status == ACTIVE).order_by(PM.c.due_at)
            ))
            found = [await self._with_done(conn, r) for r in rows]
            return [e for e in found if not await self._delivered(conn, e)]

    async def delivered(self, enrolment: Enrolment) -> bool:
        async with self.db.connect() as conn:
            return await self._delivered(conn, enrolment)

    async def visible_channels(self, workspace: str, member: str) -> set[str]:
        """The private channels a member may see lessons of: those they have written in (as the portal says)."""
        async with self.db.connect() as conn:
            return await boards.channels_written_in(conn, workspace, member)

    async def forget_member(self, workspace: str, member: str) -> int:
        """A member's forget-me request: what they follow and what they finished goes; paths they made stay,
        without their name."""
        async with self.db.begin() as conn:
            gone = await conn.execute(delete(PM).where(PM.c.workspace_id == workspace, PM.c.member_id == member))
            await conn.execute(delete(PD).where(PD.c.workspace_id == workspace, PD.c.member_id == member))
            await conn.execute(update(P).where(P.c.workspace_id == workspace, P.c.created_by == member)
                               .values(created_by=None))
            return int(gone.rowcount or 0)

    # --- internals -------------------------------------------------------------------------------------------
    async def _delivered(self, conn: AsyncConnection, enrolment: Enrolment) -> bool:
        if enrolment.delivered_round == enrolment.round:
            return True
        found = await conn.execute(select(T_NUDGE.c.id).where(
            T_NUDGE.c.workspace_id == enrolment.workspace_id, T_NUDGE.c.member_id == enrolment.member_id,
            T_NUDGE.c.kind == PATH_NUDGE, T_NUDGE.c.question_id == path_subject(enrolment.path_id, enrolment.round),
        ))
        return found.first() is not None

    async def _by_name(self, conn: AsyncConnection, workspace: str, name: str) -> PathRecord | None:
        row = (await conn.execute(select(P).where(P.c.workspace_id == workspace, P.c.name == name))).first()
        return await self._record(conn, row) if row is not None else None

    async def _record(self, conn: AsyncConnection, row: Any) -> PathRecord:
        lesson, channel = T_LESSON, T_CHANNEL
        steps = await conn.execute(
            select(lesson.c.id, lesson.c.title, lesson.c.summary, lesson.c.permalink, lesson.c.channel_id,
                   lesson.c.private, lesson.c.steps, channel.c.private.label("channel_private"))
            .select_from(PL.join(lesson, lesson.c.id == PL.c.lesson_id).outerjoin(
                channel, and_(channel.c.workspace_id == lesson.c.workspace_id, channel.c.id == lesson.c.channel_id)))
            .where(PL.c.path_id == row.id, lesson.c.workspace_id == row.workspace_id)
            .order_by(PL.c.position, PL.c.lesson_id)
        )
        return PathRecord(
            id=int(row.id), workspace_id=row.workspace_id, name=row.name, goal=row.goal or "",
            created_by=row.created_by, created_at=row.created_at,
            steps=tuple(
                PathStep(lesson_id=int(s.id), title=s.title, summary=s.summary or "", link=s.permalink or "",
                         channel_id=s.channel_id, private=bool(s.private) or bool(s.channel_private),
                         steps=tuple(s.steps or ()))
                for s in steps
            ),
        )

    async def _enrolment(self, conn: AsyncConnection, workspace: str, path_id: int, member: str) -> Enrolment | None:
        row = (await conn.execute(select(PM).where(
            PM.c.workspace_id == workspace, PM.c.path_id == path_id, PM.c.member_id == member
        ))).first()
        return await self._with_done(conn, row) if row is not None else None

    async def _with_done(self, conn: AsyncConnection, row: Any) -> Enrolment:
        done = await conn.execute(select(PD.c.lesson_id).where(
            PD.c.workspace_id == row.workspace_id, PD.c.path_id == row.path_id, PD.c.member_id == row.member_id
        ))
        return Enrolment(
            workspace_id=row.workspace_id, path_id=int(row.path_id), member_id=row.member_id,
            pace_days=int(row.pace_days), status=row.status, round=int(row.round), due_at=row.due_at,
            started_at=row.started_at, delivered_round=int(row.delivered_round), finished_at=row.finished_at,
            done=frozenset(int(r.lesson_id) for r in done),
        )

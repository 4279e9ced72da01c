"""A workspace leaving: its waiting outbox rows failed, and (if the operator purges) every row of it, in every
table, and its lessons' search index."""

from __future__ import annotations

from sqlalchemy import Table, delete, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from storage import digests, lesson_model, models, skills, sponsor_report  # noqa: F401  (every table Steward has, in the metadata)
from storage.lessons import LessonStore
from storage.models import OutboxEntry

T_OUTBOX: Table = OutboxEntry.__table__  # type: ignore[attr-defined]


async def forget_workspace(db: AsyncEngine, workspace_id: str) -> int:
    """Delete one workspace's rows from every table that holds them; the other workspaces stay as they are.

    Lessons go through their store, which keeps the search index in step. Returns how many rows went.
    """
    removed = await LessonStore(db).forget_workspace(workspace_id)
    async with db.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            column = table.c.get("workspace_id") if table.name != "workspace" else table.c.id
            if column is None or table is lesson_model.T_LESSON:
                continue
            result = await conn.execute(delete(table).where(column == workspace_id))
            removed += int(result.rowcount or 0)
    return removed


async def fail_waiting(db: AsyncEngine, workspace_id: str, reason: str) -> int:
    """Mark the workspace's outbox rows still waiting failed, never retried (nothing reaches a community that removed
    Steward); returns how many."""
    async with db.begin() as conn:
        result = await conn.execute(
            update(T_OUTBOX)
            .where(T_OUTBOX.c.workspace_id == workspace_id, T_OUTBOX.c.status.in_(("pending", "sending")))
            .values(status="failed", last_error=reason, claimed_until=None)
        )
    return int(result.rowcount or 0)

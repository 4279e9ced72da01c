"""Forgetting one workspace: every row of it, in every table, and its lessons' search index."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from storage import digests, lesson_model, models, skills, sponsor_report  # noqa: F401  (every table Steward has, in the metadata)
from storage.lessons import LessonStore


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

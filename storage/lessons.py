"""The knowledge store: lessons distilled from threads, kept, curated and searched.

The table is in `lesson_model`, ranked search and its index in `lesson_search` (SQLite FTS5 with bm25,
PostgreSQL tsvector with ts_rank_cd), reading threads for distillation in `lesson_threads`. The store writes
the search index in the same transaction as the lesson.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.lessons import LessonDraft
from storage import lesson_history as changes
from storage import paths as learning_paths
from storage.lesson_model import T_LESSON, Lesson, _lesson
from storage.lesson_search import LessonSearch, SearchHit, index_terms, query_groups
from storage.lesson_threads import MessageThreadReader

logger = logging.getLogger(__name__)


class LessonStore(LessonSearch):
    """Lessons of all workspaces, on Steward's async engine (SQLite or PostgreSQL)."""

    # --- writing ---------------------------------------------------------------------------------------------
    async def upsert(
        self,
        workspace_id: str,
        source_message_id: str,
        draft: LessonDraft,
        *,
        channel_id: str,
        permalink: str,
        now: datetime,
        private: bool = False,
    ) -> tuple[Lesson, bool]:
        """Store the lesson of a thread; the second value says whether it is new (else it was updated)."""
        values = {
            "title": draft.title,
            "summary": draft.summary,
            "solution": draft.solution,
            "steps": list(draft.steps),
            "tips": list(draft.tips),
            "tags": list(draft.tags),
            "contributors": list(draft.contributors),
            "permalink": permalink,
            "channel_id": channel_id,
            "private": private,
            "updated_at": now,
        }
        for _attempt in range(2):  # a concurrent insert of the same thread turns into an update
            try:
                async with self.db.begin() as conn:
                    existing = await self._by_source(conn, workspace_id, source_message_id)
                    if existing is not None:
                        await conn.execute(update(T_LESSON).where(T_LESSON.c.id == existing.id).values(**values))
                        created = False
                        lesson_id = existing.id
                    else:
                        result = await conn.execute(
                            T_LESSON.insert().values(
                                workspace_id=workspace_id, source_message_id=source_message_id, created_at=now,
                                verified_at=None, verified_by=None, **values,
                            )
                        )
                        lesson_id = result.inserted_primary_key[0]  # type: ignore[index]
                        created = True
                    lesson = await self._get(conn, lesson_id)
                    assert lesson is not None
                    await self._index(conn, [lesson])
                    await changes.record(conn, workspace_id, lesson.id or 0, "captured" if created else "recaptured",
                                         at=now, detail=lesson.title)
                    return lesson, created
            except IntegrityError:
                logger.info("lesson for %s/%s was stored concurrently; updating it", workspace_id, source_message_id)
        raise RuntimeError("lesson could not be stored")

    async def add_many(self, lessons: Sequence[Lesson]) -> None:
        """Insert many new lessons of one workspace at once (imports, benchmarks); the database assigns ids."""
        rows = [lesson.model_dump(exclude={"id"}) for lesson in lessons]
        async with self.db.begin() as conn:
            await conn.execute(T_LESSON.insert(), rows)
            for start in range(0, len(rows), 500):
                chunk = rows[start:start + 500]
                stored = await conn.execute(
                    select(T_LESSON).where(
                        T_LESSON.c.workspace_id == chunk[0]["workspace_id"],
                        T_LESSON.c.source_message_id.in_([r["source_message_id"] for r in chunk]),
                    )
                )
                await self._index(conn, [_lesson(r) for r in stored], fresh=True)
        if self.postgres:
            # Search plans depend on how common each word is; after a bulk load the statistics are stale until
            # autovacuum gets round to them, and a wrong guess costs a scan of the table per query.
            async with self.db.begin() as conn:
                await conn.execute(text("ANALYZE lesson"))

    async def edit(
        self, workspace_id: str, lesson_id: int, *, now: datetime, by: str | None = None, **fields: Any
    ) -> Lesson | None:
        """Change title, problem, what worked, steps, tips or tags of a lesson (facilitators curate)."""
        allowed = {k: v for k, v in fields.items() if k in _EDITABLE and v is not None}
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(T_LESSON)
                .where(T_LESSON.c.workspace_id == workspace_id, T_LESSON.c.id == lesson_id)
                .values(updated_at=now, **allowed)
            )
            if not result.rowcount:
                return None
            lesson = await self._get(conn, lesson_id)
            assert lesson is not None
            await self._index(conn, [lesson])
            retagged = set(allowed) == {"tags"}
            what, detail = ("retagged", ", ".join(lesson.tags)) if retagged else ("edited", lesson.title)
            await changes.record(conn, workspace_id, lesson_id, what, at=now, by=by, detail=detail)
            return lesson

    async def retag(
        self, workspace_id: str, lesson_id: int, tags: Sequence[str], *, now: datetime, by: str | None = None
    ) -> Lesson | None:
        clean: dict[str, str] = {}  # one tag per spelling, compared regardless of case; the first spelling kept
        for tag in (" ".join(t.strip().lstrip("#").split()) for t in tags):
            if tag:
                clean.setdefault(tag.lower(), tag)
        tags = list(clean.values())
        return await self.edit(workspace_id, lesson_id, tags=tags, now=now, by=by)

    async def verify(self, workspace_id: str, lesson_id: int, *, by: str, now: datetime) -> Lesson | None:
        """Mark a lesson as checked by a facilitator; it leaves the review list until it ages again."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(T_LESSON)
                .where(T_LESSON.c.workspace_id == workspace_id, T_LESSON.c.id == lesson_id)
                .values(verified_at=now, verified_by=by)
            )
            if not result.rowcount:
                return None
            await changes.record(conn, workspace_id, lesson_id, "verified", at=now, by=by)
            return await self._get(conn, lesson_id)

    async def delete(self, workspace_id: str, lesson_id: int) -> bool:
        async with self.db.begin() as conn:
            return await self._delete(conn, workspace_id, [lesson_id]) > 0

    async def delete_by_source(self, workspace_id: str, source_message_id: str) -> bool:
        """The source message was deleted: its lesson goes too (the thread's text is no longer ours to keep)."""
        async with self.db.begin() as conn:
            lesson = await self._by_source(conn, workspace_id, source_message_id)
            if lesson is None or lesson.id is None:
                return False
            return await self._delete(conn, workspace_id, [lesson.id]) > 0

    async def merge(
        self, workspace_id: str, lesson_id: int, into_id: int, *, now: datetime, by: str | None = None
    ) -> Lesson | None:
        """Fold one lesson into another: steps, tips, tags and contributors are united; the first is deleted."""
        async with self.db.begin() as conn:
            source, target = await self._get(conn, lesson_id), await self._get(conn, into_id)
            if source is None or target is None or lesson_id == into_id:
                return None
            if not source.workspace_id == target.workspace_id == workspace_id:
                return None
            await conn.execute(
                update(T_LESSON)
                .where(T_LESSON.c.id == into_id)
                .values(
                    summary=_joined(target.summary, source.summary),
                    solution=_joined(target.solution, source.solution),
                    steps=_union(target.steps, source.steps),
                    tips=_union(target.tips, source.tips),
                    tags=_union(target.tags, source.tags),
                    contributors=_union(target.contributors, source.contributors),
                    updated_at=now,
                )
            )
            await self._delete(conn, workspace_id, [lesson_id])
            merged = await self._get(conn, into_id)
            assert merged is not None
            await self._index(conn, [merged])
            await changes.record(conn, workspace_id, into_id, "merged", at=now, by=by, detail=source.title)
            return merged

    async def forget_member(self, workspace_id: str, member_id: str) -> int:
        """A member's forget-me request: they are no longer credited on any lesson."""
        changed = 0
        async with self.db.begin() as conn:
            for lesson in await self._all(conn, workspace_id):
                if member_id in lesson.contributors:
                    kept = [c for c in lesson.contributors if c != member_id]
                    await conn.execute(update(T_LESSON).where(T_LESSON.c.id == lesson.id).values(contributors=kept))
                    changed += 1
            await changes.forget_member(conn, workspace_id, member_id)
        return changed

    async def forget_workspace(self, workspace_id: str) -> int:
        """Every lesson of a workspace goes (the demo starts its sample community afresh)."""
        async with self.db.begin() as conn:
            ids = [lesson.id for lesson in await self._all(conn, workspace_id) if lesson.id is not None]
            return await self._delete(conn, workspace_id, ids)

    # --- reading ---------------------------------------------------------------------------------------------
    async def history(self, workspace_id: str, lesson_id: int) -> list[changes.Change]:
        """What happened to the lesson, oldest first."""
        async with self.db.connect() as conn:
            return await changes.history(conn, workspace_id, lesson_id)

    async def get(self, workspace_id: str, lesson_id: int) -> Lesson | None:
        async with self.db.connect() as conn:
            lesson = await self._get(conn, lesson_id)
        return lesson if lesson is not None and lesson.workspace_id == workspace_id else None

    async def by_source(self, workspace_id: str, source_message_id: str) -> Lesson | None:
        async with self.db.connect() as conn:
            return await self._by_source(conn, workspace_id, source_message_id)

    async def all(self, workspace_id: str | None = None) -> list[Lesson]:
        async with self.db.connect() as conn:
            return await self._all(conn, workspace_id)

    async def list_for_review(self, workspace_id: str, older_than: datetime) -> list[Lesson]:
        """Lessons nobody has confirmed since `older_than`: the tools they describe may have moved on."""
        checked = func.coalesce(T_LESSON.c.verified_at, T_LESSON.c.updated_at)
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(T_LESSON)
                .where(T_LESSON.c.workspace_id == workspace_id, checked < older_than)
                .order_by(checked, T_LESSON.c.id)
            )
            return [_lesson(r) for r in rows]

    # --- internals -------------------------------------------------------------------------------------------
    async def _get(self, conn: AsyncConnection, lesson_id: int | None) -> Lesson | None:
        row = (await conn.execute(select(T_LESSON).where(T_LESSON.c.id == lesson_id))).first()
        return _lesson(row) if row is not None else None

    async def _by_source(self, conn: AsyncConnection, workspace_id: str, source: str) -> Lesson | None:
        row = (
            await conn.execute(
                select(T_LESSON).where(T_LESSON.c.workspace_id == workspace_id,
                                       T_LESSON.c.source_message_id == source)
            )
        ).first()
        return _lesson(row) if row is not None else None

    async def _all(self, conn: AsyncConnection, workspace_id: str | None) -> list[Lesson]:
        stmt = select(T_LESSON).order_by(T_LESSON.c.id)
        if workspace_id is not None:
            stmt = stmt.where(T_LESSON.c.workspace_id == workspace_id)
        return [_lesson(r) for r in await conn.execute(stmt)]

    async def _delete(self, conn: AsyncConnection, workspace_id: str, ids: Iterable[int]) -> int:
        ids = list(ids)
        if not self.postgres and ids:
            await conn.execute(text("DELETE FROM lesson_fts WHERE rowid = :id"), [{"id": i} for i in ids])
        result = await conn.execute(
            delete(T_LESSON).where(and_(T_LESSON.c.workspace_id == workspace_id, T_LESSON.c.id.in_(ids)))
        )
        await changes.forget(conn, workspace_id, ids)
        await learning_paths.forget_lessons(conn, workspace_id, ids)  # a deleted lesson leaves every path
        return int(result.rowcount or 0)


_EDITABLE = frozenset({"title", "summary", "solution", "steps", "tips", "tags"})


def _union(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _joined(first: str, second: str) -> str:
    """Two texts as paragraphs, the second only when the first does not already say it."""
    return first.strip() if second in first else f"{first}\n\n{second}".strip()


__all__ = ["Lesson", "LessonStore", "MessageThreadReader", "SearchHit", "index_terms", "query_groups"]

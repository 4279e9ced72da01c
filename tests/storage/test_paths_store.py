"""Learning paths and stale lessons on SQLite and PostgreSQL: order kept without gaps, a deleted lesson leaving its
paths, rounds moving forward once, the "delivered" fact, forget-me, and the stale-lesson query."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from bot.core.lessons import LessonDraft
from bot.core.paths import path_subject, review_subject
from storage.db import create_engine
from storage.lesson_reviews import StaleLessons
from storage.lessons import LessonStore
from storage.migrate import upgrade
from storage.paths import PathStore
from storage.repository import T_NUDGE
from tests.support import at

WS = "slack:T1"
NOW = at("2026-03-02 09:00")


async def test_paths_keep_their_order_and_lose_a_deleted_lesson(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    lessons, store = LessonStore(db), PathStore(db)
    try:
        ids = []
        for n in range(1, 4):
            lesson, _ = await lessons.upsert(WS, f"root{n}", LessonDraft(title=f"Lesson {n}", summary="s",
                                                                          contributors=("ana",)),
                                             channel_id="C1", permalink="", now=NOW)
            assert lesson.id is not None
            ids.append(lesson.id)
        path, created = await store.create(WS, "crm", "Get going", by="fran", now=NOW)
        again, twice = await store.create(WS, "crm", "Other goal", by="fran", now=NOW)
        assert created and not twice and again.id == path.id and again.goal == "Get going"
        assert [await store.add_lesson(WS, path.id, i, None) for i in ids] == ["added"] * 3
        assert await store.add_lesson(WS, path.id, ids[2], 1) == "moved"
        assert await store.add_lesson(WS, path.id, 999, None) == "no_lesson"
        found = await store.get(WS, "crm")
        assert found is not None and [s.lesson_id for s in found.steps] == [ids[2], ids[0], ids[1]]

        started, fresh = await store.start(WS, path.id, "tom", pace=2, now=NOW, due=NOW)
        assert fresh and started.round == 0 and await store.pending(WS) == [started]
        assert await store.mark_done(WS, path.id, "tom", ids[2], NOW)
        assert not await store.mark_done(WS, path.id, "tom", ids[2], NOW), "done once"
        await lessons.delete(WS, ids[2])
        found = await store.get(WS, "crm")
        assert found is not None and [s.lesson_id for s in found.steps] == [ids[0], ids[1]]
        tom = await store.enrolment(WS, path.id, "tom")
        assert tom is not None and tom.done == frozenset(), "progress on the deleted lesson goes too"
        assert await store.remove_lesson(WS, path.id, ids[0]) and not await store.remove_lesson(WS, path.id, ids[0])
        found = await store.get(WS, "crm")
        assert found is not None and [s.lesson_id for s in found.steps] == [ids[1]]

        async with db.begin() as conn:  # the engine writes the delivery's nudge row with the message
            await conn.execute(insert(T_NUDGE).values(
                workspace_id=WS, member_id="tom", question_id=path_subject(path.id, 0), kind="path",
                reason="learning path", sent_at=NOW, led_to_answer=False,
            ))
        assert await store.delivered(tom) and await store.pending(WS) == []
        moved = await store.advance(WS, path.id, "tom", from_round=0, due=NOW + timedelta(days=2), now=NOW)
        assert moved is not None and moved.round == 1 and not await store.delivered(moved)
        assert await store.advance(WS, path.id, "tom", from_round=0, due=NOW, now=NOW) is None, "once per round"
        assert [e.round for e in await store.pending(WS)] == [1]
        assert await store.finish(WS, path.id, "tom", NOW) and not await store.finish(WS, path.id, "tom", NOW)

        assert await store.forget_member(WS, "tom") == 1
        assert await store.enrolment(WS, path.id, "tom") is None
        assert await store.forget_member(WS, "fran") == 0
        assert (await store.get(WS, "crm")).created_by is None  # type: ignore[union-attr]
        assert await store.delete_path(WS, "crm") and await store.get(WS, "crm") is None
    finally:
        await db.dispose()


async def test_stale_lessons_are_those_unverified_since_and_offers_are_found(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    lessons, stale = LessonStore(db), StaleLessons(db)
    try:
        old, _ = await lessons.upsert(WS, "r1", LessonDraft(title="Old", summary="s", contributors=("ana", "ben")),
                                      channel_id="C1", permalink="https://x/1", now=NOW)
        await lessons.upsert(WS, "r2", LessonDraft(title="New", summary="s"), channel_id="C1", permalink="",
                             now=NOW + timedelta(days=100))
        later = NOW + timedelta(days=190)
        [found] = await stale.stale(WS, later - timedelta(days=180))
        assert (found.title, found.contributors, found.checked_at) == ("Old", ("ana", "ben"), NOW)
        assert old.id is not None
        await lessons.verify(WS, old.id, by="ana", now=NOW + timedelta(days=20))
        assert await stale.stale(WS, later - timedelta(days=180)) == [], "a verification resets it"
        async with db.begin() as conn:
            await conn.execute(insert(T_NUDGE).values(
                workspace_id=WS, member_id="ana", question_id=review_subject(old.id, NOW), kind="lesson_review",
                reason="stale lesson", sent_at=later, led_to_answer=False,
            ))
        assert await stale.asked(WS) == {("ana", review_subject(old.id, NOW))}
    finally:
        await db.dispose()

"""What the search offers as a related lesson: never one from a private channel, never one that shares a single word
with the question however large a share of it that word is."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.lessons import LessonDraft
from storage.db import create_engine
from storage.lessons import LessonStore
from storage.migrate import upgrade
from tests.support import at

WS = "console:test"
NOW = at("2026-03-04 12:00")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[LessonStore]:
    await upgrade(database_url)
    db = create_engine(database_url)
    try:
        yield LessonStore(db)
    finally:
        await db.dispose()


async def save(store: LessonStore, source: str, title: str, solution: str, *, private: bool = False) -> None:
    await store.upsert(WS, source, LessonDraft(title=title, summary="", solution=solution),
                       channel_id="board" if private else "help", permalink=f"console:test/help/{source}", now=NOW,
                       private=private)


async def test_a_lesson_from_a_private_channel_is_never_related(store: LessonStore) -> None:
    await save(store, "p1", "Budget approval for the summit", "The sponsor signs budgets off.", private=True)
    assert await store.related(WS, "How does budget approval for the summit work?", limit=3) == []
    await save(store, "o1", "Budget approval for the summit", "The sponsor signs budgets off.")
    hits = await store.related(WS, "How does budget approval for the summit work?", limit=3)
    assert [h.link for h in hits] == ["console:test/help/o1"]


async def test_one_shared_word_is_no_related_lesson(store: LessonStore) -> None:
    await save(store, "x1", "Export Forms results to Excel", "Open the responses tab and choose Open in Excel.")
    assert await store.related(WS, "Excel?", limit=3) == [], "one word in common, though all of the question"
    hits = await store.related(WS, "Excel export?", limit=3)
    assert hits and hits[0].score == 1.0

"""Every event taken in leaves the inbox with the transaction that stores its effects, whatever arrives meanwhile.

SQLite gives a deleted row's id to the next row. An event taken in while the previous one's write was still
finishing got the id that write had just deleted, and the engine, which remembered rows by id, then forgot the new
event's row as done: it stayed in the inbox after its event was handled (found by the crash-injection benchmark,
31 rows after a clean run). Rows now leave by their event's key.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from storage.leases import T_INBOX
from tests.conftest import make_settings
from tests.support import WS, at, community, message


async def test_an_event_taken_in_during_the_previous_write_leaves_the_inbox_when_handled(database_url: str) -> None:
    engine = await community(make_settings(database_url), at("2026-03-02 08:00"))
    first = message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q")
    second = message("ben", "Use the Share button, top right.", at("2026-03-02 08:01"), thread="q", message_id="a")
    write = engine._write

    async def write_while_the_next_event_arrives(batch):  # type: ignore[no-untyped-def]
        await write(batch)
        if batch.inbox_taken and not arrived:
            arrived.append(second)
            await engine.take_in(second)  # Slack's next request, taken in while this write returns

    arrived: list[object] = []
    engine._write = write_while_the_next_event_arrives  # type: ignore[method-assign]
    try:
        await engine.take_in(first)
        await engine.handle(first)
        assert arrived, "the second event came in during the first one's write"
        await engine.handle(second)
        async with engine.db.connect() as conn:
            left = await conn.scalar(select(func.count()).select_from(T_INBOX))
        assert left == 0, "both events handled: nothing waits in the inbox"
        question = engine.state.question(WS, "q")
        assert question is not None and question.first_response_id == "a"
    finally:
        await engine.close()


async def test_an_event_left_in_the_inbox_by_a_failed_write_comes_before_the_next_one(database_url: str) -> None:
    """The question's write failed (the database was away) and the question waits in the inbox; the answer that
    comes next, a moment later in the same flat channel, must find it there first, or the question is flagged
    while answered."""
    engine = await community(make_settings(database_url), at("2026-03-02 08:00"))
    question = message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q")
    answer = message("ben", "@tom use the Share button, top right.", at("2026-03-02 08:01"), message_id="a")
    write = engine._write

    async def database_away(batch):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))

    try:
        await engine.take_in(question)
        engine._write = database_away  # type: ignore[method-assign]
        with pytest.raises(OperationalError):
            await engine.handle(question)
        engine._write = write  # type: ignore[method-assign]
        engine.clock.set(answer.at)  # type: ignore[attr-defined]
        await engine.handle(answer)
        taken = engine.state.question(WS, "q")
        assert taken is not None and taken.status == "answered" and taken.first_response_id == "a"
        async with engine.db.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(T_INBOX)) == 0
    finally:
        await engine.close()

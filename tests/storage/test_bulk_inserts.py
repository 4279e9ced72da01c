"""Bulk inserts go straight to the driver's executemany: the stored rows must be exactly what the columns hold
(times in UTC, booleans, JSON, NULLs), a row already stored must be skipped, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from storage.db import create_engine
from storage.migrate import upgrade
from storage.repository import T_MESSAGE, T_OUTBOX, T_RESPONSE, insert_ignoring_duplicates

BERLIN = timezone(timedelta(hours=1))


def _message(mid: str, text: str | None, posted_at: datetime, *, bot: bool = False) -> dict[str, object]:
    return {
        "workspace_id": "slack:T1",
        "id": mid,
        "channel_id": "C1",
        "user_id": "U1",
        "thread_id": None if mid == "1.1" else "1.1",
        "reply_to": None,
        "is_bot": bot,
        "text": text,
        "posted_at": posted_at,
        "edited_at": None,
        "deleted_at": None,
    }


async def test_bulk_rows_are_stored_as_given_and_repeats_are_skipped(database_url: str) -> None:
    await upgrade(database_url)
    db = create_engine(database_url)
    first = [
        _message("1.1", "How do I book a room?", datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        _message("1.2", None, datetime(2026, 3, 2, 10, 5, 30, 250000, tzinfo=BERLIN), bot=True),
    ]
    again = [
        _message("1.2", "a redelivery does not overwrite", datetime(2026, 3, 2, 9, 6, tzinfo=UTC)),
        _message("1.3", "Über das Portal.", datetime(2026, 3, 2, 9, 7, tzinfo=UTC)),
    ]
    response = {
        "workspace_id": "slack:T1",
        "question_id": "1.1",
        "message_id": "1.3",
        "responder_id": "U2",
        "at": datetime(2026, 3, 2, 9, 7, tzinfo=UTC),
        "recorded_at": datetime(2026, 3, 2, 9, 8, tzinfo=UTC),
        "first": True,
        "accepted": False,
    }
    outbox = {
        "workspace_id": "slack:T1",
        "key": "flag:1.1",
        "action": {"type": "post", "text": "Noch offen?", "n": [1, 2]},
        "status": "pending",
        "attempts": 0,
        "created_at": datetime(2026, 3, 2, 13, 0, tzinfo=UTC),
        "due_at": datetime(2026, 3, 2, 13, 0, tzinfo=UTC),
        "claimed_until": None,
        "sent_at": None,
        "platform_ref": None,
        "last_error": None,
    }
    async with db.begin() as conn:
        await insert_ignoring_duplicates(conn, T_MESSAGE, first)
        await insert_ignoring_duplicates(
            conn, T_RESPONSE, [response], ["workspace_id", "question_id", "message_id", "accepted"]
        )
        await insert_ignoring_duplicates(conn, T_OUTBOX, [outbox], ["workspace_id", "key"])
    async with db.begin() as conn:
        await insert_ignoring_duplicates(conn, T_MESSAGE, again)
        await insert_ignoring_duplicates(
            conn, T_RESPONSE, [response], ["workspace_id", "question_id", "message_id", "accepted"]
        )
        await insert_ignoring_duplicates(
            conn, T_OUTBOX, [{**outbox, "action": {"type": "other"}}], ["workspace_id", "key"]
        )
    async with db.connect() as conn:
        messages = [
            (r.id, r.thread_id, r.is_bot, r.text, r.posted_at, r.edited_at)
            for r in await conn.execute(select(T_MESSAGE).order_by(T_MESSAGE.c.id))
        ]
        responses = [
            (r.question_id, r.message_id, r.responder_id, r.at, r.recorded_at, r.first, r.accepted)
            for r in await conn.execute(select(T_RESPONSE))
        ]
        actions = [(r.key, r.action, r.status, r.due_at, r.sent_at) for r in await conn.execute(select(T_OUTBOX))]
    await db.dispose()
    assert messages == [
        ("1.1", None, False, "How do I book a room?", datetime(2026, 3, 2, 9, 0, tzinfo=UTC), None),
        ("1.2", "1.1", True, None, datetime(2026, 3, 2, 9, 5, 30, 250000, tzinfo=UTC), None),
        ("1.3", "1.1", False, "Über das Portal.", datetime(2026, 3, 2, 9, 7, tzinfo=UTC), None),
    ]
    assert responses == [
        (
            "1.1",
            "1.3",
            "U2",
            datetime(2026, 3, 2, 9, 7, tzinfo=UTC),
            datetime(2026, 3, 2, 9, 8, tzinfo=UTC),
            True,
            False,
        )
    ]
    assert actions == [
        (
            "flag:1.1",
            {"type": "post", "text": "Noch offen?", "n": [1, 2]},
            "pending",
            datetime(2026, 3, 2, 13, 0, tzinfo=UTC),
            None,
        )
    ]


async def test_rows_leaving_out_a_column_get_its_default(database_url: str) -> None:
    """Rows without a defaulted column (the outbox's status and attempts) still get the column's default."""
    await upgrade(database_url)
    db = create_engine(database_url)
    row = {
        "workspace_id": "slack:T1",
        "key": "k1",
        "action": {"type": "post"},
        "created_at": datetime(2026, 3, 2, 13, 0, tzinfo=UTC),
        "due_at": datetime(2026, 3, 2, 13, 0, tzinfo=UTC),
    }
    async with db.begin() as conn:
        await insert_ignoring_duplicates(conn, T_OUTBOX, [row], ["workspace_id", "key"])
    async with db.connect() as conn:
        stored = (await conn.execute(select(T_OUTBOX.c.status, T_OUTBOX.c.attempts, T_OUTBOX.c.action))).one()
    await db.dispose()
    assert tuple(stored) == ("pending", 0, {"type": "post"})

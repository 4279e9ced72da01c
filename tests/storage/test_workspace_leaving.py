"""A community removing Steward, on SQLite and PostgreSQL: its waiting outbox rows fail (the sent ones and every other
workspace's stay as they are), and a purge takes its rows and no one else's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import upgrade
from storage.workspaces import T_OUTBOX, fail_waiting, forget_workspace

GONE, STAYS = "discord:800000000000000001", "discord:800000000004194305"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def outbox(db: AsyncEngine) -> dict[str, tuple[str, str | None]]:
    async with db.connect() as conn:
        return {r.key: (r.status, r.last_error) for r in await conn.execute(select(T_OUTBOX))}


async def test_the_waiting_rows_of_a_removed_workspace_fail_and_the_rest_stay(db: AsyncEngine) -> None:
    now = datetime.now(UTC)
    rows = [
        {"workspace_id": ws, "key": key, "action": {}, "status": status, "created_at": now, "due_at": now}
        for ws, key, status in [(GONE, "a", "pending"), (GONE, "b", "sent"), (GONE, "c", "sending"),
                                (STAYS, "d", "pending")]
    ]
    async with db.begin() as conn:
        await conn.execute(T_OUTBOX.insert(), rows)
    assert await fail_waiting(db, GONE, "removed") == 2
    assert await outbox(db) == {"a": ("failed", "removed"), "b": ("sent", None), "c": ("failed", "removed"),
                                "d": ("pending", None)}
    assert await fail_waiting(db, GONE, "removed") == 0, "nothing is waiting any more"

    assert await forget_workspace(db, GONE) == 3
    assert await outbox(db) == {"d": ("pending", None)}

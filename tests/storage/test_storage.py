"""Storage on SQLite and on a real PostgreSQL server: URLs, migrations, bulk writes, the working set."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from bot.settings import Settings
from storage.db import DatabaseURLError, async_url, create_engine, redact
from storage.migrate import upgrade
from storage.repository import T_MESSAGE, T_QUESTION, T_REACTION
from tests.conftest import make_settings
from tests.support import at, community, message, reaction


def test_database_urls_are_taken_as_people_write_them() -> None:
    assert async_url("sqlite:///data/steward.db").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://steward@db/steward").drivername == "postgresql+asyncpg"
    assert async_url("postgres://steward@db/steward").drivername == "postgresql+asyncpg"
    with pytest.raises(DatabaseURLError, match="supports sqlite and postgresql"):
        async_url("mysql://root@localhost/x")
    with pytest.raises(DatabaseURLError, match="not a database URL"):
        async_url("no url at all")


def test_passwords_never_reach_a_log_line() -> None:
    assert "secret" not in redact("postgresql://steward:secret@db/steward")


async def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    await upgrade(sqlite_url)
    db = create_engine(sqlite_url)
    async with db.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one().lower() == "wal"
    await db.dispose()


async def test_migrations_are_idempotent(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url)
    db = create_engine(database_url)
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(T_QUESTION))).scalar_one() == 0
    await db.dispose()


async def test_lifecycle_is_stored_and_read_back_on_both_databases(database_url: str) -> None:
    settings: Settings = make_settings(database_url)
    engine = await community(settings, at("2026-03-02 09:00"))
    await engine.handle(
        message("anna", "How do I get access to the SAP test system?", at("2026-03-02 09:00"), message_id="q1")
    )
    await engine.handle(
        message(
            "marc",
            "Open a ticket with the SAP-ACCESS template, it takes a day.",
            at("2026-03-02 09:20"),
            thread="q1",
            message_id="a1",
        )
    )
    await engine.handle(reaction("anna", "q1", "white_check_mark", at("2026-03-02 09:30")))
    await engine.handle(reaction("anna", "q1", "white_check_mark", at("2026-03-02 09:31")))  # a duplicate is ignored
    async with engine.db.connect() as conn:
        row = (await conn.execute(select(T_QUESTION).where(T_QUESTION.c.id == "q1"))).one()._mapping
        reactions = (await conn.execute(select(func.count()).select_from(T_REACTION))).scalar_one()
        messages = (await conn.execute(select(func.count()).select_from(T_MESSAGE))).scalar_one()
    assert row["status"] == "resolved" and row["resolved_how"] == "reaction"
    assert row["first_response_id"] == "a1" and row["first_responder_id"] == "marc"
    assert (row["first_response_at"] - row["asked_at"]).total_seconds() == 20 * 60
    assert row["asked_at"].tzinfo is not None
    assert reactions == 1 and messages == 2
    await engine.db.dispose()

    restarted = await community(settings, at("2026-03-02 10:00"))
    question = restarted.state.question("console:test", "q1")
    assert question is not None and question.resolved and not restarted.state.unresolved
    await restarted.db.dispose()


async def test_message_text_is_not_stored_when_retention_is_zero(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, message_retention_days=0)
    engine = await community(settings, at("2026-03-02 09:00"))
    await engine.handle(message("anna", "private thoughts", at("2026-03-02 09:00"), message_id="m1"))
    async with engine.db.connect() as conn:
        assert (await conn.execute(select(T_MESSAGE.c.text))).scalar_one() is None
    await engine.db.dispose()


async def test_text_older_than_the_retention_period_is_forgotten(database_url: str) -> None:
    from bot.app.scheduler import Scheduler

    settings = make_settings(database_url, message_retention_days=30)
    engine = await community(settings, at("2026-01-01 09:00"))
    await engine.handle(message("anna", "an old message", at("2026-01-01 09:00"), message_id="old"))
    await engine.handle(message("anna", "a recent message", at("2026-02-20 09:00"), message_id="new"))
    engine.clock.set(at("2026-03-01 09:00"))  # type: ignore[attr-defined]
    await Scheduler(engine).purge_expired_text()
    async with engine.db.connect() as conn:
        texts = dict((await conn.execute(select(T_MESSAGE.c.id, T_MESSAGE.c.text))).all())
    assert texts == {"old": None, "new": "a recent message"}
    await engine.db.dispose()

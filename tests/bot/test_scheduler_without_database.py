"""When the database does not answer, the scheduler's jobs say so in one line and try again at the next tick."""

from __future__ import annotations

import logging

import pytest

from bot.app.ownership import Ownership
from bot.app.scheduler import Scheduler
from bot.settings import Settings
from storage.db import create_engine
from tests.support import at, community


async def test_an_unreachable_database_is_one_line_not_a_traceback(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    engine = await community(settings, at("2026-03-02 09:00"))
    working = engine.db
    away = create_engine("postgresql://steward@127.0.0.1:9/steward")  # nothing listens on port 9
    engine.db = away
    engine.ownership = Ownership(away)
    scheduler = Scheduler(engine)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.app.scheduler"):
            await scheduler.tend_leases()
            await scheduler.purge_expired_text()
        lines = [r for r in caplog.records if r.name == "bot.app.scheduler"]
        assert [r.levelno for r in lines] == [logging.WARNING, logging.WARNING]
        assert all("the database did not answer" in r.getMessage() for r in lines)
        assert all(r.exc_info is None for r in lines), "no traceback"
    finally:
        scheduler.shutdown()
        await away.dispose()
        await working.dispose()

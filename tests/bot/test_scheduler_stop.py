"""A stop lets the running tick finish, and nothing is decided after the engine closed."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from bot.app.scheduler import Scheduler
from bot.core.events import MessagePosted, TimePassed
from bot.settings import Settings
from tests.support import at, community


async def test_stop_lets_the_running_tick_finish(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """APScheduler's own shutdown cancels a running job; the stop waits for it first and starts no new one."""
    engine = await community(settings, at("2026-03-02 09:00"))
    scheduler = Scheduler(engine)
    entered, release = asyncio.Event(), asyncio.Event()
    runs: list[str] = []

    async def slow_tick() -> None:
        runs.append("started")
        entered.set()
        await release.wait()
        runs.append("finished")

    scheduler.scheduler.add_job(scheduler._tracked(slow_tick), "interval", seconds=0.05, id="slow",
                                next_run_time=datetime.now(UTC), max_instances=1)
    scheduler.start()
    try:
        await asyncio.wait_for(entered.wait(), timeout=5)
        stopping = asyncio.ensure_future(scheduler.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done(), "the stop waits while a tick is running"
        release.set()
        with caplog.at_level(logging.ERROR, logger="apscheduler"):
            await asyncio.wait_for(stopping, timeout=5)
            await asyncio.sleep(0.1)
        assert runs == ["started", "finished"], "finished, not cancelled, and no tick after the stop began"
        assert not [r for r in caplog.records if r.name.startswith("apscheduler")], "no job error logged"
        assert not scheduler.scheduler.running
    finally:
        release.set()
        await scheduler.stop()
        await engine.close()


async def test_a_tick_still_running_after_the_wait_is_cancelled_in_one_line(
    settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick that outlasts the stop's wait is cancelled: one warning, no job traceback from APScheduler."""
    monkeypatch.setattr("bot.app.scheduler.STOP_WAIT_SECONDS", 0.2)
    engine = await community(settings, at("2026-03-02 09:00"))
    scheduler = Scheduler(engine)
    entered = asyncio.Event()
    runs: list[str] = []

    async def stuck_tick() -> None:
        runs.append("started")
        entered.set()
        await asyncio.Event().wait()  # never set: only the stop ends this tick
        runs.append("finished")

    scheduler.scheduler.add_job(scheduler._tracked(stuck_tick), "interval", seconds=0.05, id="stuck",
                                next_run_time=datetime.now(UTC), max_instances=1)
    scheduler.start()
    try:
        await asyncio.wait_for(entered.wait(), timeout=5)
        with caplog.at_level(logging.INFO):
            await asyncio.wait_for(scheduler.stop(), timeout=5)
            await asyncio.sleep(0.1)
        assert runs == ["started"], "cancelled, not finished"
        assert any("still running at stop" in r.getMessage() for r in caplog.records), "the one warning line"
        assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelno >= logging.ERROR]
        assert not [r for r in caplog.records if r.exc_info], "no traceback"
        assert not scheduler.scheduler.running
    finally:
        await scheduler.stop()
        await engine.close()


async def test_nothing_is_decided_after_close(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 09:00"))
    await engine.close()
    late = MessagePosted(workspace="ws", at=at("2026-03-02 09:05"), channel="C1", message_id="m-late", user="U1",
                         text="How do I book the training room?")
    assert await engine.handle(late) == []
    assert await engine.handle(TimePassed(workspace="", at=at("2026-03-02 10:00"))) == []
    assert ("ws", "posted:m-late") not in engine._processed, "the late message was not taken as handled"

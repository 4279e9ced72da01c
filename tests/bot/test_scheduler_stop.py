"""A stop lets the running tick finish, and nothing is decided after the engine closed."""

from __future__ import annotations

import asyncio

from bot.app.scheduler import Scheduler
from bot.core.events import MessagePosted, TimePassed
from bot.settings import Settings
from tests.support import at, community


async def test_stop_waits_for_the_running_sweep(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 09:00"))
    scheduler = Scheduler(engine)
    entered, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def slow_sweep() -> None:
        entered.set()
        await release.wait()
        finished.append("sweep")

    job = scheduler._tracked(slow_sweep)
    running = asyncio.ensure_future(job())
    await entered.wait()
    stopping = asyncio.ensure_future(scheduler.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done(), "stop waits while a tick is running"
    release.set()
    await asyncio.wait_for(stopping, timeout=5)
    assert finished == ["sweep"] and running.done()
    await engine.close()


async def test_nothing_is_decided_after_close(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 09:00"))
    await engine.close()
    late = MessagePosted(workspace="ws", at=at("2026-03-02 09:05"), channel="C1", message_id="m-late", user="U1",
                         text="How do I book the training room?")
    assert await engine.handle(late) == []
    assert await engine.handle(TimePassed(workspace="", at=at("2026-03-02 10:00"))) == []
    assert ("ws", "posted:m-late") not in engine._processed, "the late message was not taken as handled"

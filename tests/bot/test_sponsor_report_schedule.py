"""The monthly sponsor report on the simulated clock: handed over on the first working day at 10:00 community
time, once, and never again after a restart (the month's claim is durable), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.app.engine import Engine
from bot.core.clock import SimulatedClock
from bot.core.events import TimePassed
from storage.repository import T_OUTBOX, T_WORKSPACE
from storage.sponsor_report import T_RUN
from tests.conftest import make_settings
from tests.support import WS, at, command, community, message

START = at("2026-03-02 07:00")  # Monday 08:00 in Berlin, before the February report's 10:00
APRIL_DUE = at("2026-04-01 08:00")  # Wednesday April 1, 10:00 in Berlin (summer time)


async def tick_until(engine: Engine, until: datetime) -> None:
    """The scheduler's ticks at every moment something falls due, up to `until`."""
    while (due := engine.next_due(until)) is not None and due <= until:
        engine.clock.set(due)  # type: ignore[attr-defined]
        await engine.handle(TimePassed(workspace="", at=engine.clock.now()))
    engine.clock.set(until)  # type: ignore[attr-defined]
    await engine.handle(TimePassed(workspace="", at=until))


async def reports(engine: Engine) -> list[dict[str, Any]]:
    await engine.flush()
    async with engine.db.connect() as conn:
        rows = await conn.execute(
            select(T_OUTBOX.c.key, T_OUTBOX.c.action).where(T_OUTBOX.c.key.like("sponsor-report:%"))
        )
        return [{"key": r.key, **r.action} for r in rows]


async def runs(engine: Engine) -> list[str]:
    async with engine.db.connect() as conn:
        return sorted((await conn.execute(select(T_RUN.c.month))).scalars())


async def restarted(settings: Any, moment: datetime) -> Engine:
    from bot.app.wiring import build_engine

    return await build_engine(settings, SimulatedClock(moment))


async def test_the_report_goes_out_once_and_not_again_after_a_restart(database_url: str) -> None:
    settings = make_settings(database_url, sponsor_report_channel="sponsors", steward_timezone="Europe/Berlin")
    engine = await community(settings, START)
    try:
        await engine.handle(TimePassed(workspace="", at=START))  # seen first: February's report is still ahead
        when = START + timedelta(minutes=5)
        for n in range(3):
            await engine.handle(message("ana", f"How do I book room {n} for the workshop?", when, message_id=f"q{n}"))
            await engine.handle(message("ben", "With the room finder in Outlook.", when + timedelta(minutes=2),
                                        thread=f"q{n}"))
            when += timedelta(minutes=10)
        await engine.handle(command("fran", "report note The pilot teams met twice.", when, is_admin=True))

        await tick_until(engine, APRIL_DUE - timedelta(minutes=1))
        assert await reports(engine) == [], "February had no history: claimed, not posted; March is not due yet"
        assert await runs(engine) == ["2026-02"]

        await tick_until(engine, APRIL_DUE + timedelta(minutes=1))
        [posted] = await reports(engine)
        assert posted["type"] == "post_file" and posted["key"] == "sponsor-report:2026-03"
        assert posted["channel"] == "sponsors" and posted["filename"] == "sponsor-report-2026-03.html"
        assert "The pilot teams met twice." in posted["content"] and "March 2026" in posted["text"]
        await tick_until(engine, APRIL_DUE + timedelta(days=2))
        assert len(await reports(engine)) == 1 and await runs(engine) == ["2026-02", "2026-03"]
    finally:
        await engine.db.dispose()

    again = await restarted(settings, APRIL_DUE + timedelta(hours=1))
    try:
        assert again.state.workspace(WS).settings.get("sponsor_report_month") == "2026-03", "stored, not in memory"
        assert again.next_due(APRIL_DUE + timedelta(days=60)) is not None
        await tick_until(again, APRIL_DUE + timedelta(days=2))
        assert len(await reports(again)) == 1
        # As if the process had died after claiming March but before it stored that it handed March over:
        async with again.db.begin() as conn:
            await conn.execute(T_WORKSPACE.update().where(T_WORKSPACE.c.id == WS).values(
                settings={**again.state.workspace(WS).settings, "sponsor_report_month": "2026-02"}))
    finally:
        await again.db.dispose()

    third = await restarted(settings, APRIL_DUE + timedelta(days=3))
    try:
        assert third.state.workspace(WS).settings.get("sponsor_report_month") == "2026-02"
        await tick_until(third, APRIL_DUE + timedelta(days=3, minutes=5))  # March looks due again, late
        assert len(await reports(third)) == 1, "the month's claim in the database keeps it to one post"
        assert third.state.workspace(WS).settings.get("sponsor_report_month") == "2026-03"
    finally:
        await third.db.dispose()


async def test_no_channel_no_report_and_the_command_says_so(database_url: str) -> None:
    settings = make_settings(database_url, steward_timezone="Europe/Berlin")
    engine = await community(settings, START)
    try:
        await engine.handle(message("ana", "How do I book a room?", START, message_id="q1"))
        replies = await engine.handle(command("fran", "report", START, is_admin=True))
        assert "not posted: no channel is set (SPONSOR_REPORT_CHANNEL)" in replies[0].text  # type: ignore[attr-defined]
        await tick_until(engine, APRIL_DUE + timedelta(hours=1))
        assert await reports(engine) == [] and await runs(engine) == []
    finally:
        await engine.db.dispose()

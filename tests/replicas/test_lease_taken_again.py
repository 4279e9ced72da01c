"""A busy process that renews its lease late takes it again without reloading what it knows.

Reloading a workspace's working set means reading all of it from the database. If every late renewal did that,
a process that fell behind would fall further behind with each write (each flush found its lease "not held" and
reloaded), until the events waiting for it piled up in the inbox. Only a lease that another process held since
(or nobody) is new to this one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app.engine import Engine
from bot.app.ownership import Ownership, Taken
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from storage import leases
from storage.leases import LeaseLost
from tests.conftest import make_settings
from tests.support import WS, LeaseClock, at, message

pytestmark = pytest.mark.postgres

TTL = timedelta(seconds=30)


def questions(engine: Engine) -> set[str]:
    return {question for workspace, question in engine.state.questions if workspace == WS}


async def test_taking_a_lease_tells_kept_from_new(database_url: str) -> None:
    settings = make_settings(database_url)
    engine = await build_engine(settings, SimulatedClock(at("2026-03-02 09:00")))
    wall = LeaseClock()
    first = Ownership(engine.db, owner="r1", ttl=TTL, now=wall.now)
    second = Ownership(engine.db, owner="r2", ttl=TTL, now=wall.now)
    try:
        assert await first.take(WS) is Taken.NEW, "nobody held it"
        assert await first.take(WS) is Taken.KEPT, "renewed in time"
        assert await second.take(WS) is Taken.REFUSED, "first holds it"
        assert not await second.take(WS), "refused is false"

        wall.moment += TTL * 2  # first stalled: its lease ran out, but nobody took it
        assert await first.take(WS) is Taken.KEPT, "still first's: nothing to load again"

        wall.moment += TTL * 2  # first stalled again, and this time second takes over
        assert await second.take(WS) is Taken.NEW
        wall.moment += TTL * 2  # second dies; first comes back
        assert await first.take(WS) is Taken.NEW, "second decided meanwhile: first must load what it wrote"
    finally:
        await engine.close()


async def test_a_late_renewal_does_not_reload_the_working_set(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(database_url)
    wall = LeaseClock()
    ownership = Ownership(owner="r1", ttl=TTL, now=wall.now)
    engine = await build_engine(settings, SimulatedClock(at("2026-03-02 09:00")), ownership=ownership)
    reloads: list[str] = []
    reload = engine._reload

    async def counting_reload(workspace: str) -> None:
        reloads.append(workspace)
        await reload(workspace)

    monkeypatch.setattr(engine, "_reload", counting_reload)
    try:
        await engine.handle(message("nina", "How do I get SAP access?", at("2026-03-02 09:00"), message_id="q1"))
        assert reloads == [WS], "the first event takes the lease and loads the workspace"
        assert "q1" in questions(engine)

        wall.moment += TTL * 2  # the process was busy: it renews late, and nobody else took the workspace
        assert not ownership.holds(WS)
        await engine.handle(message("tom", "Who runs the SAP key-user training?", at("2026-03-02 09:05"),
                                    message_id="q2"))
        assert reloads == [WS], "taken again, not loaded again"
        assert ownership.holds(WS)
        assert {"q1", "q2"} <= questions(engine), "both decided, by this process"
    finally:
        await engine.close()


async def test_a_lease_lost_while_catching_up_hands_the_event_over(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taking a workspace first handles what waits in its inbox; when the lease is lost meanwhile (the process
    stalled and another took over), the event that led here waits in the inbox too, with no traceback."""
    settings = make_settings(database_url)
    ownership = Ownership(owner="r1", ttl=TTL, now=LeaseClock().now)
    engine = await build_engine(settings, SimulatedClock(at("2026-03-02 09:00")), ownership=ownership)

    async def lost_meanwhile() -> None:
        raise LeaseLost([WS])

    monkeypatch.setattr(engine, "_drain_inbox", lost_meanwhile)
    try:
        replies = await engine.handle(message("nina", "How do I get SAP access?", at("2026-03-02 09:00"),
                                              message_id="q1"))
        assert replies == []
        async with engine.db.connect() as conn:
            waiting = await leases.waiting(conn, None)
        assert [row["event"]["message_id"] for row in waiting] == ["q1"], "left for the owner, not lost"
        assert "q1" not in questions(engine), "not decided here"
    finally:
        await engine.close()

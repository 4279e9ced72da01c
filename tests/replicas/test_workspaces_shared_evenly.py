"""Replicas share the workspaces evenly: each holds at most its share, and what changes hands is decided once.

The first process to start takes every workspace. When more join, it gives up what is beyond its share (the
workspaces divided by the live processes, rounded up): it writes what it decided, stops deciding and sending
for them, and hands the leases back; the others take them, load them from the database and go on. A workspace
is never handed back while one of its sends is under way, and the process that gave it up does not take it
again at once.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app.engine import Engine
from bot.app.ownership import Ownership, Taken
from bot.app.replay import run_due_work
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from storage import leases
from storage.repository import T_OUTBOX
from tests.conftest import make_settings
from tests.support import LeaseClock, at, message

pytestmark = pytest.mark.postgres

TTL = timedelta(seconds=30)
WORKSPACES = [f"console:team{n}" for n in range(6)]


async def replica(postgres_url: str, owner: str, wall: LeaseClock) -> Engine:
    settings = make_settings(postgres_url, steward_timezone="Europe/Berlin")
    ownership = Ownership(owner=owner, ttl=TTL, now=wall.now)
    return await build_engine(settings, SimulatedClock(at("2026-03-02 07:00")), ownership=ownership)


def held(*engines: Engine) -> list[int]:
    return [len(e.ownership.held) for e in engines if e.ownership is not None]


async def tend(*engines: Engine, wall: LeaseClock) -> None:
    """One round of every replica, a third of a lease apart (as the scheduler runs them)."""
    for engine in engines:
        await engine.tend_leases()
        wall.moment += TTL / 3


async def outbox_keys(engine: Engine) -> list[str]:
    async with engine.db.connect() as conn:
        return [row.key for row in await conn.execute(select(T_OUTBOX.c.key).order_by(T_OUTBOX.c.id))]


async def test_a_replica_that_joins_gets_its_share_and_each_question_is_decided_once(postgres_url: str) -> None:
    wall = LeaseClock()
    first = await replica(postgres_url, "r1", wall)
    engines = [first]
    try:
        for n, workspace in enumerate(WORKSPACES):  # one open question in each workspace, all decided by `first`
            await first.handle(message("nina", "How do I get SAP access for the test system?",
                                       at("2026-03-02 08:00"), message_id=f"q{n}", ws=workspace))
        await tend(first, wall=wall)
        assert held(first) == [6], "alone, it decides for every workspace"

        engines += [await replica(postgres_url, "r2", wall), await replica(postgres_url, "r3", wall)]
        for _ in range(4):
            await tend(*engines, wall=wall)
        assert held(*engines) == [2, 2, 2]
        owners = [set(e.ownership.held) for e in engines if e.ownership is not None]
        assert set().union(*owners) == set(WORKSPACES), "every workspace has exactly one owner"

        # An answer reaches the first replica for a workspace it gave up: it goes to the new owner, in order.
        moved = next(w for w in WORKSPACES if w not in first.ownership.held)  # type: ignore[union-attr]
        answered = f"q{WORKSPACES.index(moved)}"
        await first.handle(message("marc", "Request the SAP role in the access portal.", at("2026-03-02 08:20"),
                                   thread=answered, ws=moved))
        await tend(*engines, wall=wall)

        later = at("2026-03-03 12:00")
        for engine in engines:
            await run_due_work(engine, until=later)
        flags = Counter(key.split(":")[1] for key in await outbox_keys(first) if key.startswith("flag:"))
        assert flags == Counter({f"q{n}": 1 for n, w in enumerate(WORKSPACES) if w != moved}), (
            "every unanswered question flagged once, by whoever decides for its workspace; the answered one never"
        )
    finally:
        for engine in engines:
            await engine.close()


async def test_a_clean_stop_gives_the_stopped_replicas_share_to_the_others(postgres_url: str) -> None:
    wall = LeaseClock()
    engines = [await replica(postgres_url, f"r{n}", wall) for n in range(3)]
    try:
        for n, workspace in enumerate(WORKSPACES):
            await engines[n % 3].handle(message("nina", "Where is the Teams licence form?", at("2026-03-02 08:00"),
                                                 message_id=f"q{n}", ws=workspace))
        for _ in range(3):
            await tend(*engines, wall=wall)
        assert held(*engines) == [2, 2, 2]

        stopped = engines.pop()
        await stopped.close()  # gives its leases back and says it is gone
        for _ in range(3):
            await tend(*engines, wall=wall)
        assert held(*engines) == [3, 3]
    finally:
        for engine in engines:
            await engine.close()


async def test_a_dead_replica_counts_until_its_announcement_expires_and_then_its_share_moves(
    postgres_url: str,
) -> None:
    wall = LeaseClock()
    engines = [await replica(postgres_url, f"r{n}", wall) for n in range(3)]
    dead = engines.pop()
    try:
        for n, workspace in enumerate(WORKSPACES):
            await [*engines, dead][n % 3].handle(message("nina", "Where is the Teams licence form?",
                                                            at("2026-03-02 08:00"), message_id=f"q{n}", ws=workspace))
        for _ in range(3):
            await tend(*engines, dead, wall=wall)
        assert held(*engines, dead) == [2, 2, 2]

        # `dead` stops without a word: its leases still run, so for now nobody takes its workspaces.
        await tend(*engines, wall=wall)
        assert held(*engines) == [2, 2]
        wall.moment += TTL
        for _ in range(2):
            await tend(*engines, wall=wall)
        assert held(*engines) == [3, 3], "its announcement and its leases ran out together: the two take its share"
        async with engines[0].db.connect() as conn:
            announced = {row.owner for row in await conn.execute(select(leases.T_REPLICA.c.owner))}
        assert announced == {"r0", "r1"}, "a dead replica's announcement is cleared away once it ran out"
    finally:
        for engine in engines:
            await engine.close()
        await dead.db.dispose()


async def test_a_workspace_is_not_handed_back_during_one_of_its_sends(postgres_url: str) -> None:
    wall = LeaseClock()
    engine = await replica(postgres_url, "r1", wall)
    ownership = engine.ownership
    assert ownership is not None
    try:
        for workspace in WORKSPACES[:2]:
            assert await ownership.take(workspace) is Taken.NEW
        with ownership.sending(WORKSPACES[0]):
            ownership.leave(WORKSPACES[0])
            ownership.leave(WORKSPACES[1])
            assert not ownership.holds(WORKSPACES[0]), "nothing more is decided or sent for it"
            assert await ownership.let_go() == [WORKSPACES[1]], "the send under way keeps the first one's lease"
            assert await ownership.renew() == set(), "and it is renewed meanwhile"
        assert await ownership.let_go() == [WORKSPACES[0]]
        assert await ownership.take(WORKSPACES[0]) is Taken.REFUSED, "not taken back at once: another should"

        wall.moment += TTL * 2
        other = Ownership(engine.db, owner="r2", ttl=TTL, now=wall.now)
        assert await other.take(WORKSPACES[1]) is Taken.NEW
        assert await ownership.take(WORKSPACES[0]) is Taken.NEW, "nobody did: after a lease's length it may"
    finally:
        await engine.close()


async def test_a_replica_at_its_share_leaves_a_new_workspace_to_one_with_room(postgres_url: str) -> None:
    wall = LeaseClock()
    busy, idle = await replica(postgres_url, "r1", wall), await replica(postgres_url, "r2", wall)
    try:
        for n, workspace in enumerate(WORKSPACES[:2]):
            await busy.handle(message("nina", "How do I book a room?", at("2026-03-02 08:00"), message_id=f"q{n}",
                                      ws=workspace))
        await tend(busy, idle, wall=wall)
        await tend(busy, idle, wall=wall)
        assert held(busy, idle) == [1, 1]

        newcomer = WORKSPACES[2]
        mine = set(busy.ownership.held)  # type: ignore[union-attr]
        await busy.handle(message("ida", "Who runs the SAP key-user training?", at("2026-03-02 08:10"),
                                  message_id="q9", ws=newcomer))
        assert set(busy.ownership.held) == mine, "at its share: handed on through the inbox"  # type: ignore[union-attr]
        await tend(idle, wall=wall)
        assert newcomer in idle.ownership.held  # type: ignore[union-attr]
        assert ("console:team2", "q9") in idle.state.questions, "taken from the inbox by the one with room"
    finally:
        await busy.close()
        await idle.close()

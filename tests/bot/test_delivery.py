"""The delivery worker: sends due rows once, honours Retry-After, retries with backoff, then gives up loudly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app.delivery import DeliveryWorker, PermanentFailure, RefLookup, RetryLater
from bot.app.engine import Engine
from bot.app.ownership import Ownership
from bot.core.actions import Action, PostMessage
from bot.core.clock import SimulatedClock
from bot.settings import Settings
from storage.repository import T_OUTBOX
from tests.support import LeaseClock, at, community


class FakePlatform:
    """A sender whose failures are scripted: each entry is raised once, then sends succeed."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.sent: list[Action] = []

    def handles(self, workspace: str) -> bool:
        return True

    async def send(self, action: Action, refs: RefLookup) -> str | None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(action)
        return f"ts-{len(self.sent)}"


def post(key: str) -> PostMessage:
    return PostMessage(key=key, workspace="console:test", channel="help", text=f"text {key}")


async def queue(engine: Engine, *actions: Action) -> None:
    engine._enqueue(actions, engine.clock.now())
    await engine.flush()


async def rows(engine: Engine) -> list[dict[str, object]]:
    async with engine.db.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(T_OUTBOX).order_by(T_OUTBOX.c.id))]


@pytest.fixture
async def engine(settings: Settings):  # type: ignore[no-untyped-def]
    engine = await community(settings, at("2026-03-02 09:00"), rules=[])
    yield engine
    await engine.db.dispose()


async def test_due_rows_are_sent_once_and_marked_sent(engine: Engine) -> None:
    platform = FakePlatform()
    worker = DeliveryWorker(engine.db, [platform], engine.clock)
    await queue(engine, post("a"), post("b"))
    assert await worker.run_once() == 2
    assert await worker.run_once() == 0, "sent rows are not sent again"
    assert [a.key for a in platform.sent] == ["a", "b"]
    assert [(r["status"], r["platform_ref"]) for r in await rows(engine)] == [("sent", "ts-1"), ("sent", "ts-2")]


async def test_retry_after_delays_without_losing_or_counting_an_attempt(engine: Engine) -> None:
    clock = engine.clock
    assert isinstance(clock, SimulatedClock)
    platform = FakePlatform(RetryLater(30))
    worker = DeliveryWorker(engine.db, [platform], clock)
    await queue(engine, post("a"))
    await worker.run_once()
    [row] = await rows(engine)
    assert row["status"] == "pending" and row["attempts"] == 0
    assert row["due_at"] == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    assert await worker.run_once() == 0, "not before Retry-After has passed"
    clock.advance(timedelta(seconds=2))
    assert await worker.run_once() == 1
    assert [a.key for a in platform.sent] == ["a"]


async def test_errors_are_retried_with_backoff_then_marked_failed(engine: Engine) -> None:
    clock = engine.clock
    assert isinstance(clock, SimulatedClock)
    platform = FakePlatform(*(ConnectionError("network down") for _ in range(3)))
    worker = DeliveryWorker(engine.db, [platform], clock, max_attempts=3, base_backoff=10)
    await queue(engine, post("a"))
    delays = []
    for _ in range(3):
        before = clock.now()
        await worker.run_once()
        [row] = await rows(engine)
        if row["status"] == "failed":
            break
        delays.append((row["due_at"] - before).total_seconds())  # type: ignore[operator]
        clock.set(row["due_at"])  # type: ignore[arg-type]
    assert row["status"] == "failed" and row["attempts"] == 3
    assert "network down" in str(row["last_error"])
    assert 10 <= delays[0] < delays[1], "backoff grows"
    assert platform.sent == []


async def test_a_permanent_failure_is_not_retried(engine: Engine) -> None:
    platform = FakePlatform(PermanentFailure("channel_not_found"))
    worker = DeliveryWorker(engine.db, [platform], engine.clock)
    await queue(engine, post("a"))
    await worker.run_once()
    [row] = await rows(engine)
    assert row["status"] == "failed" and row["last_error"] == "channel_not_found"


async def test_a_crash_while_sending_is_picked_up_after_the_lease(engine: Engine) -> None:
    clock = engine.clock
    assert isinstance(clock, SimulatedClock)
    crashed = DeliveryWorker(engine.db, [FakePlatform()], clock)
    await queue(engine, post("a"))
    claimed = await crashed._claim()  # claimed, then the process died before sending
    assert len(claimed) == 1
    platform = FakePlatform()
    worker = DeliveryWorker(engine.db, [platform], clock)
    assert await worker.run_once() == 0, "another worker leaves a leased row alone"
    clock.advance(timedelta(minutes=3))
    assert await worker.run_once() == 1
    assert [a.key for a in platform.sent] == ["a"]


async def test_the_same_decision_twice_is_one_row(engine: Engine) -> None:
    await queue(engine, post("a"), post("a"))
    await queue(engine, post("a"))
    assert len(await rows(engine)) == 1


async def test_two_workers_sharing_a_database_send_every_row_exactly_once(database_url: str) -> None:
    import asyncio

    from tests.conftest import make_settings

    engine = await community(make_settings(database_url), at("2026-03-02 09:00"), rules=[])
    await queue(engine, *(post(f"k{n}") for n in range(30)))
    first, second = FakePlatform(), FakePlatform()
    workers = [DeliveryWorker(engine.db, [p], engine.clock, batch=5) for p in (first, second)]

    async def drain(worker: DeliveryWorker) -> None:
        while await worker.run_once():
            await asyncio.sleep(0)

    await asyncio.gather(*(drain(w) for w in workers))
    keys = [a.key for a in first.sent + second.sent]
    assert sorted(keys) == sorted(f"k{n}" for n in range(30))
    assert all(r["status"] == "sent" for r in await rows(engine))
    await engine.db.dispose()


async def test_a_process_unsure_of_its_lease_hands_claimed_rows_back_unsent(engine: Engine) -> None:
    """A process that stalled past its lease renewal may have lost the workspace to another one, which then sends
    the same rows: so it sends nothing until it holds the lease again, and its claims go back unspent."""
    wall = LeaseClock()
    ownership = Ownership(engine.db, owner="r1", ttl=timedelta(seconds=30), now=wall.now)
    assert await ownership.take("console:test")
    platform = FakePlatform()
    worker = DeliveryWorker(engine.db, [platform], engine.clock, ownership=ownership)
    await queue(engine, post("a"), post("b"))

    wall.moment += timedelta(seconds=25)  # the renewal is late: the lease may run out any moment
    assert await worker.run_once() == 2, "claimed"
    assert platform.sent == [], "but nothing sent"
    assert [(r["status"], r["attempts"], r["claimed_until"]) for r in await rows(engine)] == [
        ("pending", 0, None), ("pending", 0, None)
    ], "handed back at once, no attempt counted"

    assert await ownership.take("console:test"), "renewed (nobody took it meanwhile)"
    assert await worker.run_once() == 2
    assert [a.key for a in platform.sent] == ["a", "b"], "sent once the lease is sure again"


async def test_a_send_under_way_keeps_its_workspace_lease_until_it_ends(engine: Engine) -> None:
    """A process giving a workspace up (another replica joined) hands its lease back only once no send of it is
    under way: the new holder, finding the row unfinished, would send it again."""
    ownership = Ownership(engine.db, owner="r1", ttl=timedelta(seconds=30), now=LeaseClock().now)
    assert await ownership.take("console:test")
    handed_back_during_the_send: list[list[str]] = []

    class GivingUpMidSend(FakePlatform):
        async def send(self, action: Action, refs: RefLookup) -> str | None:
            ownership.leave("console:test")
            handed_back_during_the_send.append(await ownership.let_go())
            return await super().send(action, refs)

    platform = GivingUpMidSend()
    worker = DeliveryWorker(engine.db, [platform], engine.clock, ownership=ownership)
    await queue(engine, post("a"))
    assert await worker.run_once() == 1
    assert [a.key for a in platform.sent] == ["a"]
    assert handed_back_during_the_send == [[]], "the lease stays while its send is under way"
    assert await ownership.let_go() == ["console:test"], "and goes back once it has ended"

"""The delivery worker under platform faults: rate limits hold a workspace back, a send cut short is looked up
before it is repeated, and a channel Steward cannot post in is told to the facilitators exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app.delivery import (
    ChannelUnreachable,
    DeliveryWorker,
    RefLookup,
    RetryLater,
    TemporaryFailure,
    describe,
)
from bot.app.engine import Engine
from bot.core.actions import Action, PostMessage, SendDirectMessage
from bot.core.clock import SimulatedClock
from bot.i18n import translate
from bot.settings import Settings
from storage.repository import T_OUTBOX, unreachable_channels
from tests.support import at, community

WS, OTHER = "console:test", "console:other"


class Platform:
    """A sender whose answers are scripted per action key: an exception raised once each, else sent."""

    def __init__(self, workspace: str = WS, **failures: list[Exception]) -> None:
        self.workspace = workspace
        self.failures = {key: list(errors) for key, errors in failures.items()}
        self.sent: list[Action] = []
        self.tried: list[str] = []
        self.delivered_before: dict[str, str] = {}  # key -> ref an earlier attempt delivered
        self.looked_up: list[str] = []
        self.during_send: list[object] = []

    def handles(self, workspace: str) -> bool:
        return workspace == self.workspace

    async def send(self, action: Action, refs: RefLookup) -> str | None:
        self.tried.append(action.key)
        for hook in self.during_send:
            hook()  # type: ignore[operator]
        errors = self.failures.get(action.key) or self.failures.get("*")
        if errors:
            raise errors.pop(0)
        self.sent.append(action)
        return f"ref-{action.key}"

    async def find_delivered(self, action: Action, since: datetime) -> str | None:
        self.looked_up.append(action.key)
        return self.delivered_before.get(action.key)


def post(key: str, channel: str = "help", workspace: str = WS) -> PostMessage:
    return PostMessage(key=key, workspace=workspace, channel=channel, text=f"text {key}")


async def queue(engine: Engine, *actions: Action) -> None:
    engine._enqueue(actions, engine.clock.now())
    await engine.flush()


async def rows(engine: Engine) -> dict[str, dict[str, object]]:
    async with engine.db.connect() as conn:
        return {r.key: dict(r._mapping) for r in await conn.execute(select(T_OUTBOX).order_by(T_OUTBOX.c.id))}


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    engine = await community(settings, at("2026-03-02 09:00"), rules=[])
    yield engine
    await engine.db.dispose()


def clock_of(engine: Engine) -> SimulatedClock:
    assert isinstance(engine.clock, SimulatedClock)
    return engine.clock


def test_a_fault_is_described_in_one_line_even_without_a_message() -> None:
    assert describe(TimeoutError()) == "TimeoutError"
    assert describe(RuntimeError("first line\nsecond line")) == "first line"


async def test_after_a_429_the_workspaces_other_rows_wait_without_a_call(engine: Engine) -> None:
    mine = Platform(a=[RetryLater(30)])
    other = Platform(OTHER)
    worker = DeliveryWorker(engine.db, [mine, other], engine.clock)
    await queue(engine, post("a"), post("b"), post("x", workspace=OTHER), post("c"))
    assert await worker.run_once() == 4
    assert mine.tried == ["a"], "b and c are held back: they would only be refused too"
    assert [a.key for a in other.sent] == ["x"], "another workspace is not held back"
    due = {k: r["due_at"] for k, r in (await rows(engine)).items() if r["status"] == "pending"}
    assert due == {key: at("2026-03-02 09:00:30") for key in "abc"}
    assert all(r["attempts"] == 0 for r in (await rows(engine)).values() if r["status"] == "pending")
    clock_of(engine).advance(timedelta(seconds=30))
    await worker.run_once()
    assert [a.key for a in mine.sent] == ["a", "b", "c"]


async def test_a_row_left_sending_by_a_stopped_worker_is_looked_up_before_it_is_sent_again(engine: Engine) -> None:
    clock = clock_of(engine)
    await queue(engine, post("a"), post("b"))
    stopped = DeliveryWorker(engine.db, [Platform()], clock)
    assert len(await stopped._claim()) == 2  # then the process died, perhaps after the platform had posted "a"
    platform = Platform()
    platform.delivered_before["a"] = "ref-from-before"
    worker = DeliveryWorker(engine.db, [platform], clock)
    clock.advance(timedelta(minutes=3))
    assert await worker.run_once() == 2
    assert platform.looked_up == ["a", "b"], "the crashed attempt counts: both are looked up"
    assert [a.key for a in platform.sent] == ["b"], "a was posted already; only b is sent"
    stored = await rows(engine)
    assert stored["a"]["platform_ref"] == "ref-from-before" and stored["a"]["status"] == "sent"
    assert stored["a"]["attempts"] == 2


async def test_a_row_whose_worker_keeps_dying_is_given_up(engine: Engine) -> None:
    clock = clock_of(engine)
    await queue(engine, post("a"))
    for _ in range(3):
        await DeliveryWorker(engine.db, [Platform()], clock)._claim()
        clock.advance(timedelta(minutes=3))
    platform = Platform()
    await DeliveryWorker(engine.db, [platform], clock, max_attempts=3).run_once()
    assert (await rows(engine))["a"]["status"] == "failed" and platform.tried == []


async def test_a_temporary_failure_is_looked_up_on_the_retry(engine: Engine) -> None:
    clock = clock_of(engine)
    platform = Platform(a=[TemporaryFailure("no answer within 30 s")])
    worker = DeliveryWorker(engine.db, [platform], clock)
    await queue(engine, post("a"))
    await worker.run_once()
    assert platform.looked_up == [] and (await rows(engine))["a"]["attempts"] == 1
    platform.delivered_before["a"] = "ref-late"
    clock.advance(timedelta(minutes=1))
    await worker.run_once()
    assert platform.looked_up == ["a"] and platform.sent == []
    assert (await rows(engine))["a"]["platform_ref"] == "ref-late"


async def test_rows_whose_lease_ran_out_while_others_were_sent_are_left_alone(engine: Engine) -> None:
    clock = clock_of(engine)
    platform = Platform()
    platform.during_send.append(lambda: clock.advance(timedelta(minutes=1, seconds=30)))  # a slow platform
    worker = DeliveryWorker(engine.db, [platform], clock, lease=timedelta(minutes=2))
    await queue(engine, post("a"), post("b"), post("c"))
    await worker.run_once()
    assert platform.tried == ["a", "b"], "c's lease had run out: another worker may be sending it"
    assert (await rows(engine))["c"]["status"] == "sending"


async def test_an_unreachable_channel_is_told_to_the_facilitators_once(engine: Engine) -> None:
    clock = clock_of(engine)
    removed = [ChannelUnreachable("help", "removed", "chat.postMessage: not_in_channel") for _ in range(3)]
    platform = Platform(a=removed[:1], b=removed[1:2], c=removed[2:])
    worker = DeliveryWorker(engine.db, [platform], clock)
    await queue(engine, post("a"), post("b"), SendDirectMessage(key="dm", workspace=WS, user="anna", text="hi"))
    while await worker.run_once():
        pass
    stored = await rows(engine)
    notice_key = f"unreachable:help:{int(clock.now().timestamp())}"
    assert [k for k in stored if k.startswith("unreachable:")] == [notice_key]
    assert stored["a"]["status"] == stored["b"]["status"] == "failed" and stored[notice_key]["status"] == "sent"
    [notice] = [a for a in platform.sent if a.key == notice_key]
    assert isinstance(notice, PostMessage) and notice.channel == "facilitators"
    assert notice.text == translate("delivery.unreachable.removed", "en", channel="#help")

    await queue(engine, post("c"))
    await worker.run_once()
    assert len([k for k in await rows(engine) if k.startswith("unreachable:")]) == 1, "no news the second time"

    # Back in the channel: a post gets through, the fact goes, and a later removal is news again.
    await queue(engine, post("d"))
    await worker.run_once()
    async with engine.db.connect() as conn:
        assert await unreachable_channels(conn, WS) == []
    platform.failures["e"] = [ChannelUnreachable("help", "gone")]
    clock.advance(timedelta(days=1))
    await queue(engine, post("e"))
    while await worker.run_once():
        pass
    assert len([k for k in await rows(engine) if k.startswith("unreachable:")]) == 2


async def test_the_notice_is_in_the_workspaces_language_or_the_configured_one(engine: Engine) -> None:
    workspace = engine.state.workspace(WS)
    workspace.language = "de"
    engine.state.touch_workspace(workspace)
    platform = Platform(a=[ChannelUnreachable("C42", "archived")])
    worker = DeliveryWorker(engine.db, [platform], engine.clock, language="en")
    await queue(engine, post("a", channel="C42"))
    while await worker.run_once():
        pass
    [notice] = [a for a in platform.sent if a.key.startswith("unreachable:")]
    assert notice.text == translate("delivery.unreachable.archived", "de", channel="<#C42>")  # type: ignore[attr-defined]


async def test_a_facilitators_channel_named_otherwise_is_recognised_and_never_loops(engine: Engine) -> None:
    def removed() -> list[Exception]:
        return [ChannelUnreachable("help", "removed")]

    gone: list[Exception] = [ChannelUnreachable("moderation", "gone")]
    platform = Platform(**{"a": removed(), "escalate:1": list(gone), "b": removed(), "c": removed(), "*": gone})
    worker = DeliveryWorker(engine.db, [platform], engine.clock, facilitators_channel="#moderation")
    await queue(engine, post("a"), post("escalate:1", channel="moderation"), post("b"), post("c"))
    rounds = 0
    while await worker.run_once():
        rounds += 1
        assert rounds < 5
    stored = await rows(engine)
    assert {r["status"] for r in stored.values()} == {"failed"}
    assert len(platform.tried) == 5, "a, the escalation, b, c and one notice: nothing is tried twice"
    async with engine.db.connect() as conn:
        assert {c["channel_id"] for c in await unreachable_channels(conn, WS)} == {"help", "moderation"}


async def test_two_workers_failing_one_channel_at_once_tell_the_facilitators_once(database_url: str) -> None:
    from tests.conftest import make_settings

    engine = await community(make_settings(database_url), at("2026-03-02 09:00"), rules=[])
    try:
        await queue(engine, *(post(f"k{n}") for n in range(12)))
        platforms = [Platform(**{"*": [ChannelUnreachable("help", "removed") for _ in range(12)]}) for _ in "ab"]
        workers = [DeliveryWorker(engine.db, [p], engine.clock, batch=2) for p in platforms]

        async def drain(worker: DeliveryWorker) -> None:
            while await worker.run_once():
                await asyncio.sleep(0)

        await asyncio.gather(*(drain(w) for w in workers))
        stored = await rows(engine)
        assert len([k for k in stored if k.startswith("unreachable:")]) == 1
        assert sum(len(p.tried) for p in platforms) == 12 + 1, "every row tried once, the notice once"
    finally:
        await engine.db.dispose()

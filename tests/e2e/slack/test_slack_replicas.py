"""Two Steward replicas, each a real slack-bolt app on its own Socket Mode connection, share one PostgreSQL
database. Slack spreads the events over both connections; the replica holding the workspace's lease decides,
the other hands events over through the inbox. The owner then crashes; the other takes the workspace over.
What reaches Slack: every flag once, none about an answered question.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.slack.adapter import SlackAdapter
from bot.app.delivery import DeliveryWorker
from bot.app.engine import Engine
from bot.app.ownership import Ownership
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.core.events import TimePassed
from tests.conftest import make_settings
from tests.e2e.slack.fake_slack import TEAM, FakeSlack, wait_for
from tests.support import LeaseClock

pytestmark = pytest.mark.postgres

WS = f"slack:{TEAM}"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning


@dataclass
class Replica:
    engine: Engine
    clock: SimulatedClock
    adapter: SlackAdapter
    worker: DeliveryWorker
    connection: int


async def start_replica(settings: Any, clock: SimulatedClock, wall: LeaseClock, name: str, connection: int) -> Replica:
    engine = await build_engine(settings, clock, ownership=Ownership(owner=name, now=wall.now))
    adapter = SlackAdapter(settings, engine, send_interval=0, connect_timeout=5)
    worker = DeliveryWorker(engine.db, [adapter.sender], clock)
    await adapter.start()
    return Replica(engine, clock, adapter, worker, connection)


async def test_two_replicas_and_a_crash_post_every_flag_once(postgres_url: str) -> None:
    fake = FakeSlack()
    await fake.start()
    settings = make_settings(
        postgres_url,
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-1-test",
        slack_api_url=fake.api_url,
        steward_timezone="Europe/Berlin",
    )
    wall, clock = LeaseClock(), SimulatedClock(START)  # one simulated time for both replicas
    first = await start_replica(settings, clock, wall, "first", 0)
    await wait_for(lambda: fake.connected)
    second = await start_replica(settings, clock, wall, "second", 1)
    replicas = [first, second]
    counter = iter(range(1, 1000))

    async def post(replica: Replica, user: str, text: str, thread: str | None = None) -> str:
        clock.advance(timedelta(minutes=1))
        ts = f"{clock.now().timestamp():.6f}"
        event = {"type": "message", "channel": "C1", "user": user, "text": text, "ts": ts, "event_ts": ts,
                 "channel_type": "channel"}
        if thread:
            event["thread_ts"] = thread
        payload = {"token": "t", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback", "event": event,
                   "event_id": f"Ev{next(counter)}", "event_time": int(clock.now().timestamp())}
        envelope = await fake.push("events_api", payload, connection=replica.connection)
        await wait_for(lambda: fake.acked(envelope))
        await settle(ts)
        return ts

    async def settle(ts: str) -> None:
        """Tend the leases, as each replica's scheduler does, until some replica has taken the message in.

        The ack comes before the event is handled, so a non-owner may hand it over only after a first round.
        """
        deadline = time.monotonic() + 10.0
        while not any((WS, ts) in r.engine.state.messages for r in replicas):
            assert time.monotonic() < deadline, f"message {ts} never reached its owner"
            for each in replicas:
                await each.engine.tend_leases()  # the owner takes what the other handed over
            await asyncio.sleep(0.01)

    async def let_time_pass(span: timedelta) -> None:
        until = clock.now() + span
        for each in replicas:
            while (due := each.engine.next_due(until)) is not None and due <= until:
                clock.set(due)
                await each.engine.handle(TimePassed(workspace="", at=max(due, clock.now())))
        clock.set(until)
        for each in replicas:
            await each.worker.run_once()

    def flags() -> list[str]:
        return [p["thread_ts"] for p in fake.calls_to("chat.postMessage") if p.get("thread_ts")]

    try:
        await post(first, "UERIN", "Good morning, all")  # whoever sees the workspace first takes it
        [owner] = [r for r in replicas if r.engine.ownership is not None and r.engine.ownership.held == [WS]]
        [other] = [r for r in replicas if r is not owner]

        answered = await post(other, "UCAROL", "How do I get access to the SAP sandbox system?")
        await post(owner, "UBOB", "Request it in the service portal, under SAP roles.", thread=answered)
        clock.advance(timedelta(days=1))  # a new conversation, not a follow-up to the one before
        waiting = await post(other, "UALICE", "Does anyone know who runs the Jira training?")
        assert other.engine.state.questions == {}, "the replica without the lease only handed events on"
        await let_time_pass(timedelta(hours=5))
        assert flags() == [waiting]

        # The owner crashes: no clean stop, its lease runs out, the other replica takes over.
        await owner.adapter.stop()
        await owner.engine.db.dispose()
        replicas.remove(owner)
        wall.moment += timedelta(minutes=1)
        clock.advance(timedelta(days=1))
        later = await post(other, "UDAN", "Where can I find the Confluence training slides?")
        assert other.engine.ownership is not None and other.engine.ownership.held == [WS]
        await post(other, "UCAROL", "Is the SAP sandbox down today?", thread=answered)
        await let_time_pass(timedelta(hours=24))  # asked late in the afternoon: due the next morning
        assert flags() == [waiting, later], "every flag once, none for the answered question"
    finally:
        for each in replicas:
            await each.adapter.stop()
            await each.engine.close()
        await fake.close()

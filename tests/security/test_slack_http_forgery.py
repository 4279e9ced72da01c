"""Slack HTTP mode against forged requests: the real server on loopback, the real slack-bolt app behind it.

A thousand generated forgeries (wrong or damaged signatures, stale, future and non-integer timestamps,
altered, damaged, truncated and oversized bodies, missing headers, replays) are all refused with a 4xx and one
log line each, none reaches the engine and nothing logs a traceback; genuine signed requests still work.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.adapter import SlackAdapter
from adapters.slack.http_server import SeenSignatures
from bot.app.engine import Engine
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.core.events import CommandInvoked, Event, MessagePosted
from tests.conftest import make_settings
from tests.e2e.slack.fake_slack import FakeSlack, wait_for
from tests.security.slack_http import SECRET, Forger, Raw, command_body, event_body, send, signed

FORGERIES = 1000
GUARD_LOGGER = "adapters.slack.http_server"


@dataclass
class Server:
    fake: FakeSlack
    engine: Engine
    adapter: SlackAdapter
    handled: list[Event]

    @property
    def port(self) -> int:
        assert self.adapter.http_port is not None
        return self.adapter.http_port

    def posted(self) -> list[str]:
        return [e.text for e in self.handled if isinstance(e, MessagePosted)]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    fake = FakeSlack()
    await fake.start()
    settings = make_settings(
        f"sqlite:///{tmp_path}/steward.db", slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
        slack_api_url=fake.api_url, slack_mode="http", slack_http_port=0,
    )
    engine = await build_engine(settings, SimulatedClock(datetime.now(UTC)))
    handled: list[Event] = []
    busy = [0]
    original = engine.handle

    async def spy(event: Event) -> Any:
        handled.append(event)
        busy[0] += 1
        try:
            return await original(event)
        finally:
            busy[0] -= 1

    engine.handle = spy  # type: ignore[method-assign]
    adapter = SlackAdapter(settings, engine, send_interval=0)
    try:
        await adapter.start()
        yield Server(fake, engine, adapter, handled)
    finally:
        await adapter.stop()
        await wait_for(lambda: busy[0] == 0 and not adapter._lock.locked())  # requests acked, still being handled
        await engine.close()
        await fake.close()


async def test_a_thousand_forgeries_are_refused_and_genuine_requests_still_pass(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    genuine = [signed("genuine", event_body(f"Genuine question number {n}?", f"EvGenuine{n}")) for n in range(5)]
    for raw in genuine:
        assert await send(server.port, raw) == 200
    await wait_for(lambda: len(server.posted()) == len(genuine))
    reached = list(server.handled)
    gc.collect()  # what earlier tests left for the garbage collector says so now, not during the storm
    await asyncio.sleep(0)
    caplog.clear()

    forgeries = Forger(seed=20260302, valid_sent=genuine).make(FORGERIES)
    limit = asyncio.Semaphore(16)

    async def attempt(raw: Raw) -> tuple[str, int]:
        async with limit:
            return raw.kind, await send(server.port, raw)

    results = await asyncio.gather(*(attempt(raw) for raw in forgeries))
    let_through = [(kind, status) for kind, status in results if not 400 <= status < 500]
    assert let_through == [], f"forgeries not refused with a 4xx: {Counter(let_through)}"
    assert len({kind for kind, _ in results}) >= 15, "every kind of forgery was tried"

    # A genuine request after the storm still works, and it is the only thing that reached the engine.
    last = signed("genuine", event_body("Is the town hall recorded?", "EvAfter"))
    assert await send(server.port, last) == 200
    await wait_for(lambda: "Is the town hall recorded?" in server.posted())
    assert server.handled[len(reached):] == [e for e in server.handled[len(reached):] if isinstance(e, MessagePosted)]
    assert server.posted()[len(genuine):] == ["Is the town hall recorded?"], "no forged event reached the engine"

    records = caplog.records
    assert not [r for r in records if r.exc_info or r.levelno >= logging.ERROR], "no error, no traceback"
    assert "Traceback" not in caplog.text
    refusals = [r for r in records if r.name == GUARD_LOGGER]
    assert len(refusals) == FORGERIES, "exactly one log line per refused request"
    assert all(r.levelno in (logging.INFO, logging.WARNING) and "\n" not in r.getMessage() for r in refusals)
    assert not [r for r in records if r.name.startswith("slack_bolt")], "bolt never saw a forged request"


async def test_a_replay_is_refused_but_a_slack_retry_is_let_through_and_processed_once(server: Server) -> None:
    raw = signed("genuine", event_body("Where is the rollout plan?", "EvRetried"))
    assert await send(server.port, raw) == 200
    assert await send(server.port, raw) == 401, "the same request again, without a retry header"
    retry = Raw("retry", [*raw.headers, ("X-Slack-Retry-Num", "1"), ("X-Slack-Retry-Reason", "http_timeout")], raw.body)
    assert await send(server.port, retry) == 200, "Slack's retry of an event is not a replay"
    assert await send(server.port, retry) == 401, "but the same retry twice is"
    fresh_retry = signed("retry", event_body("Where is the rollout plan?", "EvRetried"), retry=2)
    assert await send(server.port, fresh_retry) == 200
    await wait_for(lambda: server.posted())
    await asyncio.sleep(0.2)
    assert server.posted() == ["Where is the rollout plan?"], "the event_id deduplication processes it once"


async def test_a_command_is_never_accepted_twice_even_with_a_retry_header(server: Server) -> None:
    body = command_body("help", server.fake.response_url("help"))
    raw = signed("command", body, content_type="application/x-www-form-urlencoded")
    assert await send(server.port, raw) == 200
    again = Raw("again", [*raw.headers, ("X-Slack-Retry-Num", "1")], raw.body)
    assert await send(server.port, again) == 401
    await wait_for(lambda: server.fake.responses)
    assert [type(e) for e in server.handled] == [CommandInvoked], "the command ran once"


async def test_a_signed_but_unparsable_body_is_refused_without_a_traceback(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    for body in (b'{"type": "event_callback", ', b"[1, 2, 3]", b"payload=%7Bnot-json"):
        assert await send(server.port, signed("signed garbage", body)) == 400
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_listener_binds_to_loopback_by_default(server: Server) -> None:
    runner = server.adapter._runner
    assert runner is not None
    assert {address[0] for address in runner.addresses} == {"127.0.0.1"}


def test_seen_signatures_are_forgotten_when_their_timestamp_expires() -> None:
    seen = SeenSignatures(window=300)
    now = time.time()
    ts = str(int(now))
    assert seen.admit(ts, "v0=a", retry=None, event=False, now=now)
    assert not seen.admit(ts, "v0=a", retry=None, event=False, now=now + 10)
    assert seen.admit(str(int(now) + 400), "v0=b", retry=None, event=False, now=now + 400)
    assert len(seen) == 1, "the first pair expired: its timestamp would be refused as stale anyway"

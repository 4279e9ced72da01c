"""Discord failing, and Steward coming through: the real discord.py client against the fake Discord.

429 storms (with Discord's rate-limit headers) longer than discord.py waits out by itself, 5xx bursts, answers that
come too late, the gateway dropped or its session invalidated, a reset token, and Steward locked out of a channel.
Whatever the fault: nothing is lost while Discord recovers in time, nothing is posted twice, retries are bounded
and spaced, each fault is one log line without a traceback, and the outbox drains afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy import select

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.render import nonce
from adapters.discord.sender import DiscordSender
from bot.app.delivery import DeliveryWorker
from bot.app.engine import Engine
from bot.app.wiring import build_engine
from bot.core.actions import Action, PostMessage
from bot.core.clock import SimulatedClock
from bot.core.events import Event, MessagePosted, ReactionAdded
from bot.i18n import translate
from storage.repository import T_OUTBOX, unreachable_channels
from tests.conftest import make_settings
from tests.e2e.discord import fake_discord as fd
from tests.e2e.discord.test_discord_e2e import ALICE, BOB, FACILITATORS, HELP, MONDAY, WS, community

OURS = ("bot", "adapters", "storage", "discord")  # loggers whose records must carry no traceback


@dataclass
class Discord:
    fake: fd.FakeDiscord
    engine: Engine
    adapter: DiscordAdapter
    clock: SimulatedClock
    worker: DeliveryWorker
    seen: list[Event]

    @property
    def sender(self) -> DiscordSender:
        assert isinstance(self.adapter.sender, DiscordSender)
        return self.adapter.sender

    async def queue(self, *actions: Action) -> None:
        self.engine._enqueue(actions, self.clock.now())
        await self.engine.flush()

    async def rows(self) -> dict[str, dict[str, Any]]:
        async with self.engine.db.connect() as conn:
            result = await conn.execute(select(T_OUTBOX).order_by(T_OUTBOX.c.id))
            return {r.key: dict(r._mapping) for r in result}

    async def drain(self, rounds: int = 30) -> int:
        for done in range(1, rounds + 1):
            await self.worker.run_once()
            pending = [r for r in (await self.rows()).values() if r["status"] in {"pending", "sending"}]
            if not pending:
                return done
            self.clock.set(max(self.clock.now(), min(r["due_at"] for r in pending)))
        raise AssertionError(f"the outbox did not drain in {rounds} rounds")

    def posts(self, channel: str = HELP) -> list[fd.Call]:
        return self.fake.calls_to("POST", rf"/channels/{channel}/messages")

    def messages_of(self, key: str) -> list[dict[str, Any]]:
        return [m for m in self.fake.messages.values() if m.get("nonce") == nonce(key)]

    async def say(self, mid: str, author: str, text: str) -> None:
        data = fd.message(mid, HELP, self.fake.members[author]["user"], text, timestamp=self.clock.now().isoformat())
        await self.fake.dispatch("MESSAGE_CREATE", data)
        await fd.wait_for(lambda: self.engine.state.message(WS, mid) is not None)
        self.clock.advance(timedelta(minutes=1))


@pytest.fixture
async def discord_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Discord]:
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    fake = community()
    await fake.start()
    settings = make_settings(
        f"sqlite:///{tmp_path}/steward.db", steward_timezone="Europe/Berlin", discord_token=fd.TOKEN,
        discord_application_id=fd.APP_ID, discord_api_url=fake.rest_url, discord_gateway_url=fake.gateway_url,
    )
    clock = SimulatedClock(MONDAY)
    engine = await build_engine(settings, clock)
    seen: list[Event] = []
    engine.observers.append(lambda event, actions, ctx: seen.append(event))
    adapter = DiscordAdapter(settings, engine, guild_ready_timeout=0.05)
    worker = DeliveryWorker(engine.db, [adapter.sender], clock, max_attempts=6)
    try:
        await asyncio.wait_for(adapter.start(), 10)
        yield Discord(fake, engine, adapter, clock, worker, seen)
    finally:
        await adapter.stop()
        await engine.db.dispose()
        await fake.stop()


def post(key: str, channel: str = HELP) -> PostMessage:
    return PostMessage(key=key, workspace=WS, channel=channel, text=f"Message {key}")


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info and r.name.startswith(OURS)]


def delivery_lines(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.app.delivery" and r.levelno >= level]


# --- 429 storms ---------------------------------------------------------------------------------------------
async def test_a_429_storm_longer_than_discord_py_waits_goes_back_to_the_outbox_and_posts_once(
    discord_world: Discord, caplog: pytest.LogCaptureFixture
) -> None:
    world = discord_world
    await world.queue(post("a"))
    world.fake.rate_limit_next = 8  # discord.py waits out five 429s itself (Retry-After each), then gives up
    world.fake.rate_limit_retry_after = 0.05

    await world.worker.run_once()
    [row] = (await world.rows()).values()
    assert row["status"] == "pending" and row["attempts"] == 0, "a rate limit is no failed attempt"
    assert len(world.posts()) == 5 and not world.messages_of("a")

    await world.drain()
    assert len(world.messages_of("a")) == 1 and len(world.posts()) == 8 + 1
    lines = delivery_lines(caplog)
    assert len(lines) == 1 and "rate limited" in lines[0] and "HTTP 429" in lines[0]
    assert not tracebacks(caplog)


async def test_a_retry_after_longer_than_discord_py_waits_is_kept_in_the_outbox(discord_world: Discord) -> None:
    world = discord_world
    await world.queue(post("a"))
    world.fake.rate_limit_next = 1
    world.fake.rate_limit_retry_after = 120.0  # beyond the client's max_ratelimit_timeout: it does not sleep
    await world.worker.run_once()
    [row] = (await world.rows()).values()
    assert row["status"] == "pending" and row["due_at"] == MONDAY + timedelta(seconds=120)
    await world.drain()
    assert len(world.messages_of("a")) == 1


# --- 5xx bursts -----------------------------------------------------------------------------------------------
async def test_a_burst_of_server_errors_is_retried_with_growing_backoff_then_posted_once(
    discord_world: Discord, caplog: pytest.LogCaptureFixture
) -> None:
    world = discord_world
    await world.queue(post("a"))
    world.fake.server_errors = 3
    due: list[float] = []
    for _ in range(10):
        before = world.clock.now()
        await world.worker.run_once()
        [row] = (await world.rows()).values()
        if row["status"] != "pending":
            break
        due.append((row["due_at"] - before).total_seconds())
        world.clock.set(row["due_at"])
    assert row["status"] == "sent" and row["attempts"] == 4
    assert len(due) == 3 and due == sorted(due) and due[0] >= 2, "spaced, and further apart each time"
    assert len(world.messages_of("a")) == 1 and len(world.posts()) == 4
    lines = delivery_lines(caplog)
    assert len(lines) == 3 and all("503" in line for line in lines)
    assert not tracebacks(caplog)


async def test_a_single_bad_gateway_is_retried_by_discord_py_within_the_send(discord_world: Discord) -> None:
    world = discord_world
    await world.queue(post("a"))
    world.fake.server_errors, world.fake.server_error_status = 1, 502
    await world.worker.run_once()
    [row] = (await world.rows()).values()
    assert row["status"] == "sent" and len(world.posts()) == 2 and len(world.messages_of("a")) == 1


# --- answers that come too late -------------------------------------------------------------------------------
async def test_a_post_whose_answer_times_out_is_not_posted_twice(
    discord_world: Discord, caplog: pytest.LogCaptureFixture
) -> None:
    world = discord_world
    world.sender.timeout = 0.2
    world.fake.slow_posts, world.fake.slow_seconds = 1, 1.0
    await world.queue(post("a"))
    await world.worker.run_once()
    [row] = (await world.rows()).values()
    assert row["status"] == "pending" and row["attempts"] == 1
    assert any("Discord did not answer within 0.2 s" in line for line in delivery_lines(caplog))

    await world.drain()
    [message] = world.messages_of("a")
    [row] = (await world.rows()).values()
    assert row["status"] == "sent" and row["platform_ref"] == f"{HELP}/{message['id']}"
    assert len(world.posts()) == 2 and all(c.body["enforce_nonce"] for c in world.posts())
    assert not tracebacks(caplog)


# --- the gateway going away -------------------------------------------------------------------------------------
async def test_a_dropped_gateway_resumes_and_each_event_is_processed_once(discord_world: Discord) -> None:
    world = discord_world
    await world.say("910000000000000101", ALICE, "Where is the template for the change canvas?")
    await world.fake.dispatch("MESSAGE_REACTION_ADD", {
        "user_id": BOB, "channel_id": HELP, "message_id": "910000000000000101", "guild_id": fd.GUILD_ID,
        "emoji": {"id": None, "name": "👀"}, "member": world.fake.members[BOB], "type": 0, "burst": False,
    })
    await fd.wait_for(lambda: any(isinstance(e, ReactionAdded) for e in world.seen))
    await world.fake.drop(4000)  # resumed: the fake replays the last event, as a flaky link would
    await fd.wait_for(lambda: world.fake.resumes == 1, timeout=10)
    await world.say("910000000000000102", BOB, "In the wiki under Templates.")
    assert [e.message_id for e in world.seen if isinstance(e, MessagePosted)] == [
        "910000000000000101", "910000000000000102"
    ]
    assert len([e for e in world.seen if isinstance(e, ReactionAdded)]) == 1
    assert world.fake.identifies == 1
    await world.queue(post("after"))
    await world.drain()
    assert len(world.messages_of("after")) == 1


async def test_an_invalidated_session_identifies_again_and_each_event_is_processed_once(
    discord_world: Discord,
) -> None:
    world = discord_world
    await world.say("910000000000000111", ALICE, "Who runs the champions call this week?")
    await world.fake.invalidate_session()
    await fd.wait_for(lambda: world.fake.identifies == 2, timeout=15)
    await fd.wait_for(lambda: world.adapter.client is not None and world.adapter.client.is_ready(), timeout=10)
    await world.say("910000000000000112", BOB, "Fran does, as every second week.")
    assert [e.message_id for e in world.seen if isinstance(e, MessagePosted)] == [
        "910000000000000111", "910000000000000112"
    ]


# --- the token stops working -----------------------------------------------------------------------------------
async def test_a_reset_token_fails_the_rows_for_good_and_steward_stays_up(
    discord_world: Discord, caplog: pytest.LogCaptureFixture
) -> None:
    world = discord_world
    await world.queue(post("a"), post("b"), post("c", FACILITATORS))
    world.fake.revoked = True
    await world.worker.run_once()
    assert {r["status"] for r in (await world.rows()).values()} == {"failed"}
    assert len(world.fake.calls_to("POST", r"/channels/\d+/messages")) == 1, "once refused, not tried again"
    lines = delivery_lines(caplog, logging.ERROR)
    assert len(lines) == 3 and "401" in lines[0] and "DISCORD_TOKEN" in lines[0]
    assert await world.worker.run_once() == 0

    # The gateway learns it too when it reconnects: the connection ends for good, and says so once.
    await world.fake.drop(4000)
    await fd.wait_for(lambda: world.adapter.ended is not None, timeout=10)
    assert "4004" in str(world.adapter.ended)
    assert any("DISCORD_TOKEN" in r.getMessage() for r in caplog.records if r.name == "adapters.discord.adapter")
    world.sender.token_refused = False  # as a new process with the same token would: the closed client decides
    await world.queue(post("d"))
    await world.worker.run_once()
    assert (await world.rows())["d"]["status"] == "failed", "no endless 'not connected yet'"
    assert not tracebacks(caplog)


# --- Steward locked out of a channel -------------------------------------------------------------------------------
def notices(world: Discord) -> list[fd.Call]:
    return world.posts(FACILITATORS)


@pytest.mark.parametrize(
    ("error", "reason"),
    [((403, 50001, "Missing Access"), "removed"), ((404, 10003, "Unknown Channel"), "gone")],
    ids=["missing-access", "unknown-channel"],
)
async def test_locked_out_of_a_channel_the_rows_fail_and_the_facilitators_hear_it_once(
    discord_world: Discord, caplog: pytest.LogCaptureFixture, error: tuple[int, int, str], reason: str
) -> None:
    world = discord_world
    world.fake.channel_errors[HELP] = error
    await world.queue(post("a"), post("b"))
    await world.drain()
    [notice] = notices(world)
    assert notice.body["content"] == translate(f"delivery.unreachable.{reason}", "en", channel="#help")
    await world.queue(post("c"))
    await world.drain()
    assert len(notices(world)) == 1, "not again for the next failure"
    rows = await world.rows()
    assert [rows[k]["status"] for k in "abc"] == ["failed"] * 3
    async with world.engine.db.connect() as conn:
        assert [(c["channel_id"], c["reason"]) for c in await unreachable_channels(conn, WS)] == [(HELP, reason)]
    lines = delivery_lines(caplog, logging.ERROR)
    assert len(lines) == 3 and all(str(error[1]) in line for line in lines)
    assert not tracebacks(caplog)


async def test_when_the_facilitators_channel_itself_is_locked_nothing_loops(
    discord_world: Discord, caplog: pytest.LogCaptureFixture
) -> None:
    world = discord_world
    world.fake.channel_errors[HELP] = (403, 50001, "Missing Access")
    world.fake.channel_errors[FACILITATORS] = (403, 50001, "Missing Access")
    await world.queue(post("a"), post("b"))
    assert await world.drain() <= 3
    assert len(notices(world)) == 1, "one notice tried; it finds the facilitators' channel locked too"
    assert {r["status"] for r in (await world.rows()).values()} == {"failed"}
    assert any("it is the facilitators' channel" in line for line in delivery_lines(caplog, logging.ERROR))
    assert await world.worker.run_once() == 0
    assert not tracebacks(caplog)

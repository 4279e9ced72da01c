"""The real discord.py client against the local fake Discord: events in, actions out, interactions answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.render import nonce
from bot.app.delivery import DeliveryWorker
from bot.app.engine import Engine
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.core.events import Event, MessagePosted, TimePassed
from bot.core.ports import AdapterStartError
from bot.i18n import translate
from tests.conftest import make_settings
from tests.e2e.discord import fake_discord as fd

FORUM, HELP, FACILITATORS = "810000000000000001", "810000000000000002", "810000000000000003"
SOLVED_TAG = "820000000000000001"
ALICE, BOB, CAROL, FACILITATOR = "600000000000000001", "600000000000000002", "600000000000000003", "600000000000000004"
MONDAY = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
WS = f"discord:{fd.GUILD_ID}"


@dataclass
class World:
    fake: fd.FakeDiscord
    engine: Engine
    adapter: DiscordAdapter
    clock: SimulatedClock
    worker: DeliveryWorker
    seen: list[Event]

    async def say(self, mid: str, channel: str, author: str, text: str, at: datetime, **extra: Any) -> None:
        """A member posts; returns once the engine has handled it."""
        self.clock.set(at)
        data = fd.message(mid, channel, self.fake.members[author]["user"], text,
                          timestamp=at.isoformat(), **extra)
        await self.fake.dispatch("MESSAGE_CREATE", data)
        await fd.wait_for(lambda: self.engine.state.message(WS, mid) is not None)

    async def forum_post(self, tid: str, author: str, title: str, text: str, at: datetime) -> None:
        self.fake.channels[tid] = fd.thread(tid, FORUM, author, title)
        await self.fake.dispatch("THREAD_CREATE", {**self.fake.channels[tid], "newly_created": True})
        await self.say(tid, tid, author, text, at)

    async def slash(self, member_id: str, sub: str, args: str | None = None, channel: str = HELP,
                    locale: str = "en-US") -> fd.Call:
        """Run `/steward <sub> [args]`; returns the private follow-up Steward sent."""
        options = [{"name": "args", "type": 3, "value": args}] if args else []
        data = {"id": "830000000000000001", "name": "steward", "type": 1,
                "options": [{"name": sub, "type": 1, "options": options}]}
        return await self._interact(2, data, member_id, channel, locale=locale)

    async def click(self, member_id: str, custom_id: str, posted: dict[str, Any]) -> fd.Call:
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(3, data, member_id, posted["channel_id"], posted)

    async def _interact(self, kind: int, data: dict[str, Any], member_id: str, channel: str,
                        message_data: dict[str, Any] | None = None, locale: str = "en-US") -> fd.Call:
        before = len(self.fake.followups())
        payload = self.fake.interaction(kind, data, channel=channel, member_id=member_id, message_data=message_data,
                                        locale=locale)
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        await fd.wait_for(lambda: len(self.fake.followups()) > before)
        callback = self.fake.calls_to("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
        assert callback and callback[0].body["type"] == 5, "deferred first, within Discord's 3 seconds"
        return self.fake.followups()[-1]


def community() -> fd.FakeDiscord:
    manage_guild = str(1 << 5)
    return fd.FakeDiscord(
        channels={
            FORUM: fd.forum_channel(FORUM, "ask", {SOLVED_TAG: "Solved", "820000000000000002": "howto"}),
            HELP: fd.text_channel(HELP, "help"),
            FACILITATORS: fd.text_channel(FACILITATORS, "facilitators"),
        },
        members={
            ALICE: fd.member(ALICE, "alice"),
            BOB: fd.member(BOB, "bob"),
            CAROL: fd.member(CAROL, "carol"),
            FACILITATOR: fd.member(FACILITATOR, "fran", permissions=manage_guild),
        },
    )


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
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
    worker = DeliveryWorker(engine.db, [adapter.sender], clock)
    try:
        await asyncio.wait_for(adapter.start(), 10)
        yield World(fake, engine, adapter, clock, worker, seen)
    finally:
        await adapter.stop()
        await engine.db.dispose()
        await fake.stop()


async def test_connects_with_exactly_the_needed_intents(world: World) -> None:
    assert world.fake.intents == int(discord.Intents(guilds=True, guild_messages=True, message_content=True,
                                                      guild_reactions=True, members=True).value)
    assert world.fake.calls_to("PUT", rf"/applications/{fd.APP_ID}/guilds/{fd.GUILD_ID}/commands")
    assert world.engine.state.channel(WS, FORUM).kind == "forum"
    assert world.engine.state.channel(WS, FACILITATORS).kind == "facilitators"


async def test_unanswered_forum_question_is_flagged_with_working_buttons_and_experts_are_dmed(world: World) -> None:
    # Last week bob answered a question about SAP access: that makes him the one to ask.
    earlier = MONDAY - timedelta(days=7)
    await world.forum_post("910000000000000001", ALICE, "SAP access", "How do I request SAP access for the "
                           "reporting tool?", earlier)
    await world.say("910000000000000002", "910000000000000001", BOB, "Request the SAP reporting role in the "
                    "access portal, approval takes a day.", earlier + timedelta(minutes=20))
    await world.forum_post("910000000000000003", CAROL, "SAP reporting", "Who can give me SAP access for the "
                           "reporting tool?", MONDAY)
    question = world.engine.state.question(WS, "910000000000000003")
    assert question is not None and question.channel_id == FORUM

    world.clock.set(MONDAY + timedelta(hours=6))
    await world.engine.handle(TimePassed(workspace=WS, at=world.clock.now()))
    await world.worker.run_once()

    flag = world.fake.calls_to("POST", r"/channels/910000000000000003/messages")
    assert len(flag) == 1 and f"<@{CAROL}>" in flag[0].body["content"]
    custom_ids = [c["custom_id"] for row in flag[0].body["components"] for c in row["components"]]
    assert custom_ids == [f"steward:{a}:910000000000000003" for a in ("claim", "solved", "not_a_question")]
    assert flag[0].body["nonce"] and flag[0].body["enforce_nonce"] is True
    dm = world.fake.calls_to("POST", r"/users/@me/channels")
    assert str(BOB) in {str(c.body["recipient_id"]) for c in dm}
    nudge = world.fake.calls_to("POST", rf"/channels/{world.fake.dm_channels[BOB]}/messages")
    assert nudge and "SAP" in nudge[0].body["content"]
    assert not world.fake.calls_to("POST", rf"/channels/{FORUM}/messages"), "a forum takes only posts"

    posted = next(m for m in world.fake.messages.values() if m["channel_id"] == "910000000000000003")
    reply = await world.click(BOB, "steward:claim:910000000000000003", posted)
    assert reply.body["flags"] & 64  # ephemeral
    assert world.engine.state.question(WS, "910000000000000003").claimed_by == BOB  # type: ignore[union-attr]

    await world.click(CAROL, "steward:solved:910000000000000003", posted)
    assert world.engine.state.question(WS, "910000000000000003").resolved  # type: ignore[union-attr]
    await world.worker.run_once()
    tagged = world.fake.calls_to("PATCH", r"/channels/910000000000000003")
    assert tagged and tagged[-1].body["applied_tags"] == [SOLVED_TAG]


async def test_an_answer_by_reply_counts(world: World) -> None:
    await world.say("910000000000000011", HELP, ALICE, "Does anyone know how to share a Teams channel with "
                    "an external partner?", MONDAY)
    await world.say("910000000000000013", HELP, BOB, "Yes: the owner enables guest access in the admin center.",
                    MONDAY + timedelta(minutes=5), reply_to="910000000000000011")
    question = world.engine.state.question(WS, "910000000000000011")
    assert question is not None and question.first_response_id == "910000000000000013"
    posted = [e for e in world.seen if isinstance(e, MessagePosted) and e.message_id == "910000000000000013"]
    assert posted[0].reply_to == "910000000000000011" and posted[0].channel == HELP


async def test_steward_subcommands_answer_privately(world: World) -> None:
    await world.say("910000000000000021", HELP, ALICE, "How do I export my Planner board to Excel?", MONDAY)
    listing = await world.slash(BOB, "unanswered")
    assert listing.body["flags"] & 64 and "Planner" in listing.body["content"]
    usage = await world.slash(BOB, "expert")
    assert "/steward expert add" in usage.body["content"]
    wrong = await world.slash(BOB, "mute", "someday")
    assert "someday" in wrong.body["content"]
    help_reply = await world.slash(BOB, "help")
    assert help_reply.body["embeds"] and "unanswered" in help_reply.body["embeds"][0]["description"]
    german = await world.slash(BOB, "mute", "irgendwann", locale="de")  # a client in German: replies in German
    assert "irgendwann" in german.body["content"] and german.body["content"] != wrong.body["content"]
    assert german.body["content"] == translate("mute.bad_duration", "de", value="irgendwann")
    # No message was posted into a channel for any of these.
    assert not world.fake.calls_to("POST", r"/channels/\d+/messages")


async def test_rate_limit_delays_but_does_not_lose_a_message(world: World) -> None:
    await world.say("910000000000000031", HELP, ALICE, "How do I book a room for the kickoff workshop?", MONDAY)
    world.fake.rate_limit_next = 1
    world.clock.set(MONDAY + timedelta(hours=6))
    await world.engine.handle(TimePassed(workspace=WS, at=world.clock.now()))
    await world.worker.run_once()
    flag_nonce = nonce("flag:910000000000000031")
    posts = [c for c in world.fake.calls_to("POST", rf"/channels/{HELP}/messages") if c.body["nonce"] == flag_nonce]
    assert len(posts) == 2  # the 429, then the retry discord.py made after Retry-After
    assert any(m["content"].startswith("This question") for m in world.fake.messages.values())
    assert str(posts[1].body["message_reference"]["message_id"]) == "910000000000000031"


async def test_reconnect_resumes_without_handling_a_message_twice(world: World) -> None:
    await world.say("910000000000000041", HELP, ALICE, "Where is the template for the change canvas?", MONDAY)
    await world.fake.reconnect()
    await fd.wait_for(lambda: world.fake.resumes == 1)
    await world.say("910000000000000042", HELP, BOB, "In the wiki under Templates.", MONDAY + timedelta(minutes=2))
    handled = [e for e in world.seen if isinstance(e, MessagePosted)]
    assert [e.message_id for e in handled] == ["910000000000000041", "910000000000000042"]
    assert world.fake.identifies == 1


async def test_wrong_token_and_missing_intents_are_clear_start_errors(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    fake = community()
    fake.refuse_privileged = True
    await fake.start()
    engine = await build_engine(make_settings(f"sqlite:///{tmp_path}/s.db"), SimulatedClock(MONDAY))
    try:
        for token, expected in (("wrong", "DISCORD_TOKEN"), (fd.TOKEN, "Privileged Gateway Intents")):
            settings = make_settings(f"sqlite:///{tmp_path}/s.db", discord_token=token,
                                     discord_api_url=fake.rest_url, discord_gateway_url=fake.gateway_url)
            with pytest.raises(AdapterStartError, match=expected):
                await asyncio.wait_for(DiscordAdapter(settings, engine, guild_ready_timeout=0.05).start(), 10)
    finally:
        await engine.db.dispose()
        await fake.stop()

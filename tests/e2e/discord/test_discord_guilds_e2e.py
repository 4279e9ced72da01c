"""Many servers and shards, with the real discord.py client against the local fake Discord: three servers served by
one deployment, the setup message when Steward is added to a server (once, also across a restart), a removal with
DISCORD_REMOVAL=keep and =purge, an outage that changes nothing, and two shards (events from servers on both
processed once each; ready only once every shard is)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import discord
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from adapters.discord.adapter import DiscordAdapter, StewardClient, fixed_shards
from adapters.discord.guilds import REMOVED, SETUP_SENT
from bot.app.delivery import DeliveryWorker
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.core.events import Event, MessagePosted
from bot.i18n import translate
from storage.models import Message
from storage.workspaces import T_OUTBOX
from tests.conftest import make_settings
from tests.e2e.discord import fake_discord as fd
from tests.e2e.discord.test_discord_e2e import ALICE, BOB, HELP, MONDAY, WS, World, community

GUILD_B, GUILD_C = "800000000004194305", "800000000008388609"  # with two shards: B on shard 0, C on shard 1
GUILD_NEW = "800000000012582913"
CHANNEL_B, CHANNEL_C, SYSTEM = "811000000000000001", "811000000000000002", "811000000000000003"
OWNER = "600000000000000042"
REMOVAL_LINE = "removed Steward"


def three_servers(**options: Any) -> fd.FakeDiscord:
    """The main community plus two more servers, each with a channel and a member."""
    fake = community()
    for gid, channel, name in ((GUILD_B, CHANNEL_B, "Rollout Team"), (GUILD_C, CHANNEL_C, "Werkstatt")):
        fake.guilds[gid] = fd.guild(gid, name, channels=[fd.text_channel(channel, "general", gid)],
                                    members=[fake.members[ALICE]])
    fake.channels.update({CHANNEL_B: fake.guilds[GUILD_B]["channels"][0],
                          CHANNEL_C: fake.guilds[GUILD_C]["channels"][0]})
    for name, value in options.items():
        setattr(fake, name, value)
    return fake


@asynccontextmanager
async def running(fake: fd.FakeDiscord, tmp_path: Path, *, wait: bool = True, **overrides: Any) -> AsyncIterator[World]:
    """Steward (a new engine on the database in `tmp_path`, and the Discord adapter) connected to `fake`."""
    settings = make_settings(
        f"sqlite:///{tmp_path}/steward.db", steward_timezone="Europe/Berlin", discord_token=fd.TOKEN,
        discord_application_id=fd.APP_ID, discord_api_url=fake.rest_url, discord_gateway_url=fake.gateway_url,
        **overrides,
    )
    clock = SimulatedClock(MONDAY)
    engine = await build_engine(settings, clock)
    seen: list[Event] = []
    engine.observers.append(lambda event, actions, ctx: seen.append(event))
    adapter = DiscordAdapter(settings, engine, guild_ready_timeout=0.05)
    worker = DeliveryWorker(engine.db, [adapter.sender], clock)
    started = asyncio.create_task(adapter.start())
    try:
        if wait:
            await asyncio.wait_for(started, 10)
        yield World(fake, engine, adapter, clock, worker, seen)
        await asyncio.wait_for(started, 10)
    finally:
        started.cancel()
        await asyncio.gather(started, return_exceptions=True)
        await adapter.stop()
        await engine.db.dispose()


async def identify_at_once(self: StewardClient, shard_id: int | None, *, initial: bool = False) -> None:
    """discord.py waits 5 s before each further shard's IDENTIFY (Discord's pace); the fake needs no pause."""


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[fd.FakeDiscord]:
    monkeypatch.setattr(StewardClient, "before_identify_hook", identify_at_once)
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    served = three_servers()
    await served.start()
    yield served
    await served.stop()


async def say(world: World, gid: str, mid: str, channel: str, text: str, author: str = ALICE) -> None:
    """A member (Alice) posts in a server's channel; returns once the engine has it."""
    data = fd.message(mid, channel, world.fake.members[author]["user"], text, timestamp=MONDAY.isoformat(),
                      guild_id=gid)
    await world.fake.dispatch("MESSAGE_CREATE", data)
    await fd.wait_for(lambda: world.engine.state.message(f"discord:{gid}", mid) is not None)


async def outbox(world: World, workspace: str) -> list[tuple[str, str | None]]:
    async with world.engine.db.connect() as conn:
        rows = await conn.execute(select(T_OUTBOX.c.status, T_OUTBOX.c.last_error)
                                  .where(T_OUTBOX.c.workspace_id == workspace))
    return [(r.status, r.last_error) for r in rows]


async def stored_messages(world: World, workspace: str) -> int:
    async with world.engine.db.connect() as conn:
        found = await conn.scalar(select(func.count()).select_from(Message).where(
            Message.workspace_id == workspace))  # type: ignore[arg-type]
    return int(found or 0)


def posts_to(fake: fd.FakeDiscord, channel: str) -> list[fd.Call]:
    return fake.calls_to("POST", rf"/channels/{channel}/messages")


def processed(world: World, mid: str) -> int:
    return sum(1 for e in world.seen if isinstance(e, MessagePosted) and e.message_id == mid)


# --- several servers ---------------------------------------------------------------------------------------------
async def test_one_deployment_serves_three_servers_each_in_its_own_workspace(fake: fd.FakeDiscord,
                                                                               tmp_path: Path) -> None:
    async with running(fake, tmp_path) as world:
        assert world.adapter.client is not None and world.adapter.client.shard_count == 1
        assert fake.identified == [[0, 1]], "one shard: Discord's recommendation for a small bot"
        assert {g.id for g in world.adapter.client.guilds} == {int(fd.GUILD_ID), int(GUILD_B), int(GUILD_C)}
        await say(world, fd.GUILD_ID, "910000000000000101", HELP, "How do I share a file in Teams?")
        await say(world, GUILD_B, "910000000000000102", CHANNEL_B, "Where is the rollout plan?")
        await say(world, GUILD_C, "910000000000000103", CHANNEL_C, "Wer kennt sich mit SAP aus?")
        assert world.engine.state.workspace(f"discord:{GUILD_B}").name == "Rollout Team"
        assert world.engine.state.message(f"discord:{GUILD_C}", "910000000000000102") is None
        assert not fake.calls_to("POST", r"/channels/\d+/messages"), "servers present at start get no setup message"
        assert await world.adapter.ready()


# --- joining ----------------------------------------------------------------------------------------------------
async def test_a_server_adding_steward_gets_one_setup_message_in_its_language_never_again(
    fake: fd.FakeDiscord, tmp_path: Path,
) -> None:
    new = fd.guild(GUILD_NEW, "Digitalwerkstatt", channels=[fd.text_channel(SYSTEM, "allgemein", GUILD_NEW)],
                   system_channel_id=SYSTEM, preferred_locale="de", owner_id=OWNER)
    async with running(fake, tmp_path) as world:
        await fake.join(new)
        await fd.wait_for(lambda: len(posts_to(fake, SYSTEM)) == 1)
        text = posts_to(fake, SYSTEM)[0].body["content"]
        assert text == translate("discord.setup", "de", server="Digitalwerkstatt", role="Facilitator")
        assert text.startswith("Hallo Digitalwerkstatt! Ich bin Steward")
        assert "/steward help" in text and "Running Steward on Discord" in text
        assert world.engine.state.workspace(f"discord:{GUILD_NEW}").settings.get(SETUP_SENT)
        assert fake.calls_to("PUT", rf"/applications/\d+/guilds/{GUILD_NEW}/commands"), "commands offered there"

    # A restart: the server comes with READY now (no join), and even a GUILD_CREATE as for a join sends nothing.
    async with running(fake, tmp_path) as world:
        assert world.adapter.client is not None and world.adapter.client.get_guild(int(GUILD_NEW)) is not None
        await fake.join(new)  # the join handler syncs the server's commands (the third time), then decides
        await fd.wait_for(lambda: len(fake.calls_to("PUT", rf"/applications/\d+/guilds/{GUILD_NEW}/commands")) == 3)
        await asyncio.sleep(0.2)
        assert len(posts_to(fake, SYSTEM)) == 1, "the setup message went once, ever"
        assert not fake.calls_to("POST", r"/users/@me/channels")


async def test_without_a_postable_system_channel_the_owner_gets_the_setup_message(fake: fd.FakeDiscord,
                                                                                  tmp_path: Path) -> None:
    new = fd.guild(GUILD_NEW, "Pilot Group", channels=[fd.text_channel(SYSTEM, "general", GUILD_NEW)],
                   system_channel_id=None, preferred_locale="en-GB", owner_id=OWNER)
    async with running(fake, tmp_path):
        await fake.join(new)
        await fd.wait_for(lambda: OWNER in fake.dm_channels and posts_to(fake, fake.dm_channels[OWNER]))
        [dm] = posts_to(fake, fake.dm_channels[OWNER])
        assert dm.body["content"].startswith(translate("discord.setup_owner", "en", server="Pilot Group"))
        assert translate("discord.setup", "en", server="Pilot Group", role="Facilitator") in dm.body["content"]
        assert not posts_to(fake, SYSTEM)


# --- leaving ----------------------------------------------------------------------------------------------------
async def thanks_waiting(world: World) -> None:
    """A message in the main server and a thank-you DM waiting in the outbox (the worker does not run)."""
    world.clock.set(MONDAY)
    await say(world, fd.GUILD_ID, "910000000000000121", HELP, "Morning all!", author=BOB)
    await world.slash(ALICE, "thanks", f"<@{BOB}> for the Planner tip")
    assert await outbox(world, WS) == [("pending", None)]


async def test_a_removal_with_keep_fails_the_waiting_messages_and_keeps_the_data(
    fake: fd.FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with running(fake, tmp_path) as world:
        await thanks_waiting(world)
        await fake.leave(fd.GUILD_ID)
        await fd.wait_for(lambda: any(REMOVAL_LINE in r.getMessage() for r in caplog.records))
        assert await outbox(world, WS) == [("failed", REMOVED)]
        assert await stored_messages(world, WS) == 1 and WS in world.engine.state.workspaces
        [line] = [r.getMessage() for r in caplog.records if REMOVAL_LINE in r.getMessage()]
        assert "1 unsent messages failed" in line and "DISCORD_REMOVAL=keep" in line and "data kept" in line
        await world.worker.run_once()
        assert not fake.calls_to("POST", r"/users/@me/channels"), "a failed row is never sent"
        await say(world, GUILD_B, "910000000000000122", CHANNEL_B, "The other servers go on")


async def test_a_removal_with_purge_deletes_the_server_data_and_only_its(
    fake: fd.FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with running(fake, tmp_path, discord_removal="purge") as world:
        await thanks_waiting(world)
        await say(world, GUILD_B, "910000000000000131", CHANNEL_B, "Stays")
        await fake.leave(fd.GUILD_ID)
        await fd.wait_for(lambda: any(REMOVAL_LINE in r.getMessage() for r in caplog.records))
        assert await stored_messages(world, WS) == 0 and await outbox(world, WS) == []
        assert WS not in world.engine.state.workspaces
        assert await stored_messages(world, f"discord:{GUILD_B}") == 1
        [line] = [r.getMessage() for r in caplog.records if REMOVAL_LINE in r.getMessage()]
        assert "purged" in line and "DISCORD_REMOVAL=purge" in line


async def test_an_outage_keeps_everything_and_sends_nothing(fake: fd.FakeDiscord, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running(fake, tmp_path, discord_removal="purge") as world:
        await thanks_waiting(world)
        posted = len(fake.calls)
        await fake.leave(fd.GUILD_ID, outage=True)
        client = world.adapter.client
        assert client is not None
        await fd.wait_for(lambda: (found := client.get_guild(int(fd.GUILD_ID))) is not None and found.unavailable)
        await say(world, GUILD_B, "910000000000000141", CHANNEL_B, "Handled after the outage event")
        assert await outbox(world, WS) == [("pending", None)] and await stored_messages(world, WS) == 1
        assert not any(REMOVAL_LINE in r.getMessage() for r in caplog.records)
        assert [c for c in fake.calls[posted:] if c.method != "GET"] == [], "nothing sent to Discord"


# --- two shards -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shards", ["auto", "2"])
async def test_two_shards_split_the_servers_and_each_event_is_processed_once(
    fake: fd.FakeDiscord, tmp_path: Path, shards: str,
) -> None:
    fake.shard_count = 2 if shards == "auto" else 1  # a fixed number wins over Discord's recommendation
    async with running(fake, tmp_path, discord_shards=shards) as world:
        assert sorted(fake.identified) == [[0, 2], [1, 2]]
        client = world.adapter.client
        assert client is not None and client.shard_count == 2 and sorted(client.shards) == [0, 1]
        assert {g.id: g.shard_id for g in client.guilds} == {
            int(g): fd.shard_of(g, 2) for g in (fd.GUILD_ID, GUILD_B, GUILD_C)}
        assert {fd.shard_of(GUILD_B, 2), fd.shard_of(GUILD_C, 2)} == {0, 1}
        await say(world, GUILD_B, "910000000000000151", CHANNEL_B, "From shard zero")
        await say(world, GUILD_C, "910000000000000152", CHANNEL_C, "Von Shard eins")
        await say(world, fd.GUILD_ID, "910000000000000153", HELP, "Also shard one")
        assert [processed(world, m) for m in ("910000000000000151", "910000000000000152", "910000000000000153")] \
            == [1, 1, 1]
        assert await world.adapter.ready()


async def test_ready_only_once_every_shard_is(fake: fd.FakeDiscord, tmp_path: Path) -> None:
    fake.shard_count, fake.held_shards = 2, {1}
    async with running(fake, tmp_path, wait=False) as world:
        await fd.wait_for(lambda: world.adapter.shards_ready == {0})
        assert not await world.adapter.ready(), "shard 1 has no READY yet"
        await fake.release()
        await fd.wait_for(lambda: world.adapter.shards_ready == {0, 1})
        for _ in range(200):
            if await world.adapter.ready():
                break
            await asyncio.sleep(0.02)
        assert await world.adapter.ready()


def test_the_shard_and_removal_settings_take_auto_a_number_keep_or_purge_and_refuse_the_rest() -> None:
    default = make_settings("sqlite:///x.db")
    assert (default.discord_shards, fixed_shards(default), default.discord_removal) == ("auto", None, "keep")
    assert fixed_shards(make_settings("sqlite:///x.db", discord_shards=" 3 ")) == 3
    for wrong in ("0", "two", "-1"):
        with pytest.raises(ValidationError, match=r"DISCORD_SHARDS .* must be 'auto' or a number of shards"):
            make_settings("sqlite:///x.db", discord_shards=wrong)
    with pytest.raises(ValidationError, match="discord_removal"):
        make_settings("sqlite:///x.db", discord_removal="forget")

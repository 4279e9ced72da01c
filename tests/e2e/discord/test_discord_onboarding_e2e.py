"""Onboarding and recognition through the real discord.py client against the local fake Discord: a member joining
the server is welcomed by one DM (naming the welcome channel and its purpose), and `/steward thanks` reaches the
thanked member privately."""

from __future__ import annotations

import discord

from bot.changes import Set
from tests.e2e.discord import fake_discord as fd
from tests.e2e.discord.test_discord_e2e import (  # noqa: F401  (`world` is the fixture these tests share)
    ALICE,
    BOB,
    FACILITATOR,
    HELP,
    MONDAY,
    WS,
    World,
    world,
)

NINA = "600000000000000009"


def _guild(world: World) -> discord.Guild:  # noqa: F811
    client = world.adapter.client
    assert client is not None
    found = client.get_guild(int(fd.GUILD_ID))
    assert found is not None
    return found


async def test_a_member_joining_the_server_gets_one_welcome_dm(world: World) -> None:  # noqa: F811
    # The server's welcome channel is #help; a facilitator says what it is for.
    await world.fake.dispatch("GUILD_UPDATE", {"id": fd.GUILD_ID, "name": "Change Community", "owner_id": "1",
                                               "roles": world.fake.roles, "system_channel_id": HELP})
    await fd.wait_for(lambda: _guild(world).system_channel is not None)
    # A facilitator by `/steward facilitator add` (the fake's roles grant nobody Manage Server).
    Set.member(WS, FACILITATOR, is_facilitator=True).apply(world.engine.state)
    reply = await world.slash(FACILITATOR, "channel", "purpose Change agents share what works in the rollout.")
    assert "Newcomers to" in reply.body["content"]

    world.fake.members[NINA] = fd.member(NINA, "nina")
    await world.fake.dispatch("GUILD_MEMBER_ADD", {**world.fake.members[NINA], "guild_id": fd.GUILD_ID})
    await fd.wait_for(lambda: world.engine.state.member(WS, NINA).welcomed_at is not None)
    await world.worker.run_once()

    opened = world.fake.calls_to("POST", r"/users/@me/channels")
    assert [str(c.body["recipient_id"]) for c in opened] == [NINA]
    [welcome] = world.fake.calls_to("POST", rf"/channels/{world.fake.dm_channels[NINA]}/messages")
    text = welcome.body["content"]
    assert f"Welcome to <#{HELP}>" in text and "Change agents share what works in the rollout." in text
    member = world.engine.state.member(WS, NINA)
    assert member.joined_at == MONDAY and member.joined_channel == HELP


async def test_steward_thanks_reaches_the_thanked_member_privately(world: World) -> None:  # noqa: F811
    await world.say("910000000000000051", HELP, BOB, "Morning all!", MONDAY)
    reply = await world.slash(ALICE, "thanks", f"<@{BOB}> for the Planner tip")
    assert reply.body["flags"] & 64 and f"<@{BOB}>" in reply.body["content"]
    await world.worker.run_once()
    [dm] = world.fake.calls_to("POST", rf"/channels/{world.fake.dm_channels[BOB]}/messages")
    assert f"<@{ALICE}>" in dm.body["content"] and "for the Planner tip" in dm.body["content"]
    assert not world.fake.calls_to("POST", rf"/channels/{HELP}/messages"), "thanks are never posted in a channel"
